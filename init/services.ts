/**
 * runit under my_init: starting runsvdir, waiting for the services to be
 * up, and stopping them, then runsvdir, at shutdown.
 *
 * @module
 */

import { libc } from "../lib/libc.ts";
import { SIGNALS } from "../lib/signals.ts";
import { signalChild, start, stopChild } from "./children.ts";
import { escalate } from "./escalation.ts";
import { childrenNamed } from "./processes.ts";
import {
  assessServices,
  control,
  readServices,
  runCheck,
  SERVICE_DIR,
  waitForServices,
} from "./runit.ts";
import {
  allReady,
  CHECK_RETRY_MS,
  type ChecksInFlight,
  checksInFlight,
  isStopped,
  needsCheck,
  type Readiness,
  readiness,
  type ServiceView,
} from "./runit_state.ts";
import { nextStopCommands, type StopPhase } from "./service_stop.ts";
import type { RunState } from "./run_state.ts";
import { KILL_WAIT_MS } from "./config.ts";
import { timeout, within } from "./time.ts";
import * as log from "./log.ts";

/** Starts `runsvdir -P /etc/service` in a process group of its own. */
export function startRunit(state: RunState): boolean {
  log.info("Booting runit daemon...");
  const started = start(state.reaper, ["runsvdir", "-P", SERVICE_DIR], {
    env: state.env,
    group: true,
  });
  if (!started.ok) {
    log.error(`Cannot start runit: ${started.message}`);
    return false;
  }
  state.runsvdir = started.child;
  state.runsvdir.name = "runit daemon";
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
 * Stops every service: `d` to each, KILL_PROCESS_TIMEOUT to go down, then
 * `k`. Returns whether all are down. We write runsv's control FIFOs
 * ourselves and wake on inotify: `sv -w` re-checks on a timer, which made
 * phusion's stop take about a second even for idle services.
 */
export async function stopServices(state: RunState): Promise<boolean> {
  log.debug("Stopping runit services...");
  const downSent = new Set<string>();
  const killSent = new Set<string>();
  let phase: StopPhase = "down";
  const send = (views: ServiceView[]) => {
    const next = nextStopCommands(views, phase, { downSent, killSent });
    for (const name of next.forget) downSent.delete(name);
    for (const { name, chars } of next.send) {
      if (control(SERVICE_DIR, name, chars)) {
        (phase === "down" ? downSent : killSent).add(name);
      }
    }
  };
  const allStopped = (views: ServiceView[]) => views.every(isStopped);
  const stopped = await escalate({
    ask: () => send(readServices()),
    force: () => {
      phase = "kill";
      send(readServices());
    },
    wait: async (ms) =>
      await waitForServices(SERVICE_DIR, allStopped, { ms, onChange: send }) ||
      "timeout",
    graceMs: state.config.killProcessTimeout,
    onForce: () => {
      const left = readServices().filter((v) => !isStopped(v));
      log.warn(
        `Services still up after ${state.config.killProcessTimeout / 1000} s: ${
          left.map((v) => v.name).join(", ")
        }. Killing them.`,
      );
    },
    onGiveUp: () =>
      log.error("Some services could not be stopped; carrying on"),
  });
  return stopped === true;
}

/**
 * Ends runsvdir and its runsv processes. With every service down they
 * supervise nothing and are killed at once: asked politely they take up to
 * a second (runsv exits ~0.8 s after TERM, runsvdir can miss a HUP that
 * lands outside its wait for up to 5 s: measured), which was most of
 * phusion's stop time. Log services (svlogd) see the end of their pipe,
 * flush and exit; anything else left gets TERM from the kill-all. With
 * services still up, HUP instead: runsvdir then sends TERM to every runsv
 * (on TERM it would exit alone and leave them running).
 */
export async function stopRunsvdir(
  state: RunState,
  servicesDown: boolean,
): Promise<void> {
  const runsvdir = state.runsvdir;
  if (!runsvdir || state.runsvdirExited) return;
  if (!servicesDown) {
    await stopChild(runsvdir, SIGNALS.SIGHUP, state.config.killProcessTimeout);
    return;
  }
  log.info(`Shutting down runit daemon (PID ${runsvdir.pid})...`);
  for (const pid of childrenNamed(runsvdir.pid, "runsv")) {
    libc().kill(pid, SIGNALS.SIGKILL);
  }
  signalChild(runsvdir, SIGNALS.SIGKILL);
  if (await within(runsvdir.exited, KILL_WAIT_MS) === "timeout") {
    log.error(
      `runit daemon (PID ${runsvdir.pid}) survived SIGKILL; carrying on without it`,
    );
  }
}
