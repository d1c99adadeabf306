/**
 * Replacing setuser with the command, in place.
 *
 * @module
 */

import { C, errno, LAYOUT, libc } from "../lib/libc.ts";
import { cstr, cstrArray } from "../lib/cstr.ts";

/**
 * Undoes what the runtime did to signals that would survive exec: it
 * ignores SIGPIPE (an ignored disposition is inherited, and a service
 * writing to a closed pipe would get EPIPE forever instead of dying), and
 * the mask of this thread is passed on as is. Handlers need no reset: exec
 * resets caught signals to their default.
 */
export function resetSignals(): void {
  const c = libc();
  // SIG_DFL is the null handler.
  c.signal(C.SIGPIPE, null);
  const empty = new Uint8Array(LAYOUT.sigset);
  c.sigemptyset(empty);
  c.pthread_sigmask(C.SIG_SETMASK, empty, null);
}

/**
 * execvp(3): searches PATH for `command[0]` and runs it in this process
 * with the current environment. Returns only on failure, with the errno.
 */
export function execCommand(command: readonly string[]): number {
  const args = cstrArray(command);
  libc().execvp(cstr(command[0]), new Uint8Array(args.array.buffer));
  const code = errno();
  // Keep the strings reachable until execvp has returned.
  void args.keep;
  return code;
}
