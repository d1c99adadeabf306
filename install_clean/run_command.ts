/**
 * Running one command to completion, passing stop signals on.
 *
 * lib/spawn.ts gives the child default signal dispositions and an empty
 * mask (this process has every signal blocked, the launcher's doing).
 * Waiting uses waitpid(-1): in `RUN install_clean x` this process may be
 * PID 1 of the build container, and daemons a postinst script double-forks
 * are orphaned to it; reaping them on the way keeps zombies from piling up.
 * Nothing else in this process waits for children.
 *
 * @module
 */

import { C, errno, ErrnoError, libc } from "../lib/libc.ts";
import { spawn } from "../lib/spawn.ts";
import { decodeWaitStatus, exitCodeOf } from "../lib/exit_status.ts";
import { readSignalsSync } from "../lib/signalfd.ts";
import { SIGNALS } from "../lib/signals.ts";

/** The signals install_clean passes on to apt-get, and then stops after. */
export const STOP_SIGNALS: readonly number[] = [
  SIGNALS.SIGTERM,
  SIGNALS.SIGINT,
  SIGNALS.SIGHUP,
];

/** Where the runner reads signals, and where it records a stop. */
export interface SignalInbox {
  /** A signalfd for SIGCHLD and {@link STOP_SIGNALS}. */
  fd: number;
  /** The first stop signal received, if any. */
  stopSignal?: number;
}

/**
 * Starts `argv` with environment `env`, waits for it and returns its exit
 * code (128+N when killed by signal N). Stop signals that arrive meanwhile
 * are sent on to it. Throws SpawnError when it cannot be started.
 */
export function runCommand(
  argv: readonly string[],
  env: ReadonlyMap<string, string>,
  inbox: SignalInbox,
): number {
  const pid = spawn(argv, { env });
  for (;;) {
    const status = reapUntil(pid);
    if (status !== undefined) return exitCodeOf(decodeWaitStatus(status));
    // SIGCHLD stays pending until read, so a child that exited since the
    // reap above wakes this read at once.
    for (const { signo } of readSignalsSync(inbox.fd)) {
      if (!STOP_SIGNALS.includes(signo)) continue;
      inbox.stopSignal ??= signo;
      libc().kill(pid, signo);
    }
  }
}

/** Reaps every exited child; the wstatus of `pid` once it is among them. */
function reapUntil(pid: number): number | undefined {
  const status = new Int32Array(1);
  const buf = new Uint8Array(status.buffer);
  for (;;) {
    const got = libc().waitpid(-1, buf, C.WNOHANG);
    if (got === pid) return status[0];
    if (got > 0) continue; // an orphan reparented to us: reaped, nothing to report
    if (got === 0) return undefined;
    const code = errno();
    if (code === C.EINTR) continue;
    throw new ErrnoError(`waitpid for ${pid}`, code);
  }
}
