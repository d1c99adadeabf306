/**
 * What is missing when exec fails with ENOENT. The kernel says "No such
 * file or directory" both when the program is not there and when the
 * interpreter its `#!` line names (or the ELF loader it needs) is not: a
 * script whose interpreter is missing was reported as "command not found"
 * while it sits in PATH. After such a failure this finds the file exec
 * found, as execvp(3) searches, and reads its `#!` line to say which.
 *
 * @module
 */

import { decodeBytes } from "./env_bytes.ts";

/** The file exec found, and the interpreter its `#!` line names. */
export interface FoundProgram {
  /** Where it is (as execvp tried it: relative to the working directory if PATH says so). */
  path: string;
  /** The `#!` line's interpreter; undefined for another file (an ELF binary). */
  interpreter?: string;
}

/** glibc's execvp searches this when PATH is unset (confstr _CS_PATH). */
const DEFAULT_PATH = "/bin:/usr/bin";

/** How many bytes of a `#!` line the kernel reads (BINPRM_BUF_SIZE). */
const SHEBANG_BYTES = 256;

/**
 * The interpreter a file's first bytes name in a `#!` line, as the kernel
 * reads it (blanks after `#!` skipped, up to the next blank or newline);
 * undefined when there is no `#!` line.
 */
export function interpreterOf(head: Uint8Array): string | undefined {
  if (head[0] !== 0x23 || head[1] !== 0x21) return undefined;
  const isBlank = (b: number) => b === 0x20 || b === 0x09;
  let start = 2;
  while (start < head.length && isBlank(head[start])) start++;
  let end = start;
  while (
    end < head.length && !isBlank(head[end]) && head[end] !== 0x0a &&
    head[end] !== 0
  ) end++;
  return end > start ? decodeBytes(head.subarray(start, end)) : undefined;
}

/** The candidates execvp tries for `file`, in order. */
export function searchPath(file: string, path: string | undefined): string[] {
  if (file.includes("/")) return [file];
  return (path ?? DEFAULT_PATH).split(":").map((dir) =>
    dir === "" ? file : `${dir.replace(/\/$/, "")}/${file}`
  );
}

/**
 * Why exec found nothing to run, for a message after the file's name:
 * "command not found", or the interpreter or loader that is missing.
 */
export function notFoundReason(found: FoundProgram | undefined): string {
  if (found === undefined) return "command not found";
  if (found.interpreter !== undefined) {
    return `interpreter ${found.interpreter} not found (the #! line of ${found.path})`;
  }
  return "cannot execute: a file it needs to start is missing (the ELF " +
    `interpreter or a library loader of ${found.path})`;
}

/**
 * The executable regular file exec found for `file` with this PATH and
 * working directory, and its `#!` interpreter; undefined when there is none
 * (the program itself is missing). Call it after an exec that failed with
 * ENOENT. Never throws.
 */
export function findProgram(
  file: string,
  options: { path: string | undefined; cwd?: string },
): FoundProgram | undefined {
  for (const candidate of searchPath(file, options.path)) {
    const where = candidate.startsWith("/") || options.cwd === undefined
      ? candidate
      : `${options.cwd}/${candidate}`;
    try {
      const info = Deno.statSync(where);
      if (!info.isFile || ((info.mode ?? 0) & 0o111) === 0) continue;
      const head = new Uint8Array(SHEBANG_BYTES);
      const f = Deno.openSync(where);
      let n: number | null;
      try {
        n = f.readSync(head);
      } finally {
        f.close();
      }
      return {
        path: candidate,
        interpreter: interpreterOf(head.subarray(0, n ?? 0)),
      };
    } catch {
      // Not there (or not readable): execvp goes on to the next one.
    }
  }
  return undefined;
}
