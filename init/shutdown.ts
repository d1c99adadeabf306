/**
 * The shutdown, in order. Every step runs, whatever happened to the one
 * before: PID 1 must never die half-way (a pid1 death kills the container
 * and everything in it, unflushed).
 *
 * @module
 */

import { errorMessage } from "../lib/error_message.ts";
import { libc } from "../lib/libc.ts";
import { SIGNALS } from "../lib/signals.ts";
import { escalate } from "./escalation.ts";
import { stopMainCommand } from "./main_command.ts";
import { descendantsOf, readProcessTable } from "./processes.ts";
import { runShutdownScripts } from "./scripts.ts";
import { stopRunit, stopServices } from "./services.ts";
import {
  type Limits,
  seconds,
  shutdownBudget,
  ShutdownClock,
} from "./shutdown_budget.ts";
import type { RunState } from "./run_state.ts";
import { within } from "./time.ts";
import * as log from "./log.ts";

const PRE_SHUTDOWN_DIR = "/etc/my_init.pre_shutdown.d";
const POST_SHUTDOWN_DIR = "/etc/my_init.post_shutdown.d";

/**
 * Main command, pre-shutdown scripts, services, runit, post-shutdown
 * scripts, every process left: phusion's order, within one deadline from
 * the TERM (shutdown_budget.ts). Returns the main command's exit code when
 * it had to stop it.
 */
export async function shutdown(state: RunState): Promise<number | undefined> {
  state.shuttingDown = true;
  const budget = shutdownBudget(state.config);
  const clock = new ShutdownClock(
    budget,
    state.shutdownRequestedAt ?? performance.now(),
    () => performance.now(),
  );
  log.debug(`Shutting down within ${seconds(budget.totalMs)}`);
  const mainCode = await step(
    "stopping the main command",
    () => stopMainCommand(state, clock.phase("main command").limits()),
  );
  if (state.runsvdir) {
    await step(
      "running pre-shutdown scripts",
      () =>
        runShutdownScripts(state, PRE_SHUTDOWN_DIR, {
          label: "pre-shutdown",
          limits: clock.phase("pre-shutdown scripts").limits,
        }),
    );
    await step(
      "stopping services",
      () => stopServices(state, clock.phase("services").limits()),
    );
    await step("stopping runit", () => stopRunit(state));
    await step(
      "running post-shutdown scripts",
      () =>
        runShutdownScripts(state, POST_SHUTDOWN_DIR, {
          label: "post-shutdown",
          limits: clock.phase("post-shutdown scripts").limits,
        }),
    );
  }
  if (state.options.killAllOnExit) {
    await step(
      "killing all processes",
      () => killAll(state, clock.phase("kill-all").limits()),
    );
  }
  state.reaper.reap();
  return mainCode;
}

/** Runs one step; an error is logged and the shutdown goes on. */
async function step<T>(
  what: string,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    log.error(`Error while ${what}: ${errorMessage(e)}`);
    return undefined;
  }
}

/**
 * TERM (and CONT, for stopped ones) to every process, then KILL after
 * `limits.graceMs` (KILL_ALL_PROCESSES_TIMEOUT in the shutdown's budget).
 * Not PID 1 (tests, nested use): kill(-1) would hit every process of the
 * user on the host, so only our own descendants are signalled.
 */
async function killAll(state: RunState, limits: Limits): Promise<void> {
  log.info("Killing all processes...");
  const c = libc();
  const pid1 = c.getpid() === 1;
  const send = (signal: number) => {
    const targets = pid1 ? [-1] : descendantsOf(c.getpid(), readProcessTable());
    for (const pid of targets) c.kill(pid, signal);
  };
  await escalate({
    ask: () => {
      send(SIGNALS.SIGTERM);
      send(SIGNALS.SIGCONT);
    },
    force: () => send(SIGNALS.SIGKILL),
    wait: (ms) => within(state.reaper.whenNoChildren(), ms),
    graceMs: limits.graceMs,
    killWaitMs: limits.killWaitMs,
    onForce: () =>
      log.warn("Not all processes have exited in time. Forcing them to exit."),
    onGiveUp: () =>
      log.error("Some processes survived SIGKILL; exiting without them"),
  });
}
