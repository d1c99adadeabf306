/**
 * The timers of PID 1's event loop (init/event_loop.ts), without side
 * effects: which one is due, and how long poll(2) may sleep until the next.
 *
 * A binary heap ordered by deadline, then by insertion (two timers with
 * one deadline fire in the order they were set, as web timers do). A
 * cancelled timer is only marked: it is dropped when it reaches the top,
 * so cancelling costs nothing and nothing is reallocated per timer.
 *
 * @module
 */

/**
 * The longest timeout one poll(2) takes: its `int` milliseconds. A longer
 * deadline is reached by polling again (the loop wakes once every ~24
 * days, not in a busy loop: a value past this would wrap to a negative
 * `int`, an endless wait, or fail the FFI call).
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * poll(2)'s timeout for the nearest deadline `next` at time `now` (both in
 * ms on one monotonic clock): -1 without one (wait for a descriptor only),
 * 0 when it is due, else the whole milliseconds until it, rounded up so
 * the loop does not wake a fraction early and poll again, at most
 * {@link MAX_TIMER_MS}.
 */
export function pollTimeoutMs(next: number | undefined, now: number): number {
  if (next === undefined) return -1;
  const left = next - now;
  if (!(left > 0)) return 0;
  return Math.min(MAX_TIMER_MS, Math.ceil(left));
}

interface Entry {
  at: number;
  seq: number;
  fn: (() => void) | undefined;
}

/** Timers by deadline. */
export class TimerQueue {
  #heap: Entry[] = [];
  #seq = 0;
  #live = 0;

  /** Timers set and neither fired nor cancelled. */
  get size(): number {
    return this.#live;
  }

  /**
   * Sets `fn` to run at `at` (ms on the caller's clock); returns its
   * canceller (idempotent, harmless after it ran).
   */
  add(at: number, fn: () => void): () => void {
    const entry: Entry = { at, seq: this.#seq++, fn };
    this.#heap.push(entry);
    this.#up(this.#heap.length - 1);
    this.#live++;
    return () => {
      if (entry.fn === undefined) return;
      entry.fn = undefined;
      this.#live--;
    };
  }

  /** The nearest deadline of a live timer, if any. */
  next(): number | undefined {
    this.#dropCancelled();
    return this.#heap[0]?.at;
  }

  /**
   * Removes the timers due at `now` and returns their functions, soonest
   * first. A timer one of them sets, even for `now`, waits for the next
   * call: a zero-delay loop still lets the poll run between rounds.
   */
  takeDue(now: number): Array<() => void> {
    const due: Array<() => void> = [];
    for (;;) {
      this.#dropCancelled();
      const top = this.#heap[0];
      if (top === undefined || top.at > now) return due;
      this.#pop();
      due.push(top.fn!);
      top.fn = undefined;
      this.#live--;
    }
  }

  #dropCancelled(): void {
    while (this.#heap.length > 0 && this.#heap[0].fn === undefined) {
      this.#pop();
    }
  }

  #pop(): void {
    const last = this.#heap.pop()!;
    if (this.#heap.length > 0) {
      this.#heap[0] = last;
      this.#down(0);
    }
  }

  #before(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #up(i: number): void {
    const h = this.#heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(h[i], h[parent])) return;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  #down(i: number): void {
    const h = this.#heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#before(h[l], h[m])) m = l;
      if (r < h.length && this.#before(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
