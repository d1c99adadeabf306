/**
 * Stopping runit's services at shutdown, pure: when a runsv is done with
 * its service, and what to force on one that is not once the grace period
 * is over.
 *
 * The stop is asked of each runsv itself (SIGTERM, runit's `x`: stop the
 * service, then exit), not through `supervise/control`: a runsv that has
 * not yet opened its FIFOs cannot take a control command, but takes a
 * TERM at any moment. Before runsv catches TERM (its first instructions,
 * or runsvdir's fork before the exec) the TERM ends it before it started
 * anything; after, the TERM waits, blocked, until its main loop, which
 * starts the service first and then stops it. So every service that runs
 * gets its stop from its own runsv, whenever the shutdown came (a service
 * that counted as stopped because its runsv had not opened `supervise/ok`
 * yet was orphaned: issue 17).
 *
 * @module
 */

import type { ServiceView } from "./runit_state.ts";

/** One runsv (or runsvdir's fork of one) at shutdown. */
export interface Supervisor {
  pid: number;
  /**
   * The service directory (runsv's working directory); undefined while it
   * is still runsvdir's fork, before the exec of runsv.
   */
  service?: string;
  /** Not exited yet. */
  alive: boolean;
}

/**
 * Whether runsv is done with its service: it exited, or it supervises the
 * service (answers on `supervise/ok`) and says it is down and wanted down
 * (`x` or `d` taken), so that it will not start it again. A `stat` that
 * says down is not enough: one left from a previous boot says so too, and
 * so does a runsv that has not started the service yet.
 */
export function isSettled(
  supervisor: Supervisor,
  view: ServiceView | undefined,
): boolean {
  if (!supervisor.alive) return true;
  if (view === undefined || !view.supervised) return false;
  return view.status?.state === "down" && view.status.want === "down";
}

/**
 * Whether a supervisor is between states that inotify would report: a
 * fork not yet exec'd, or a runsv not yet answering on `supervise/ok`
 * (starting, or ending of the TERM before it caught it). The wait looks
 * again soon instead of waiting for a change of its service's files.
 */
export function isStarting(
  supervisor: Supervisor,
  view: ServiceView | undefined,
): boolean {
  return supervisor.alive && (view === undefined || !view.supervised);
}

/** What to force on the supervisors that are not settled. */
export interface Force {
  /**
   * runit control commands, by service directory: `k` (SIGKILL), after `d`
   * when runsv still wants the service up.
   */
  control: { service: string; chars: "k" | "dk" }[];
  /**
   * runsv processes to SIGKILL: those that do not answer on `supervise/ok`
   * yet have not started their service, so this orphans nothing.
   */
  kill: number[];
}

/**
 * What to force once the grace period is over; `views` by service
 * directory.
 */
export function forceStop(
  supervisors: readonly Supervisor[],
  views: ReadonlyMap<string, ServiceView>,
): Force {
  const force: Force = { control: [], kill: [] };
  for (const s of supervisors) {
    const view = s.service === undefined ? undefined : views.get(s.service);
    if (isSettled(s, view)) continue;
    if (view?.supervised) {
      // runsv took its TERM (want down): `k` ends the service and then
      // runsv. Not taken yet: `d` first, or runsv would restart it.
      const chars = view.status?.want === "down" ? "k" : "dk";
      force.control.push({ service: s.service!, chars });
    } else {
      force.kill.push(s.pid);
    }
  }
  return force;
}
