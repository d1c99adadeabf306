/**
 * Running one command to completion.
 *
 * lib/spawn.ts gives the child default signal dispositions (the runtime
 * ignores SIGPIPE; apt-get's pipes to dpkg and to its methods need the
 * default). Waiting uses waitpid(-1): in `RUN install_clean x` this process
 * may be PID 1 of the build container, and daemons a postinst script
 * double-forks are orphaned to it; reaping them on the way keeps zombies
 * from piling up. Nothing else in this process waits for children.
 *
 * @module
 */

import { C, errno, ErrnoError, libc } from "../lib/libc.ts";
import { spawn } from "../lib/spawn.ts";
import { decodeWaitStatus, exitCodeOf } from "../lib/exit_status.ts";

/**
 * Starts `argv` with environment `env`, waits for it and returns its exit
 * code (128+N when killed by signal N). Throws SpawnError when it cannot be
 * started.
 */
export function runCommand(
  argv: readonly string[],
  env: Record<string, string>,
): number {
  const pid = spawn(argv, { env });
  return exitCodeOf(decodeWaitStatus(waitFor(pid)));
}

/** Waits for `pid`, reaping other children meanwhile; returns its wstatus. */
function waitFor(pid: number): number {
  const status = new Int32Array(1);
  const buf = new Uint8Array(status.buffer);
  for (;;) {
    const got = libc().waitpid(-1, buf, 0);
    if (got === pid) return status[0];
    if (got > 0) continue; // an orphan reparented to us: reaped, nothing to report
    const code = errno();
    if (code !== C.EINTR) throw new ErrnoError(`waitpid for ${pid}`, code);
  }
}
