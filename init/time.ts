/**
 * Deadlines for the waits of my_init: every wait has one.
 *
 * Timers here are those of my_init's own event loop (init/event_loop.ts),
 * which wakes its one poll(2): never the runtime's (setTimeout, setInterval,
 * AbortSignal.timeout). The runtime's loop only turns between two of our
 * polls, so its timers would fire late; setTimeout would also cost ~12 ms
 * on first use since Deno 2.9 (it loads the Node timers layer).
 *
 * @module
 */

import { addTimer } from "./event_loop.ts";
export { MAX_TIMER_MS } from "./timer_queue.ts";

/** Calls `fn` once after `ms` (any length); returns a canceller. */
export function after(ms: number, fn: () => void): () => void {
  return addTimer(ms, fn);
}

/** Calls `fn` every `ms` until the returned canceller is called. */
export function every(ms: number, fn: () => void): () => void {
  let cancelled = false;
  let cancelNext = () => {};
  const tick = () => {
    if (cancelled) return;
    cancelNext = after(ms, tick);
    fn();
  };
  cancelNext = after(ms, tick);
  return () => {
    cancelled = true;
    cancelNext();
  };
}

/**
 * A timer that resolves "timeout" after `ms` (any length; never for
 * Infinity or NaN), cancellable.
 */
export function timeout(
  ms: number,
): { promise: Promise<"timeout">; cancel: () => void } {
  let cancel = () => {};
  const promise = new Promise<"timeout">((resolve) => {
    if (Number.isNaN(ms) || ms === Infinity) return;
    cancel = after(ms, () => resolve("timeout"));
  });
  return { promise, cancel: () => cancel() };
}

/** Races `p` against a deadline of `ms`; the timer never outlives the race. */
export async function within<T>(
  p: Promise<T>,
  ms: number,
): Promise<T | "timeout"> {
  const t = timeout(ms);
  try {
    return await Promise.race([p, t.promise]);
  } finally {
    t.cancel();
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return timeout(ms).promise.then(() => {});
}
