/**
 * The apt-get commands install_clean runs, and what happens after a failure,
 * decided without side effects.
 *
 * @module
 */

/** The directory apt-get update fills and install_clean empties. */
export const LISTS_DIR = "/var/lib/apt/lists";

/** One step of the plan. */
export type Step =
  | {
    readonly kind: "run";
    /** The command; argv[0] is searched in PATH. */
    readonly argv: readonly string[];
    /** Whether it runs even after an earlier step failed. */
    readonly always: boolean;
  }
  | {
    readonly kind: "clear-lists";
    /** The lists directory. */
    readonly dir: string;
    readonly always: true;
  };

/** The whole plan: steps in order, and the variables every child gets. */
export interface Plan {
  /** Set in each child's environment, over the caller's values. */
  readonly env: Readonly<Record<string, string>>;
  readonly steps: readonly Step[];
}

/** What to install; see `parseArgs()` in cli.ts. */
export interface Request {
  /** Whether to install recommended packages too. */
  readonly recommends: boolean;
  /** apt-get install's own arguments: options and packages, in order. */
  readonly aptArgs: readonly string[];
}

/**
 * The steps for `request`. phusion's install_clean chained everything with
 * `&&`, so a failed install left the lists in the image layer; clean and
 * the emptying of the lists here run regardless. autoremove does not run
 * after a failure: with a half-installed package it would act on a broken
 * dependency state.
 */
export function planInstall(request: Request): Plan {
  const install = ["apt-get", "install", "-y"];
  if (!request.recommends) install.push("--no-install-recommends");
  return {
    // No debconf questions: a Dockerfile build has no one to answer them.
    env: { DEBIAN_FRONTEND: "noninteractive" },
    steps: [
      { kind: "run", argv: ["apt-get", "update"], always: false },
      { kind: "run", argv: [...install, ...request.aptArgs], always: false },
      { kind: "run", argv: ["apt-get", "autoremove", "-y"], always: false },
      { kind: "run", argv: ["apt-get", "clean"], always: true },
      { kind: "clear-lists", dir: LISTS_DIR, always: true },
    ],
  };
}

/**
 * Runs `steps` through `perform` (which returns an exit status) and returns
 * the status of the first step that failed, or 0. Steps not marked
 * `always` are skipped once a step has failed or once `stopSignal()` names
 * the signal that asked install_clean to stop (`docker stop` of
 * `docker run IMAGE install_clean x`): the clean-up still runs, and a stop
 * that no step reported as a failure gives 128+N, as a shell would.
 */
export function executePlan(
  steps: readonly Step[],
  perform: (step: Step) => number,
  stopSignal: () => number | undefined = () => undefined,
): number {
  let status = 0;
  for (const step of steps) {
    if ((status !== 0 || stopSignal() !== undefined) && !step.always) continue;
    const code = perform(step);
    if (status === 0) status = code;
  }
  const stop = stopSignal();
  return status === 0 && stop !== undefined ? 128 + stop : status;
}

/** The warning for a step that failed with `status`. */
export function failureText(step: Step, status: number): string {
  const what = step.kind === "run"
    ? step.argv.slice(0, 2).join(" ")
    : `emptying ${step.dir}`;
  return `install_clean: warning: ${what} failed with status ${status}\n`;
}
