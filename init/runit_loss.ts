/**
 * What my_init does when runsvdir ends before the shutdown.
 *
 * runsvdir killed by a signal (the OOM killer: under a memory limit it
 * ranks with the services it starts, init/oom.ts; or a `kill -9`) leaves
 * its runsv running: they are my_init's children now, and go on
 * supervising their services (restarts, `sv`, `--status`). Ending the
 * container then, as phusion's my_init does, would turn the kernel's pick
 * of a 1 MB process into the stop of every service. So while a runsv is
 * left my_init carries on, and the shutdown stops those runsv as it stops
 * any (services.ts). What is lost is runsvdir's own work: a runsv that
 * ends is not started again, and a service added to or removed from
 * /etc/service is not seen. Once the last runsv has ended nothing is
 * supervised, and the container ends as it would have. A new runsvdir is
 * not started: its runsv would fail to lock each service's supervise/lock,
 * held by the orphaned runsv, and runsvdir would start them again every
 * second, a line each in the container's log.
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

/**
 * Decides, for runsvdir (PID `pid`) ended with `status`, `supervisors`
 * runsv (or runsvdir's forks of one) being left.
 */
export function afterRunitLoss(
  status: ExitStatus,
  pid: number,
  supervisors: number,
): RunitLoss {
  if (status.kind !== "signaled" || supervisors === 0) return { kind: "end" };
  return {
    kind: "carry-on",
    line: `The runit daemon (PID ${pid}) was killed by ` +
      `${signalName(status.signal)}; its runsv go on supervising the ` +
      "services, but until the container restarts a runsv that ends is not " +
      "started again, and a service added to or removed from /etc/service " +
      "is not seen",
  };
}

/** Said when the last runsv has ended after the loss, before the stop. */
export const LAST_SUPERVISOR_LINE =
  "Every runsv has ended since the runit daemon was killed: nothing is " +
  "supervised any more; stopping";
