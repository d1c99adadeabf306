/**
 * Replacing setuser with the command, in place.
 *
 * @module
 */

import { C, errno, libc } from "../lib/libc.ts";
import { cstr, cstrArray, cstrArrayOfBytes } from "../lib/cstr.ts";
import { envEntries } from "../lib/env_bytes.ts";
import { usePathOf } from "../lib/spawn.ts";
import { allSignals, SIGSET_SIZE } from "../lib/signals.ts";

/**
 * Undoes what the launcher and the runtime did to signals that would
 * survive exec: the launcher blocked every signal (the mask is passed on
 * as is), and the runtime ignores SIGPIPE (an ignored disposition is
 * inherited, and a service writing to a closed pipe would get EPIPE forever
 * instead of dying).
 *
 * Every disposition goes back to its default first, then the mask is
 * emptied: a signal that arrived meanwhile (runsv's TERM while setuser
 * starts) then acts as it would on the command before its first
 * instruction (TERM ends it, CHLD is discarded) and never reaches one of
 * the runtime's handlers (a TERM there is a SIGSEGV, a USR1 an inspector).
 * glibc keeps 32 and 33 for itself and refuses them; exec resets them.
 */
export function resetSignals(): void {
  const c = libc();
  for (const signal of allSignals()) {
    if (UNTOUCHABLE.has(signal)) continue;
    // SIG_DFL is the null handler.
    c.signal(signal, null);
  }
  c.pthread_sigmask(C.SIG_SETMASK, new Uint8Array(SIGSET_SIZE), null);
}

/** KILL and STOP cannot be caught; 32 and 33 are glibc's. */
const UNTOUCHABLE = new Set([9, 19, 32, 33]);

/**
 * execvpe(3): searches the PATH of `env` for `command[0]` and runs it in
 * this process with exactly `env`. Returns only on failure, with the errno.
 */
export function execCommand(
  command: readonly string[],
  env: ReadonlyMap<string, string>,
): number {
  const args = cstrArray(command);
  const envp = cstrArrayOfBytes(envEntries(env));
  usePathOf(env);
  libc().execvpe(
    cstr(command[0]),
    new Uint8Array(args.array.buffer),
    new Uint8Array(envp.array.buffer),
  );
  const code = errno();
  // Keep the strings reachable until execvpe has returned.
  void [args.keep, envp.keep];
  return code;
}
