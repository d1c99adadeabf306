/**
 * Deadlines for the waits of my_init: every wait has one.
 *
 * @module
 */

/**
 * The longest delay one timer takes: setTimeout turns anything above
 * 2^31-1 ms into 1 ms (a `KILL_PROCESS_TIMEOUT=99999999` would kill at
 * once), so longer deadlines are chained.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A timer that resolves "timeout" after `ms` (any length), cancellable. */
export function timeout(
  ms: number,
): { promise: Promise<"timeout">; cancel: () => void } {
  let id: ReturnType<typeof setTimeout> | undefined;
  let cancelled = false;
  const promise = new Promise<"timeout">((resolve) => {
    const deadline = Date.now() + Math.max(0, ms);
    const arm = () => {
      if (cancelled) return;
      const left = deadline - Date.now();
      if (left <= 0 || !Number.isFinite(left)) {
        if (left <= 0) resolve("timeout");
        return;
      }
      id = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    };
    if (ms <= 0) id = setTimeout(() => resolve("timeout"), 0);
    else arm();
  });
  return {
    promise,
    cancel: () => {
      cancelled = true;
      clearTimeout(id);
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
  return new Promise((resolve) =>
    setTimeout(resolve, Math.min(ms, MAX_TIMER_MS))
  );
}
