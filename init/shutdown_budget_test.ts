import assert from "node:assert/strict";
import { readConfig } from "./config.ts";
import {
  MIN_KILL_WAIT_MS,
  type Phase,
  phaseLimits,
  PHASES,
  SCRIPT_FLOOR_MS,
  seconds,
  shutdownBudget,
  ShutdownClock,
} from "./shutdown_budget.ts";

/**
 * The worst case: every phase hangs until its limit (a script until its
 * SIGKILL), and each SIGKILL is reaped at once. When each phase starts,
 * from the start of the shutdown, and when the shutdown ends.
 */
function worstCase(
  env: Record<string, string>,
): {
  starts: Record<Phase, number>;
  grace: Record<Phase, number>;
  end: number;
} {
  const budget = shutdownBudget(readConfig(env).config);
  let t = 0;
  const starts = {} as Record<Phase, number>;
  const grace = {} as Record<Phase, number>;
  for (const phase of PHASES) {
    starts[phase] = t;
    const limits = phaseLimits(budget, phase, t);
    grace[phase] = limits.graceMs;
    t += limits.graceMs + limits.termMs;
  }
  return { starts, grace, end: t };
}

Deno.test("shutdownBudget() with the defaults ends by 8 s when every phase hangs, within docker stop's 10 s", () => {
  const { starts, grace, end } = worstCase({});
  assert.equal(shutdownBudget(readConfig({}).config).totalMs, 8000);
  assert.ok(end <= 8000, `ends at ${end} ms`);
  // The README's table (Shutdown and timeouts).
  assert.deepEqual(starts, {
    "main command": 0,
    "pre-shutdown scripts": 3000,
    "services": 5000,
    "post-shutdown scripts": 6000,
    "kill-all": 7000,
  });
  assert.deepEqual(grace, {
    "main command": 3000,
    "pre-shutdown scripts": 1500,
    "services": 1000,
    "post-shutdown scripts": 500,
    "kill-all": 1000,
  });
});

Deno.test("shutdownBudget() gives the main command its whole KILL_PROCESS_TIMEOUT, whatever the values", () => {
  for (const k of ["0", "0.2", "1", "3", "10", "30"]) {
    for (const a of ["0", "0.5", "2", "30"]) {
      const env = { KILL_PROCESS_TIMEOUT: k, KILL_ALL_PROCESSES_TIMEOUT: a };
      const budget = shutdownBudget(readConfig(env).config);
      const limits = phaseLimits(budget, "main command", 0);
      assert.equal(limits.graceMs, Number(k) * 1000, JSON.stringify(env));
      const { end } = worstCase(env);
      assert.ok(end <= budget.totalMs, `${JSON.stringify(env)}: ${end} ms`);
    }
  }
});

Deno.test("shutdownBudget() gives each phase its whole timeout when the earlier ones do not hang", () => {
  const budget = shutdownBudget(readConfig({}).config);
  assert.equal(phaseLimits(budget, "pre-shutdown scripts", 0).graceMs, 3000);
  assert.equal(phaseLimits(budget, "services", 100).graceMs, 3000);
  assert.equal(
    phaseLimits(budget, "post-shutdown scripts", 3200).graceMs,
    3000,
  );
  assert.equal(phaseLimits(budget, "kill-all", 3300).graceMs, 2000);
});

Deno.test("phaseLimits() keeps the reserves of the later phases, and lets a SIGKILL be reaped past the deadline", () => {
  const budget = shutdownBudget(readConfig({}).config);
  // Services starting 6.5 s in: 8 s less 1 s (post-shutdown), 1 s (kill-all).
  assert.deepEqual(phaseLimits(budget, "services", 6500), {
    graceMs: 0,
    termMs: 0,
    killWaitMs: MIN_KILL_WAIT_MS,
  });
  assert.deepEqual(phaseLimits(budget, "kill-all", 7500), {
    graceMs: 500,
    termMs: 0,
    killWaitMs: MIN_KILL_WAIT_MS,
  });
  // The main command's SIGKILL waits within the room the others leave.
  assert.equal(phaseLimits(budget, "main command", 0).killWaitMs, 2000);
});

Deno.test("phaseLimits() counts what the earlier scripts of a directory used against its timeout", () => {
  const budget = shutdownBudget(readConfig({}).config);
  assert.deepEqual(phaseLimits(budget, "pre-shutdown scripts", 2500, 2500), {
    graceMs: 500,
    termMs: 500,
    killWaitMs: 1500,
  });
  // Spent: a later script still gets SCRIPT_FLOOR_MS, within the room.
  assert.equal(
    phaseLimits(budget, "pre-shutdown scripts", 4000, 4000).graceMs,
    SCRIPT_FLOOR_MS,
  );
  // No room left before the later phases' reserves: nothing.
  assert.equal(
    phaseLimits(budget, "pre-shutdown scripts", 7900, 4000).graceMs,
    0,
  );
  // Other phases get no floor.
  assert.equal(
    phaseLimits(budget, "main command", 0, 3000).graceMs,
    0,
  );
});

Deno.test("ShutdownClock counts from the start of the shutdown, and each phase from its own", () => {
  let now = 1000;
  const clock = new ShutdownClock(
    shutdownBudget(readConfig({}).config),
    1000,
    () => now,
  );
  now = 4000;
  const pre = clock.phase("pre-shutdown scripts");
  assert.equal(pre.limits().graceMs, 1500);
  now = 4500;
  assert.equal(pre.limits().graceMs, 1000);
});

Deno.test("seconds() says a duration to a tenth", () => {
  assert.equal(seconds(3000), "3 s");
  assert.equal(seconds(1500), "1.5 s");
  assert.equal(seconds(1049), "1 s");
});
