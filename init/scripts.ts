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

/**
 * Runs one script to completion, in a process group of its own, and
 * returns its exit code. It is stopped (TERM, then KILL after
 * KILL_PROCESS_TIMEOUT) when the shutdown is asked for meanwhile, unless
 * the shutdown is what runs it, or when `deadlineMs` passes.
 */
export async function runScript(
  state: RunState,
  path: string,
  deadlineMs?: number,
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
  const first = deadlineMs === undefined
    ? await Promise.race(waits)
    : await within(Promise.race(waits), deadlineMs);
  if (first === "shutdown" || first === "timeout") {
    if (first === "timeout") {
      log.warn(`${path} did not finish in ${(deadlineMs ?? 0) / 1000} s`);
    }
    const status = await stopChild(
      child,
      SIGNALS.SIGTERM,
      state.config.killProcessTimeout,
    );
    return status ? exitCodeOf(status) : 1;
  }
  const code = exitCodeOf(first);
  if (code !== 0) log.error(describeFailure(path, first));
  return code;
}

/**
 * Runs the scripts of a shutdown directory, each for KILL_PROCESS_TIMEOUT
 * at most; a failure does not skip the rest.
 */
export async function runShutdownScripts(
  state: RunState,
  dir: string,
  label: string,
): Promise<void> {
  const scripts = listScripts(dir);
  if (scripts.length === 0) return;
  log.info(`Running ${label} scripts...`);
  for (const script of scripts) {
    await runScript(state, script, state.config.killProcessTimeout);
  }
}
