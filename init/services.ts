/**
 * runit under my_init: starting runsvdir, waiting for the services to be
 * up, and stopping them, then runsvdir, at shutdown.
 *
 * @module
 */

import { libc } from "../lib/libc.ts";
import { SIGNALS } from "../lib/signals.ts";
import { signalChild, start } from "./children.ts";
import { escalate } from "./escalation.ts";
import { childrenNamed, commandLine } from "./processes.ts";
import {
  assessServices,
  control,
  readService,
  readServices,
  runCheck,
  SERVICE_DIR,
  waitForServices,
  type WaitVerdict,
} from "./runit.ts";
import {
  allReady,
  CHECK_RETRY_MS,
  type ChecksInFlight,
  checksInFlight,
  needsCheck,
  type Readiness,
  readiness,
  type ServiceView,
} from "./runit_state.ts";
import {
  forceStop,
  isSettled,
  isStarting,
  type Supervisor,
} from "./service_stop.ts";
import type { RunState } from "./run_state.ts";
import { type Limits, MIN_KILL_WAIT_MS, seconds } from "./shutdown_budget.ts";
import { timeout, within } from "./time.ts";
import { afterRunitLoss } from "./runit_loss.ts";
import * as log from "./log.ts";

/** Starts `runsvdir -P /etc/service` in a process group of its own. */
export function startRunit(state: RunState): boolean {
  log.info("Booting runit daemon...");
  const started = start(state.reaper, ["runsvdir", "-P", SERVICE_DIR], {
    env: state.env,
    group: true,
    inheritOomScore: true,
  });
  if (!started.ok) {
    log.error(`Cannot start runit: ${started.message}`);
    return false;
  }
  state.runsvdir = started.child;
  state.runsvdir.name = "runit daemon";
  // Once reaped its pid may be another process's: never signal it again.
  // Ended before a shutdown: decided and said here, in either mode (with a
  // main command running, too, the loss is said); main.ts acts on it.
  state.runitEnded = started.child.exited.then((status) => {
    state.runsvdirExited = true;
    // In a shutdown its end is the shutdown's doing: nothing to decide.
    if (state.shuttingDown) return new Promise<never>(() => {});
    const supervisors = childrenNamed([libc().getpid()], ["runsv", "runsvdir"]);
    const loss = afterRunitLoss(status, started.child.pid, supervisors.length);
    if (loss.kind === "end") return { status };
    log.warn(loss.line);
    return { status, supervisors };
  });
  // Its group keeps the terminal's signals away, but signals meant for it
  // go to it alone: runsv dies of a HUP that runsvdir takes as "stop".
  state.runsvdir.group = false;
  log.info(`Runit started as PID ${started.child.pid}`);
  return true;
}

/**
 * Waits until every enabled service is ready, `seconds` at most, or until a
 * shutdown is asked for. Ready is `my_init --status`'s rule: `run` up for
 * MIN_UP_MS without a restart, and its `check` script, if it has one,
 * exiting 0. runit itself calls a service up the moment `run` is started,
 * so a `run` that exits at once (or cannot be executed) looked up too.
 * The deadline is kept even while checks run (each has CHECK_TIMEOUT_MS);
 * a timeout reports the last complete look.
 */
