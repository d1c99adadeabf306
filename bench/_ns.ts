/**
 * Running an init as PID 1 of a fresh PID namespace, on a private /etc.
 *
 * Our my_init reads and WRITES /etc (/etc/container_environment*), and reads
 * /etc/service, /etc/my_init.d, /etc/rc.local and the shutdown directories.
 * Run on the host's /etc it would pollute it and pick up the host's runit
 * services (Debian's runit ships two). So every init, ours and the peers
 * alike (same set-up cost for all), starts in its own mount namespace with
 * an overlay over /etc whose upper layer is a temporary directory, and a
 * bind of the sandbox's own service directory over /etc/service.
 *
 * @module
 */

import { childrenOf, poll } from "./_proc.ts";

/** A per-run directory: overlay layers, services, a log. */
export interface Sandbox {
  dir: string;
  /** Bound over /etc/service inside; readable from the host. */
  service: string;
  /** stdout and stderr of the init. */
  log: string;
}

/** The paths of /etc that my_init reads or writes, hidden in the sandbox. */
const HIDDEN = [
  "/etc/service",
  "/etc/my_init.d",
  "/etc/my_init.pre_shutdown.d",
  "/etc/my_init.post_shutdown.d",
  "/etc/container_environment",
  "/etc/container_environment.sh",
  "/etc/container_environment.json",
  "/etc/rc.local",
];

/** Creates a sandbox under `root` with `services` (name -> run script). */
export function makeSandbox(
  root: string,
  services: Record<string, string> = {},
): Sandbox {
  const dir = Deno.makeTempDirSync({ dir: root, prefix: "sb-" });
  for (const d of ["upper", "work", "service"]) Deno.mkdirSync(`${dir}/${d}`);
  for (const [name, run] of Object.entries(services)) {
    Deno.mkdirSync(`${dir}/service/${name}`);
    Deno.writeTextFileSync(`${dir}/service/${name}/run`, run, { mode: 0o755 });
  }
  // runsvdir ignores a service directory modified within the current second
  // (it rescans only once the mtime is a second old, to miss no change), so a
  // fresh directory would delay the boot by up to 1 s. In an image it is old.
  const past = new Date(Date.now() - 60_000);
  Deno.utimeSync(`${dir}/service`, past, past);
  return { dir, service: `${dir}/service`, log: `${dir}/log` };
}

/** Removes a sandbox (its mounts died with its namespace). */
export function removeSandbox(sandbox: Sandbox): void {
  try {
    Deno.removeSync(sandbox.dir, { recursive: true });
  } catch { /* best effort: a leftover temp dir is removed with the root */ }
}

function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * sh commands that put the sandbox's overlay over /etc, replace the paths
 * my_init uses by empty ones, and bind the service directory. They must run
 * in a mount namespace of their own (unshare --mount-proc makes one, with
 * private propagation, so nothing leaks to the host).
 */
export function etcSetup(sandbox: Sandbox): string {
  const d = shQuote(sandbox.dir);
  return [
    "set -e",
    `mount -t overlay overlay -o lowerdir=/etc,upperdir=${d}/upper,workdir=${d}/work /etc`,
    `rm -rf ${HIDDEN.join(" ")}`,
    // An empty /etc/container_environment, as both images ship it: phusion's
    // my_init imports and exports the environment only when it exists (ours
    // creates it), so each does the same work as in its image.
    "mkdir /etc/service /etc/my_init.d /etc/my_init.pre_shutdown.d /etc/my_init.post_shutdown.d",
    "mkdir -m 700 /etc/container_environment",
    `mount --bind ${shQuote(sandbox.service)} /etc/service`,
  ].join("\n");
}

/** unshare's flags for a fresh PID namespace whose PID 1 dies with unshare. */
export const UNSHARE_PID = [
  "unshare",
  "--pid",
  "--fork",
  "--mount-proc",
  "--kill-child",
];

/**
 * argv that runs `init` as PID 1 of a fresh PID namespace on the sandbox's
 * /etc (the set-up sh execs the init, so the init keeps PID 1), with its
 * output appended to the sandbox's log.
 */
export function inNamespace(
  sandbox: Sandbox,
  init: readonly string[],
): string[] {
  const script = `${etcSetup(sandbox)}\nexec "$@" >>${
    shQuote(sandbox.log)
  } 2>&1`;
  return [...UNSHARE_PID, "sh", "-c", script, "sh", ...init];
}

/**
 * argv that runs `argv` (e.g. hyperfine) in one private mount namespace
 * with the sandbox's /etc; the PID namespaces it then makes inherit it.
 */
export function withPrivateEtc(
  sandbox: Sandbox,
  argv: readonly string[],
): string[] {
  const script = `${etcSetup(sandbox)}\nexec "$@"`;
  return [
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "sh",
    "-c",
    script,
    "sh",
    ...argv,
  ];
}

/**
 * Host PID of the namespace's PID 1 (unshare's only child), once unshare
 * has forked it and it runs the executable `exe` (a real path, compared
 * with /proc/PID/exe: launchers and the set-up sh exec first, and the
 * runtime may run under another name), within `ms`.
 */
export async function findPid1(
  unsharePid: number,
  exe: string | undefined,
  ms = 10_000,
): Promise<number | undefined> {
  return await poll(
    () => {
      const [pid] = childrenOf(unsharePid);
      if (pid === undefined) return undefined;
      if (exe === undefined) return pid;
      return runs(pid, exe) ? pid : undefined;
    },
    ms,
    2,
  );
}

/** Whether process `pid` runs the executable at real path `exe`. */
export function runs(pid: number, exe: string): boolean {
  try {
    return Deno.realPathSync(`/proc/${pid}/exe`) === exe;
  } catch {
    return false;
  }
}
