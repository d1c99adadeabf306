import assert from "node:assert/strict";
import { MAX_TIMER_MS, timeout, within } from "./time.ts";

Deno.test("within() resolves with the promise when it settles first", async () => {
  assert.equal(await within(Promise.resolve(7), 1000), 7);
});

Deno.test("within() says timeout after the deadline, 0 and fractions included", async () => {
  const never = new Promise<never>(() => {});
  assert.equal(await within(never, 0), "timeout");
  assert.equal(await within(never, 0.001), "timeout");
  assert.equal(await within(never, -1), "timeout");
  const started = performance.now();
  assert.equal(await within(never, 50), "timeout");
  assert.ok(performance.now() - started >= 49);
});

Deno.test("timeout() longer than one timer allows does not fire early", async () => {
  // setTimeout would fire these after 1 ms.
  for (const ms of [MAX_TIMER_MS, MAX_TIMER_MS + 1, 1e12 * 1000, Infinity]) {
    const t = timeout(ms);
    const first = await Promise.race([
      t.promise,
      new Promise((r) => setTimeout(() => r("still waiting"), 30)),
    ]);
    t.cancel();
    assert.equal(first, "still waiting", `${ms}`);
  }
});