export async function waitForServicesUp(
  state: RunState,
  seconds: number,
): Promise<"up" | "timeout" | "shutdown"> {
  let last: Readiness[] | undefined;
  let inFlight: ChecksInFlight | undefined;
  let over = false;
  let checkedAt = -Infinity;
  const ready = async (views: ServiceView[]) => {
    const checks = views.some((v) => needsCheck(v, Date.now()));
    const early = checkedAt + CHECK_RETRY_MS - Date.now();
    if (checks && early > 0) {
      // A check that writes in its service directory wakes the watcher:
      // checks run CHECK_RETRY_MS apart at least, not back to back.
      return { done: false, recheckInMs: early };
    }
    if (checks) {
      checkedAt = Date.now();
      const names = views.filter((v) => needsCheck(v, checkedAt));
      inFlight = { names: new Set(names.map((v) => v.name)), since: checkedAt };
    }
    const now = await assessServices(
      views,
      (name) =>
        runCheck(SERVICE_DIR, name, { env: state.env, reaper: state.reaper }),
    );
    if (over) return false;
    inFlight = undefined;
    last = now;
    return { done: allReady(now), recheckInMs: soonestRecheck(now) };
  };
  const deadline = timeout(seconds * 1000);
  const up = await Promise.race([
    waitForServices(SERVICE_DIR, ready, {
      ms: seconds * 1000,
      cancelled: () => over || state.shuttingDown,
    }),
    state.shutdownRequested,
    deadline.promise,
  ]);
  over = true;
  deadline.cancel();
  if (up === "shutdown") return up;
  if (up === true) return "up";
  // No look completed (a check that outlived the whole wait): runit's view.
  // A check still running in a later look is the reason now, not the last
  // look's (init/runit_state.ts).
  const views = readServices();
  const seen = last === undefined
    ? views.map((v) => readiness(v, Date.now(), { kind: "running" }))
    : checksInFlight(last, views, inFlight, Date.now());
  const notUp = seen.filter((r) => r.problem !== undefined);
  log.error(
    `Services not up after ${seconds} s: ${
      notUp.map((r) => r.view.name).join(", ")
    }`,
  );
  for (const r of notUp) log.error(`${r.view.name}: ${r.problem}`);
  return "timeout";
}

/** The soonest time one of `services` asks to be looked at again. */
function soonestRecheck(services: readonly Readiness[]): number | undefined {
  const waits = services.flatMap((r) =>
    r.recheckInMs === undefined ? [] : [r.recheckInMs]
  );
  return waits.length > 0 ? Math.min(...waits) : undefined;
}

/**
 * How soon the stop looks again while a runsv is starting or ending (no
 * change of its files to wake on): runsv takes milliseconds for either.
 */
const STARTING_RECHECK_MS = 10;

/**
 * Stops every service, whatever the moment of the shutdown. First runsvdir
 * gets SIGKILL, so that it starts no runsv while they stop (after a rescan,
 * or retrying a broken one), and its runsv become children of my_init: the
 * set to stop is then fixed. Each runsv gets SIGTERM (runit's `x`: stop the
 * service, then exit; one that had not started its service yet starts it,
 * then stops it, or ends before starting anything: service_stop.ts), and
 * every service has `limits.graceMs` to be down; then `k`. Returns whether
 * all are down. Waits on runsv's renames of supervise/stat (inotify), not
 * on a timer: `sv -w` re-checks on a timer, which made phusion's stop take
 * about a second even for idle services.
 */
