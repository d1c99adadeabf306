/**
 * my_init's command line: phusion's flags plus ours, parsed without side
 * effects so every outcome is unit tested.
 *
 * @module
 */

import { errorMessage } from "../lib/error_message.ts";
import { parseSignal, signalName } from "../lib/signals.ts";
import { HANDLED_SIGNAL_NUMBERS, HANDLED_SIGNALS } from "./signal_policy.ts";

/** The version printed by `--version`. */
export const VERSION = "0.1.0";

/** Default of `--wait-for-services` given without a value, in seconds. */
export const DEFAULT_WAIT_FOR_SERVICES = 30;

/** Exit code of a usage error (argparse's, which phusion's my_init used). */
export const EXIT_USAGE = 2;
/** Exit code of a failed start: a startup script, the service wait. */
export const EXIT_FAILURE = 1;
/**
 * Exit code of a my_init started where another one runs the container
 * (init/instance_check.ts): a misuse, like a usage error.
 */
export const EXIT_SECOND_INSTANCE = 2;
/** Exit code when stopped before the main command or services ran (phusion's). */
export const EXIT_ABORTED = 2;

/** The usage text, pinned by `cli_test.ts`. */
export const USAGE = `Usage: my_init [OPTIONS] [--] [MAIN_COMMAND [ARGS...]]

Init system for containers: imports /etc/container_environment, runs
/etc/my_init.d/* and /etc/rc.local, starts runit on /etc/service, reaps
zombies, and shuts everything down in order on SIGTERM or SIGINT. With a
MAIN_COMMAND, runs it after start-up and exits with its exit status.

Options:
  --enable-insecure-key       Install the insecure SSH key for root
  --skip-startup-files        Do not run /etc/my_init.d/* and /etc/rc.local
  --skip-runit                Do not start runit (needs a MAIN_COMMAND)
  --no-kill-all-on-exit       Do not kill all processes on exit
  --quiet                     Only print warnings and errors
  -v, --verbose               Also print debug messages
  --rewrite FROM:TO           Deliver signal FROM to the main command as TO
                              (repeatable; TO=0 drops it), e.g. TERM:QUIT
  --wait-for-services[=SECS]  Start MAIN_COMMAND only once every enabled
                              service is up (default ${DEFAULT_WAIT_FOR_SERVICES} s, then fail)
  --status                    Print the state of every runit service; exit 0
                              only if every enabled one is up (HEALTHCHECK)
  -h, --help                  Show this help and exit
  --version                   Show the version and exit

Environment:
  KILL_PROCESS_TIMEOUT        Seconds a process gets between TERM and KILL
  KILL_ALL_PROCESSES_TIMEOUT  Seconds all processes get at exit before KILL
  ENV_INIT_DIRECTORY          Startup scripts directory (/etc/my_init.d)

Exit status: the main command's (128+N when signal N killed it, 127 when
it is not found, 126 when it cannot be executed); without one, 0 after a
stop, else runit's. ${EXIT_FAILURE} when a startup script fails, --wait-for-services
times out, or --skip-runit lacks a main command; ${EXIT_USAGE} on a usage error or
when another my_init already runs the container (nothing is done then);
${EXIT_ABORTED} when stopped before the main command or the services ran.
--status: 0 when every enabled service is up, else 1.
`;

/** Options after parsing. */
export interface Options {
  enableInsecureKey: boolean;
  skipStartupFiles: boolean;
  skipRunit: boolean;
  killAllOnExit: boolean;
  logLevel: 1 | 2 | 3;
  /** Signal received -> signal delivered to the main command (0: drop). */
  rewrites: Map<number, number>;
  /** Seconds to wait for services before the main command, if asked. */
  waitForServices?: number;
  /** The main command; empty for daemon mode. */
  command: string[];
}

/** What the command line asks for. */
export type Invocation =
  | { readonly kind: "run"; readonly options: Options }
  | { readonly kind: "status"; readonly options: Options }
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | {
    readonly kind: "usage-error";
    readonly message: string;
    readonly exitCode: number;
  };

const VALUE_FLAGS = new Set(["--rewrite"]);

/** The flag whose value is optional. */
const WAIT_FLAG = "--wait-for-services";

/**
 * Whether `word`, after a bare `--wait-for-services`, is its value: a
 * number of seconds, given as the next word as GNU tools accept it
 * (`--wait-for-services 5 -- cmd`). A command named like a number is
 * unlikely; running `5` as one was the alternative.
 */
function isWaitValue(word: string | undefined): boolean {
  return word !== undefined && /^([0-9]+\.?[0-9]*|\.[0-9]+)$/.test(word);
}

/**
 * Splits argv where the main command starts: at `--`, or at the first word
 * that is not an option (so `my_init echo --quiet` runs `echo --quiet`, as
 * phusion's argparse REMAINDER-like parsing did for positional commands).
 */
