/**
 * Startup and shutdown scripts: which to run, and running one.
 *
 * @module
 */

import { exitCodeOf, type ExitStatus } from "../lib/exit_status.ts";
import { signalName } from "../lib/signals.ts";
import { compareByBytes } from "./env.ts";

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
