/**
 * Deadlines for the waits of my_init: every wait has one.
 *
 * @module
 */

/** A timer that resolves "timeout" after `ms`, cancellable. */
export function timeout(
  ms: number,
): { promise: Promise<"timeout">; cancel: () => void } {
  let id: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<"timeout">((resolve) => {
    id = setTimeout(() => resolve("timeout"), Math.max(0, ms));
  });
  return { promise, cancel: () => clearTimeout(id) };
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
