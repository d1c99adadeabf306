/**
 * Settings my_init takes from its environment, with their defaults.
 *
 * @module
 */

/**
 * Seconds between TERM and KILL for the main command and for the services.
 * phusion's default is 30 s, which a default `docker stop` (10 s) cuts off
 * with SIGKILL in the middle of the shutdown, post-shutdown scripts and all.
 * With these defaults the whole shutdown ends by its deadline, 2 x 3 + 2 =
 * 8 s (shutdown_budget.ts), whatever hangs: 2 s of a 10 s stop are left.
 */
export const DEFAULT_KILL_PROCESS_TIMEOUT = 3;
/** Seconds all remaining processes get at exit between TERM and KILL. */
export const DEFAULT_KILL_ALL_PROCESSES_TIMEOUT = 2;
/** Where startup scripts live unless ENV_INIT_DIRECTORY says otherwise. */
export const DEFAULT_INIT_DIRECTORY = "/etc/my_init.d";

/** The settings. */
export interface Config {
  /** Milliseconds. */
  killProcessTimeout: number;
  /** Milliseconds. */
  killAllProcessesTimeout: number;
  initDirectory: string;
}

/**
 * A number of seconds as phusion's `float()` reads it, less its oddities:
 * digits with an optional fraction and exponent (`3`, `0.5`, `1e3`, `+2`),
 * not `nan`, `inf` or a minus; and, unlike JavaScript's Number(), not `0x10`.
 */
const SECONDS = /^\s*\+?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;

/**
 * Reads the settings from `env`; bad values produce a warning in `warnings`
 * and the default, never an error (PID 1 must come up). Huge values are
 * kept: a deadline beyond one timer's 2^31-1 ms is chained (time.ts), and
 * one beyond a double (`1e400`) is refused.
 */
export function readConfig(
  env: Readonly<Record<string, string | undefined>>,
): { config: Config; warnings: string[] } {
  const warnings: string[] = [];
  const seconds = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined) return fallback * 1000;
    const n = Number(raw);
    if (!SECONDS.test(raw) || !Number.isFinite(n)) {
      warnings.push(
        `Invalid ${name} "${raw}": expected a number of seconds; using ${fallback}`,
      );
      return fallback * 1000;
    }
    return Math.round(n * 1000);
  };
  const initDirectory = env.ENV_INIT_DIRECTORY;
  return {
    config: {
      killProcessTimeout: seconds(
        "KILL_PROCESS_TIMEOUT",
        DEFAULT_KILL_PROCESS_TIMEOUT,
      ),
      killAllProcessesTimeout: seconds(
        "KILL_ALL_PROCESSES_TIMEOUT",
        DEFAULT_KILL_ALL_PROCESSES_TIMEOUT,
      ),
      initDirectory: initDirectory ? initDirectory : DEFAULT_INIT_DIRECTORY,
    },
    warnings,
  };
}

/**
 * Milliseconds to wait for the reap after SIGKILL (or runit's `k`) before
 * carrying on without the process: only a process stuck in the kernel
 * (uninterruptible sleep, NFS) survives KILL, and PID 1 must not hang on it.
 */
export const KILL_WAIT_MS = 5000;
