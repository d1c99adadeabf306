/**
 * What my_init does when runsvdir ends before the shutdown.
 *
 * runsvdir killed by a signal (the OOM killer: under a memory limit it
 * ranks with the services it starts, init/oom.ts; or a `kill -9`) leaves
 * every runsv running: they are my_init's children now, and go on
 * supervising their services (restarts, `sv`, `--status`). Ending the
 * container then, as phusion's my_init does, would turn the kernel's pick
 * of a 1 MB process into the stop of every service. So my_init carries on,
 * and the shutdown stops those runsv as it stops any (services.ts). What is
 * lost is runsvdir's own work: a service added to or removed from
 * /etc/service is not seen, and a runsv that dies is not started again. A
 * new runsvdir is not started: its runsv would fail to lock each service's
 * supervise/lock, held by the orphaned runsv, and runsvdir would start
 * them again every second, a line each in the container's log.
 *
 * runsvdir that exits by itself (a TERM makes it exit 0, a HUP 111) was
 * told to: the container ends with its status, as with phusion.
 *
 * @module
 */

import type { ExitStatus } from "../lib/exit_status.ts";
import { signalName } from "../lib/signals.ts";

/** my_init's course after runsvdir ended with `status` before a shutdown. */
export type RunitLoss =
  | { readonly kind: "end" }
  | { readonly kind: "carry-on"; readonly line: string };

/** Decides, for runsvdir (PID `pid`) ended with `status`. */
export function afterRunitLoss(status: ExitStatus, pid: number): RunitLoss {
  if (status.kind !== "signaled") return { kind: "end" };
  return {
    kind: "carry-on",
    line: `The runit daemon (PID ${pid}) was killed by ` +
      `${signalName(status.signal)}; its runsv go on supervising the ` +
      "services, but a service added to or removed from /etc/service is " +
      "not seen until the container restarts",
  };
}
