/**
 * What my_init does with each signal it receives: a pure decision.
 *
 * @module
 */

import { SIGNALS } from "../lib/signals.ts";

/**
 * The signals my_init reads from its signalfd (SIGCHLD, which drives the
 * reaper, is added apart). Others stay blocked and pending: the fault
 * signals (SEGV, BUS, FPE, ILL, TRAP, SYS, ABRT) mean nothing sent to PID 1
 * by hand, and the kernel delivers a real fault whatever the mask.
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
] as const satisfies readonly (keyof typeof SIGNALS)[];

/** The numbers of {@link HANDLED_SIGNALS}. */
export const HANDLED_SIGNAL_NUMBERS: readonly number[] = HANDLED_SIGNALS.map(
  (name) => SIGNALS[name],
);

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
 * with the signal received, or its --rewrite); a second one is ignored so
 * it cannot cut the shutdown short. INT stays INT, as tini and dumb-init
 * pass it (phusion sent TERM for both): a program that treats Ctrl-C apart
 * sees Ctrl-C. TTIN and TTOU are ignored, as tini does: they concern
 * my_init's own use of the terminal, never the main command's. Other
 * signals go to the main command (rewritten if asked). In daemon mode
 * there is nobody to forward to: runsvdir's only signals (HUP, TERM) would
 * stop it without stopping the services, so they are ignored.
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
      stopSignal: target === 0 ? signal : target,
    };
  }
  if (signal === SIGNALS.SIGTTIN || signal === SIGNALS.SIGTTOU) {
    return {
      kind: "ignore",
      reason: "terminal stop signals are my_init's own",
    };
  }
  if (!state.hasMainCommand) {
    return { kind: "ignore", reason: "no main command to forward to" };
  }
  if (target === 0) return { kind: "ignore", reason: "dropped by --rewrite" };
  return { kind: "forward", signal: target };
}
