import assert from "node:assert/strict";
import { MAX_TIMER_MS, pollTimeoutMs, TimerQueue } from "./timer_queue.ts";

Deno.test("pollTimeoutMs() waits forever without a timer, not at all when one is due", () => {
  assert.equal(pollTimeoutMs(undefined, 100), -1);
  assert.equal(pollTimeoutMs(100, 100), 0);
  assert.equal(pollTimeoutMs(50, 100), 0);
  assert.equal(pollTimeoutMs(NaN, 100), 0);
});

Deno.test("pollTimeoutMs() rounds up, so the loop never wakes a fraction early", () => {
  assert.equal(pollTimeoutMs(100.2, 100), 1);
  assert.equal(pollTimeoutMs(110, 100), 10);
  assert.equal(pollTimeoutMs(110.5, 100.25), 11);
});

Deno.test("pollTimeoutMs() clamps a deadline past poll's int to one long poll", () => {
  // Unclamped, 2**31 + 5 wraps to a negative int (an endless poll) or
  // fails the FFI call; chained 2**31 - 1 waits reach any deadline.
  assert.equal(MAX_TIMER_MS, 2 ** 31 - 1);
  assert.equal(pollTimeoutMs(2 ** 31 + 5, 0), MAX_TIMER_MS);
  assert.equal(pollTimeoutMs(1e15, 0), MAX_TIMER_MS);
  assert.equal(pollTimeoutMs(Infinity, 0), MAX_TIMER_MS);
  assert.equal(pollTimeoutMs(MAX_TIMER_MS, 0), MAX_TIMER_MS);
});

Deno.test("TimerQueue gives due timers soonest first, equal deadlines in order set", () => {
  const q = new TimerQueue();
  const ran: string[] = [];
  for (
    const [at, name] of [[30, "c"], [10, "a"], [20, "b1"], [20, "b2"]] as const
  ) {
    q.add(at, () => ran.push(name));
  }
  assert.equal(q.size, 4);
  assert.equal(q.next(), 10);
  for (const fn of q.takeDue(20)) fn();
  assert.deepEqual(ran, ["a", "b1", "b2"]);
  assert.equal(q.next(), 30);
  assert.equal(q.size, 1);
  assert.deepEqual(q.takeDue(29), []);
});

Deno.test("TimerQueue fires timers of one deadline in the order set, however many", () => {
  // Each added timer climbs the heap while it sorts before its parent: one
  // that climbed past an earlier timer of its deadline would fire first.
  const q = new TimerQueue();
  const ran: number[] = [];
  for (let i = 0; i < 20; i++) q.add(i < 10 ? 5 : 7, () => ran.push(i));
  for (const fn of q.takeDue(10)) fn();
  assert.deepEqual(ran, Array.from({ length: 20 }, (_, i) => i));
});

Deno.test("TimerQueue drops cancelled timers; cancelling twice or after firing changes nothing", () => {
  const q = new TimerQueue();
  const ran: number[] = [];
  const cancel1 = q.add(1, () => ran.push(1));
  q.add(2, () => ran.push(2));
  const cancel3 = q.add(3, () => ran.push(3));
  cancel1();
  cancel1();
  assert.equal(q.size, 2);
  assert.equal(q.next(), 2);
  for (const fn of q.takeDue(2)) fn();
  cancel3();
  assert.equal(q.size, 0);
  assert.equal(q.next(), undefined);
  assert.deepEqual(q.takeDue(10), []);
  assert.deepEqual(ran, [2]);
});

Deno.test("TimerQueue keeps heap order over many random timers", () => {
  const q = new TimerQueue();
  const ats: number[] = [];
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const cancels: Array<() => void> = [];
  for (let i = 0; i < 500; i++) {
    const at = Math.floor(rand() * 1000);
    const cancel = q.add(at, () => ats.push(at));
    if (i % 7 === 0) cancels.push(cancel);
  }
  for (const c of cancels) c();
  for (const fn of q.takeDue(Infinity)) fn();
  assert.equal(ats.length, 500 - cancels.length);
  for (let i = 1; i < ats.length; i++) assert.ok(ats[i - 1] <= ats[i]);
  assert.equal(q.size, 0);
});
