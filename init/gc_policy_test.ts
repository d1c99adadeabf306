import assert from "node:assert/strict";
import { GC_MIN_INTERVAL_MS, GC_MIN_TURNS, gcDue } from "./gc_policy.ts";

Deno.test("gcDue() collects after enough turns and enough time, not before either", () => {
  assert.equal(gcDue(GC_MIN_TURNS, GC_MIN_INTERVAL_MS), true);
  assert.equal(gcDue(GC_MIN_TURNS - 1, GC_MIN_INTERVAL_MS * 100), false);
  assert.equal(gcDue(GC_MIN_TURNS * 100, GC_MIN_INTERVAL_MS - 1), false);
  assert.equal(gcDue(0, Infinity), false);
});
