/**
 * Deadlines for the waits of my_init: every wait has one.
 *
 * Timers here are web timers (AbortSignal.timeout), never setTimeout or
 * setInterval: since Deno 2.9 those return Node `Timeout` objects, and the
 * first call in a process loads the runtime's Node timers layer: ~12 ms of
 * every my_init start, stop and `--status` (measured on 2.9.6), against
 * ~0.1 ms for the web timer. Such a timer cannot be cleared: cancelling
 * removes its listener, and the timer stays queued until it expires but no
 * longer holds the process (measured on 2.9.6).
 *
 * @module
 */

/**
 * The longest delay one timer takes: a longer one fires at once (as with
 * setTimeout, a `KILL_PROCESS_TIMEOUT=99999999` would kill at once), so
 * longer deadlines are chained.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Calls `fn` once after `ms` (0 to MAX_TIMER_MS); returns a canceller. */
export function after(ms: number, fn: () => void): () => void {
  const signal = AbortSignal.timeout(
    Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(ms))),
  );
  const listener = () => fn();
  signal.addEventListener("abort", listener, { once: true });
  return () => signal.removeEventListener("abort", listener);
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

/** A timer that resolves "timeout" after `ms` (any length), cancellable. */
export function timeout(
  ms: number,
): { promise: Promise<"timeout">; cancel: () => void } {
  let cancelled = false;
  let cancelNext = () => {};
  const promise = new Promise<"timeout">((resolve) => {
    const deadline = Date.now() + Math.max(0, ms);
    const arm = () => {
      if (cancelled) return;
      const left = deadline - Date.now();
      if (left <= 0 || !Number.isFinite(left)) {
        if (left <= 0) resolve("timeout");
        return;
      }
      cancelNext = after(left, arm);
    };
    if (ms <= 0) cancelNext = after(0, () => resolve("timeout"));
    else arm();
  });
  return {
    promise,
    cancel: () => {
      cancelled = true;
      cancelNext();
    },
  };
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
