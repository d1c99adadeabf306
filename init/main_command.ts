/**
 * The main command of one-shot mode (`my_init -- CMD`): running it, and
 * stopping it when the shutdown begins.
 *
 * @module
 */

import { exitCodeOf, type ExitStatus } from "../lib/exit_status.ts";
import {
  describeStatus,
  isTty,
  start,
  stopChild,
  type StopLimits,
  takeTerminal,
} from "./children.ts";
import { signalName } from "../lib/signals.ts";
import type { RunState } from "./run_state.ts";
import * as log from "./log.ts";

/**
 * Runs the main command in a process group of its own (and the terminal's
 * foreground when stdin is one, so `my_init -- bash -l` has job control
 * and ^C reaches the command). Returns its exit code once it exits, or
 * "stopping" when the shutdown is asked for first: the shutdown stops it.
 */
export async function runMainCommand(
  state: RunState,
): Promise<number | "stopping"> {
  const command = state.options.command;
  log.info(`Running ${command.join(" ")}...`);
  const tty = isTty(0) ? 0 : undefined;
  const started = start(state.reaper, command, {
    env: state.env,
    group: true,
    foregroundTty: tty,
  });
  if (!started.ok) {
    log.error(started.message);
    return started.exitCode;
  }
  state.main = started.child;
  state.mainTty = tty;
  if (tty !== undefined) {
    // Ctrl-Z stopped it: a stopped group keeps the terminal, and Ctrl-C
    // would go to it and do nothing. Take the terminal back, as a shell
    // does with a stopped job, so the next Ctrl-C reaches my_init.
    const { name } = started.child;
    state.reaper.onStop(started.child.pid, (signal) => {
      takeTerminal(tty);
      log.info(
        `${name} was stopped by ${signalName(signal)}; ` +
          "my_init has the terminal back (Ctrl-C shuts down)",
      );
    });
  }
  const first = await Promise.race([
    started.child.exited,
    state.shutdownRequested,
  ]);
  return first === "shutdown" ? "stopping" : ended(state, first);
}

/**
 * Stops the main command if it still runs (the signal TERM/INT asked for,
 * or its --rewrite; KILL after `limits.graceMs`, KILL_PROCESS_TIMEOUT in
 * the shutdown's budget). Its exit code, or undefined when there was none
 * to stop.
 */
export async function stopMainCommand(
  state: RunState,
  limits: StopLimits,
): Promise<number | undefined> {
  const main = state.main;
  if (main === undefined) return undefined;
  const status = await stopChild(main, state.stopSignal, limits);
  return status === undefined
    ? (state.main = undefined, 1)
    : ended(state, status);
}

function ended(state: RunState, status: ExitStatus): number {
  const name = state.main?.name ?? state.options.command[0];
  state.main = undefined;
  // The terminal was the command's; my_init's log lines and a shell that
  // started it need it back.
  if (state.mainTty !== undefined) takeTerminal(state.mainTty);
  const code = exitCodeOf(status);
  log.info(`${name} exited with ${describeStatus(status, code)}.`);
  return code;
}
