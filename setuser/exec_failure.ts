/**
 * What setuser reports when the command cannot be executed.
 *
 * @module
 */

import { spawnFailureExitCode } from "../lib/spawn.ts";

/** The exit code and stderr text for an execvp failure. */
export interface ExecFailure {
  /** 127 when the command was not found (ENOENT), else 126, as shells do. */
  readonly exitCode: number;
  /** The line for stderr, ending in a newline. */
  readonly text: string;
}

/**
 * Decides the report for `command` failing with errno `code`, whose
 * strerror(3) is `reason`.
 */
export function execFailure(
  command: string,
  code: number,
  reason: string,
): ExecFailure {
  return {
    exitCode: spawnFailureExitCode(code),
    text: `setuser: fatal: unable to run "${command}": ${reason}\n`,
  };
}