export async function stopServices(
  state: RunState,
  limits: Limits,
): Promise<boolean> {
  log.debug("Stopping runit services...");
  const parents = [libc().getpid()];
  const runsvdir = state.runsvdir;
  if (runsvdir && !state.runsvdirExited) {
    log.info(`Shutting down runit daemon (PID ${runsvdir.pid})...`);
    signalChild(runsvdir, SIGNALS.SIGKILL);
    if (await within(runsvdir.exited, limits.killWaitMs) === "timeout") {
      // Stuck in the kernel: its runsv are still its own children.
      parents.push(runsvdir.pid);
    }
  }
  const pids = childrenNamed(parents, ["runsv", "runsvdir"]).filter((pid) =>
    pid !== runsvdir?.pid
  );
  const exited = new Set<number>();
  for (const pid of pids) {
    state.reaper.watch(pid).then(() => exited.add(pid));
  }
  // TERM goes to a runsv once it has exec'd runsv: runsvdir's fork, before
  // the exec, still has runsvdir's TERM handler, which would take the TERM
  // and then exec runsv as if nothing had come.
  const termed = new Set<number>();
  const look = () => {
    const supervisors = pids.map((pid) => supervisor(pid, exited));
    const views = new Map<string, ServiceView>();
    for (const s of supervisors) {
      if (s.service === undefined) continue;
      if (!termed.has(s.pid)) {
        termed.add(s.pid);
        libc().kill(s.pid, SIGNALS.SIGTERM);
      }
      views.set(s.service, serviceAt(s.service));
    }
    return { supervisors, views };
  };
  const viewOf = (
    views: ReadonlyMap<string, ServiceView>,
    s: Supervisor,
  ) => s.service === undefined ? undefined : views.get(s.service);
  const settled = (): WaitVerdict => {
    const { supervisors, views } = look();
    return {
      done: supervisors.every((s) => isSettled(s, viewOf(views, s))),
      recheckInMs: supervisors.some((s) => isStarting(s, viewOf(views, s)))
        ? STARTING_RECHECK_MS
        : undefined,
    };
  };
  const stopped = await escalate({
    ask: () => look(),
    force: () => {
      const { supervisors, views } = look();
      const force = forceStop(supervisors, views);
      for (const { service, chars } of force.control) {
        control(dirname(service), basename(service), chars);
      }
      for (const pid of force.kill) libc().kill(pid, SIGNALS.SIGKILL);
    },
    wait: async (ms) =>
      await waitForServices(SERVICE_DIR, settled, { ms }) || "timeout",
    graceMs: limits.graceMs,
    killWaitMs: limits.killWaitMs,
    onForce: () => {
      const { supervisors, views } = look();
      const left = supervisors.filter((s) => !isSettled(s, viewOf(views, s)))
        .map((s) =>
          s.service === undefined ? `PID ${s.pid}` : basename(s.service)
        );
      log.warn(
        `Services still up after ${seconds(limits.graceMs)}: ${
          left.join(", ")
        }. Killing them.`,
      );
    },
    onGiveUp: () =>
      log.error("Some services could not be stopped; carrying on"),
  });
  return stopped === true;
}

/**
 * One runsv as /proc shows it: its service directory is its working
 * directory (runsv changes into it first; runsvdir's fork, not yet exec'd,
 * has none).
 */
function supervisor(pid: number, exited: ReadonlySet<number>): Supervisor {
  const alive = !exited.has(pid);
  if (!alive || commandLine(pid)[0] !== "runsv") return { pid, alive };
  try {
    return { pid, alive, service: Deno.readLinkSync(`/proc/${pid}/cwd`) };
  } catch {
    return { pid, alive };
  }
}

/** The view of the service in directory `path` (absolute). */
function serviceAt(path: string): ServiceView {
  return readService(dirname(path), basename(path));
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * Ends what is left of runit once the services are stopped: every runsv
 * (SIGKILL: each supervises nothing any more, and asked to exit, one with
 * a log service waits for it; one that could not stop its service orphans
 * it to the kill-all), and runsvdir if it outlived its SIGKILL. Log
 * services (svlogd) see the end of their pipe, flush and exit; anything
 * else left gets TERM from the kill-all.
 */
export async function stopRunit(state: RunState): Promise<void> {
  const runsvdir = state.runsvdir;
  if (!runsvdir) return;
  const pids = childrenNamed([libc().getpid()], ["runsv"]);
  const ends: Promise<unknown>[] = pids.map((pid) => state.reaper.watch(pid));
  for (const pid of pids) libc().kill(pid, SIGNALS.SIGKILL);
  if (!state.runsvdirExited) {
    signalChild(runsvdir, SIGNALS.SIGKILL);
    ends.push(runsvdir.exited);
  }
  if (await within(Promise.all(ends), MIN_KILL_WAIT_MS) === "timeout") {
    log.error("Some of runit survived SIGKILL; carrying on without it");
  }
}
