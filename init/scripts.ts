/**
 * Startup and shutdown scripts: which to run, and running them.
 *
 * @module
 */

import { exitCodeOf, type ExitStatus } from "../lib/exit_status.ts";
import { signalName, SIGNALS } from "../lib/signals.ts";
import { compareByBytes } from "./env.ts";
import { start, stopChild } from "./children.ts";
import type { RunState } from "./run_state.ts";
import { seconds } from "./shutdown_budget.ts";
import { within } from "./time.ts";
import * as log from "./log.ts";

/**
 * The scripts of `dir` that run, in byte order of their names (phusion
 * sorted names the same way): regular files (symlinks followed) with an
 * execute bit. A missing directory has none.
 */
export function listScripts(dir: string): string[] {
  const names: string[] = [];
  try {
    for (const entry of Deno.readDirSync(dir)) names.push(entry.name);
  } catch {
    return [];
  }
  names.sort(compareByBytes);
  return names.map((n) => `${dir}/${n}`).filter(isExecutableFile);
}

/** Whether `path` is a regular file (links followed) with an execute bit. */
export function isExecutableFile(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && ((st.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * The one line that names the startup directory my_init runs. phusion's
 * my_init runs ENV_INIT_DIRECTORY silently instead of /etc/my_init.d, and
 * so skips the image's own scripts (syslog-ng's start among them): another
 * directory says so.
 */
export function startupDirectoryLine(dir: string, defaultDir: string): string {
  return dir === defaultDir
    ? `Running the startup scripts in ${dir}...`
    : `Running the startup scripts in ${dir} (ENV_INIT_DIRECTORY), not those in ${defaultDir}...`;
}

/**
 * The message for a script that failed, naming it and its status. phusion
 * printed WEXITSTATUS, which is 0 for a script killed by a signal; we say
 * which signal.
 */
export function describeFailure(path: string, status: ExitStatus): string {
  if (status.kind === "signaled") {
    return `${path} failed with status ${exitCodeOf(status)} (killed by ${
      signalName(status.signal)
    })`;
  }
  return `${path} failed with status ${exitCodeOf(status)}`;
}

/** How long a shutdown script may run, in ms (see shutdown_budget.ts). */
export interface ScriptLimits {
  /** Until its SIGTERM. */
  graceMs: number;
  /** Between its SIGTERM and its SIGKILL. */
  termMs: number;
  /** After its SIGKILL, before carrying on without it. */
  killWaitMs: number;
}

/**
 * Runs one script to completion, in a process group of its own, and
 * returns its exit code. It is stopped when the shutdown is asked for
 * meanwhile (TERM, then KILL after KILL_PROCESS_TIMEOUT), unless the
 * shutdown is what runs it; or when `limits` say so (TERM after
 * `graceMs`, KILL `termMs` later).
 */
export async function runScript(
  state: RunState,
  path: string,
  limits?: ScriptLimits,
): Promise<number> {
  log.info(`Running ${path}...`);
  const started = start(state.reaper, [path], { env: state.env, group: true });
  if (!started.ok) {
    log.error(started.message);
    return started.exitCode;
  }
  const child = started.child;
  const waits: Promise<ExitStatus | "shutdown">[] = [child.exited];
  if (!state.shuttingDown) waits.push(state.shutdownRequested);
  const first = limits === undefined
    ? await Promise.race(waits)
    : await within(Promise.race(waits), limits.graceMs);
  if (first === "shutdown" || first === "timeout") {
    if (first === "timeout") {
      log.warn(`${path} did not finish in ${seconds(limits!.graceMs)}`);
    }
    const status = await stopChild(
      child,
      SIGNALS.SIGTERM,
      limits === undefined
        ? { graceMs: state.config.killProcessTimeout }
        : { graceMs: limits.termMs, killWaitMs: limits.killWaitMs },
    );
    return status ? exitCodeOf(status) : 1;
  }
  const code = exitCodeOf(first);
  if (code !== 0) log.error(describeFailure(path, first));
  return code;
}

/**
 * Runs the scripts of a shutdown directory in turn, each within the limits
 * `limits()` gives when it starts (together, KILL_PROCESS_TIMEOUT in the
 * shutdown's budget); a failure does not skip the rest.
 */
export async function runShutdownScripts(
  state: RunState,
  dir: string,
  options: { label: string; limits: () => ScriptLimits },
): Promise<void> {
  const scripts = listScripts(dir);
  if (scripts.length === 0) return;
  log.info(`Running ${options.label} scripts...`);
  for (const script of scripts) {
    await runScript(state, script, options.limits());
  }
}
