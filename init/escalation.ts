/**
 * The one escalation ladder of my_init: ask, wait the grace period, force,
 * wait a last time, then carry on. Stopping the main command, a script,
 * the services and, at the end, every process all climb it.
 *
 * @module
 */

import { KILL_WAIT_MS } from "./config.ts";

/** One ladder. */
export interface Ladder<T> {
  /** Asks politely (TERM, runit's `d`). */
  ask(): void;
  /** Forces (KILL, runit's `k`), once the grace period has passed. */
  force(): void;
  /** Waits up to `ms` for the end: its result, or "timeout". */
  wait(ms: number): Promise<T | "timeout">;
  /** Milliseconds between asking and forcing. */
  graceMs: number;
  /** Says that the grace period passed (a warning line). */
  onForce(): void;
  /**
   * After forcing, how long to wait for the end ({@link KILL_WAIT_MS} if
   * not given; the shutdown's budget gives less).
   */
  killWaitMs?: number;
  /** Says that even forcing did not end it within `killWaitMs`. */
  onGiveUp(): void;
}

/** Climbs `ladder`; its result, or undefined when it had to give up. */
export async function escalate<T>(ladder: Ladder<T>): Promise<T | undefined> {
  ladder.ask();
  const first = await ladder.wait(ladder.graceMs);
  if (first !== "timeout") return first;
  ladder.onForce();
  ladder.force();
  const second = await ladder.wait(ladder.killWaitMs ?? KILL_WAIT_MS);
  if (second !== "timeout") return second;
  ladder.onGiveUp();
  return undefined;
}
