/**
 * The shutdown's one deadline, and how much of it each phase may take:
 * pure, so that the worst case is a sum the tests can check.
 *
 * `docker stop` sends SIGKILL 10 s after SIGTERM. Timeouts added phase by
 * phase (the main command's, each script's, the services', the kill-all's)
 * reached 10.6 s when each of them hung (issue 20), and the engine's KILL
 * then cut off the post-shutdown scripts and syslog's last lines. Instead
 * the shutdown has one deadline, 2 × KILL_PROCESS_TIMEOUT +
 * KILL_ALL_PROCESSES_TIMEOUT after it began (8 s by default): time enough
 * for the main command and the services to use their whole
 * KILL_PROCESS_TIMEOUT and the processes left their
 * KILL_ALL_PROCESSES_TIMEOUT, and every phase takes its share from it. A
 * phase gets its own timeout (phusion's variables), but never so much that
 * a later phase would get less than its reserve; what a phase leaves
 * unused goes to the later ones.
 *
 * @module
 */

import { KILL_WAIT_MS } from "./config.ts";
import type { Config } from "./config.ts";

/** The phases that wait, in the order of the shutdown. */
export const PHASES = [
  "main command",
  "pre-shutdown scripts",
  "services",
  "post-shutdown scripts",
  "kill-all",
] as const;

/** One phase. */
export type Phase = typeof PHASES[number];

/**
 * The most a reserve is: a service that stops at all usually does within a
 * second, and the image's syslog-ng stops in ~0.1 s.
 */
const RESERVE_MS = 1000;

/**
 * A script still running at the end of its phase's share gets SIGTERM,
 * and SIGKILL this much later (at most KILL_PROCESS_TIMEOUT).
 */
export const SCRIPT_TERM_MS = 500;

/**
 * What a script started after its directory's share is spent still gets
 * before its SIGTERM, as far as the deadline allows: without it, such a
 * script got SIGTERM the moment it started (my_init's timers fire within
 * microseconds), and a quick one (a marker, a notification) never ran.
 */
export const SCRIPT_FLOOR_MS = 250;

/**
 * The least time a SIGKILL gets to be reaped, even past the deadline: a
 * killed process is reaped within milliseconds unless it is stuck in the
 * kernel, and without its status the main command's exit code is lost.
 */
export const MIN_KILL_WAIT_MS = 200;

/** The budget of one shutdown, in ms. */
export interface Budget {
  /** From the start of the shutdown to its deadline. */
  totalMs: number;
  /** The most each phase takes (its own timeout). */
  capMs: Readonly<Record<Phase, number>>;
  /** What is kept for each phase while the earlier ones wait. */
  reserveMs: Readonly<Record<Phase, number>>;
  /** Between a script's SIGTERM and its SIGKILL. */
  scriptTermMs: number;
}

/**
 * The budget from the two timeouts. The reserves add up to at most
 * KILL_PROCESS_TIMEOUT + KILL_ALL_PROCESSES_TIMEOUT, so the main command
 * (the first phase) always gets its whole KILL_PROCESS_TIMEOUT.
 */
export function shutdownBudget(config: Config): Budget {
  const k = Math.max(0, config.killProcessTimeout);
  const a = Math.max(0, config.killAllProcessesTimeout);
  return {
    totalMs: 2 * k + a,
    capMs: {
      "main command": k,
      "pre-shutdown scripts": k,
      "services": k,
      "post-shutdown scripts": k,
      "kill-all": a,
    },
    reserveMs: {
      "main command": 0,
      "pre-shutdown scripts": 0,
      "services": Math.min(RESERVE_MS, k / 2),
      "post-shutdown scripts": Math.min(RESERVE_MS, k / 2),
      "kill-all": Math.min(RESERVE_MS, a),
    },
    scriptTermMs: Math.min(SCRIPT_TERM_MS, k),
  };
}

/** How one wait of a phase is bounded, in ms from when it is asked. */
export interface Limits {
  /**
   * Until the force: SIGKILL or runit's `k` after asking, or for a script
   * its SIGTERM.
   */
  graceMs: number;
  /** A script: between its SIGTERM and its SIGKILL (0 for other phases). */
  termMs: number;
  /** After the SIGKILL, how long to wait for the end before carrying on. */
  killWaitMs: number;
}

/**
 * The limits of a wait of `phase` that starts `elapsedMs` after the
 * shutdown began, the phase having already used `usedMs` of its own
 * timeout (an earlier script of the same directory). It ends by the
 * deadline less the reserves of the phases after it; only a process that
 * outlives its SIGKILL makes it take up to MIN_KILL_WAIT_MS more.
 */
export function phaseLimits(
  budget: Budget,
  phase: Phase,
  elapsedMs: number,
  usedMs = 0,
): Limits {
  const later = PHASES.slice(PHASES.indexOf(phase) + 1)
    .reduce((sum, p) => sum + budget.reserveMs[p], 0);
  const room = Math.max(0, budget.totalMs - elapsedMs - later);
  const termMs = phase.endsWith("scripts")
    ? Math.min(budget.scriptTermMs, room)
    : 0;
  const floor = phase.endsWith("scripts") ? SCRIPT_FLOOR_MS : 0;
  const graceMs = Math.max(
    0,
    Math.min(Math.max(budget.capMs[phase] - usedMs, floor), room - termMs),
  );
  const killWaitMs = Math.min(
    KILL_WAIT_MS,
    Math.max(MIN_KILL_WAIT_MS, room - graceMs - termMs),
  );
  return { graceMs, termMs, killWaitMs };
}

/**
 * The shutdown's clock: the budget from when the shutdown began, on a
 * monotonic clock (`now`, ms).
 */
export class ShutdownClock {
  readonly budget: Budget;
  readonly #startedAt: number;
  readonly #now: () => number;

  constructor(budget: Budget, startedAt: number, now: () => number) {
    this.budget = budget;
    this.#startedAt = startedAt;
    this.#now = now;
  }

  /**
   * A phase beginning now: `limits()` gives the limits of its next wait,
   * what its earlier waits used counted against its own timeout.
   */
  phase(phase: Phase): { limits: () => Limits } {
    const began = this.#now();
    return {
      limits: () =>
        phaseLimits(
          this.budget,
          phase,
          this.#now() - this.#startedAt,
          this.#now() - began,
        ),
    };
  }
}

/** A duration for the log: "3 s", "1.5 s". */
export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
