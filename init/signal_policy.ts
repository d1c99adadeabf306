/**
 * What my_init does with each signal it receives: a pure decision.
 *
 * @module
 */

import { SIGNALS } from "../lib/signals.ts";

/**
 * The signals my_init listens to for its whole life. Deno's own handlers,
 * installed ~500 ms after start, kill PID 1 with SIGSEGV on a TERM/INT/HUP
 * that meets no JS listener, so these listeners are never removed. CHLD
 * drives the reaper and is handled apart.
 */
export const HANDLED_SIGNALS = [
  "SIGTERM",
  "SIGINT",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGWINCH",
  "SIGCONT",
  "SIGALRM",
  "SIGPWR",
  "SIGTSTP",
  "SIGTTIN",
  "SIGTTOU",
] as const;

/** What to do. */
export type SignalAction =
  | { kind: "shutdown"; stopSignal: number }
  | { kind: "forward"; signal: number }
  | { kind: "ignore"; reason: string };

/** The state the decision depends on. */
export interface SignalState {
  /** A main command is running (one-shot mode). */
  hasMainCommand: boolean;
  /** The graceful shutdown has already begun. */
  shuttingDown: boolean;
  /** Signal received -> signal delivered to the main command (0: drop). */
  rewrites: ReadonlyMap<number, number>;
}

/**
 * TERM and INT start the graceful shutdown (the main command is stopped
 * with the rewritten signal, TERM by default); a second one is ignored so it
 * cannot cut the shutdown short. Other signals go to the main command
 * (rewritten if asked). In daemon mode there is nobody to forward to:
 * runsvdir's only signals (HUP, TERM) would stop it without stopping the
 * services, so they are ignored.
 */
export function decideSignal(signal: number, state: SignalState): SignalAction {
  const isStop = signal === SIGNALS.SIGTERM || signal === SIGNALS.SIGINT;
  const target = state.rewrites.get(signal) ?? signal;
  if (isStop) {
    if (state.shuttingDown) {
      return { kind: "ignore", reason: "shutdown already in progress" };
    }
    return {
      kind: "shutdown",
      stopSignal: target === 0 ? SIGNALS.SIGTERM : target,
    };
  }
  if (!state.hasMainCommand) {
    return { kind: "ignore", reason: "no main command to forward to" };
  }
  if (target === 0) return { kind: "ignore", reason: "dropped by --rewrite" };
  return { kind: "forward", signal: target };
}