export function splitCommand(
  args: readonly string[],
): { flags: string[]; command: string[] } {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      return { flags: args.slice(0, i), command: args.slice(i + 1) };
    }
    if (!a.startsWith("-") || a === "-") {
      return { flags: args.slice(0, i), command: args.slice(i) };
    }
    if (VALUE_FLAGS.has(a) || (a === WAIT_FLAG && isWaitValue(args[i + 1]))) {
      i++;
    }
  }
  return { flags: [...args], command: [] };
}

function usageError(message: string): Invocation {
  // argparse, which phusion's my_init used, exits 2 on usage errors.
  return { kind: "usage-error", message, exitCode: EXIT_USAGE };
}

const NO_FLAGS = {} as Record<string, undefined>;

/**
 * Parses my_init's argv. Never throws. The option parser is loaded only
 * when there are flags to parse: it is the costliest step of PID 1's own
 * start-up (see lib/parse_options.ts), and the common cases (`my_init`,
 * `my_init -- CMD`) have none.
 */
export async function parseArgs(
  args: readonly string[],
): Promise<Invocation> {
  const { flags, command } = splitCommand(args);
  // `--wait-for-services` takes an optional value, which parseArgs cannot
  // express: join a separate one to it, or give the bare flag its default.
  const normalized: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    if (flags[i] !== WAIT_FLAG) normalized.push(flags[i]);
    else if (isWaitValue(flags[i + 1])) {
      normalized.push(`${WAIT_FLAG}=${flags[++i]}`);
    } else normalized.push(`${WAIT_FLAG}=${DEFAULT_WAIT_FOR_SERVICES}`);
  }
  let values;
  try {
    const { parseOptions } = flags.length > 0
      ? await import("../lib/parse_options.ts")
      : { parseOptions: undefined };
    ({ values } = parseOptions === undefined
      ? { values: NO_FLAGS }
      : parseOptions({
        args: normalized,
        strict: true,
        allowPositionals: false,
        options: {
          "enable-insecure-key": { type: "boolean" },
          "skip-startup-files": { type: "boolean" },
          "skip-runit": { type: "boolean" },
          "no-kill-all-on-exit": { type: "boolean" },
          quiet: { type: "boolean" },
          verbose: { type: "boolean", short: "v" },
          rewrite: { type: "string", multiple: true },
          "wait-for-services": { type: "string" },
          status: { type: "boolean" },
          help: { type: "boolean", short: "h" },
          version: { type: "boolean" },
        },
      }));
  } catch (e) {
    return usageError(
      errorMessage(e).split("\n")[0],
    );
  }
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };

  const rewrites = new Map<number, number>();
  for (const r of values.rewrite ?? []) {
    const m = /^([^:]+):([^:]+)$/.exec(r);
    const from = m ? parseSignal(m[1]) : undefined;
    const to = m ? (m[2] === "0" ? 0 : parseSignal(m[2])) : undefined;
    if (from === undefined || to === undefined) {
      return usageError(
        `Invalid --rewrite "${r}": expected FROM:TO signal names, e.g. TERM:QUIT`,
      );
    }
    if (!HANDLED_SIGNAL_NUMBERS.includes(from)) {
      return usageError(
        `Invalid --rewrite "${r}": my_init never receives ${
          signalName(from)
        }; FROM must be one of ${
          HANDLED_SIGNALS.map((n) => n.slice(3)).join(", ")
        }`,
      );
    }
    rewrites.set(from, to);
  }

  let waitForServices: number | undefined;
  if (values["wait-for-services"] !== undefined) {
    const text = values["wait-for-services"];
    waitForServices = Number(text);
    if (
      text.trim() === "" || !Number.isFinite(waitForServices) ||
      waitForServices < 0
    ) {
      return usageError(
        `Invalid --wait-for-services "${text}": expected seconds`,
      );
    }
  }

  const options: Options = {
    enableInsecureKey: values["enable-insecure-key"] ?? false,
    skipStartupFiles: values["skip-startup-files"] ?? false,
    skipRunit: values["skip-runit"] ?? false,
    killAllOnExit: !(values["no-kill-all-on-exit"] ?? false),
    logLevel: values.verbose ? 3 : values.quiet ? 1 : 2,
    rewrites,
    waitForServices,
    command,
  };
  if (values.status) return { kind: "status", options };
  if (options.skipRunit && command.length === 0) {
    // phusion's words and exit status for this one.
    return {
      kind: "usage-error",
      message: "When --skip-runit is given, you must also pass a main command.",
      exitCode: 1,
    };
  }
  if (options.skipRunit && waitForServices !== undefined) {
    return usageError(
      "--wait-for-services cannot be combined with --skip-runit",
    );
  }
  return { kind: "run", options };
}
