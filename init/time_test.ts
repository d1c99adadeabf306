import assert from "node:assert/strict";
import { after, every, MAX_TIMER_MS, timeout, within } from "./time.ts";

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

Deno.test("after() calls once after the delay; a cancelled one never", async () => {
  const calls: string[] = [];
  const started = performance.now();
  after(20, () => calls.push("kept"));
  const cancel = after(10, () => calls.push("cancelled"));
  cancel();
  await within(new Promise<never>(() => {}), 60);
  assert.deepEqual(calls, ["kept"]);
  assert.ok(performance.now() - started >= 19);
});

Deno.test("every() repeats until cancelled, then stops", async () => {
  let n = 0;
  const stop = every(5, () => n++);
  await within(new Promise<never>(() => {}), 60);
  stop();
  const seen = n;
  assert.ok(seen >= 3, `${seen} ticks in 60 ms`);
  await within(new Promise<never>(() => {}), 30);
  assert.equal(n, seen);
});

Deno.test("no tool calls setTimeout or setInterval (each first call costs ~12 ms on Deno 2.9)", () => {
  const offenders: string[] = [];
  const root = new URL("../", import.meta.url);
  for (const dir of ["init", "lib", "setuser", "install_clean"]) {
    for (const e of Deno.readDirSync(new URL(`${dir}/`, root))) {
      if (!e.name.endsWith(".ts") || e.name.endsWith("_test.ts")) continue;
      const text = Deno.readTextFileSync(new URL(`${dir}/${e.name}`, root));
      const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
      if (/\bset(Timeout|Interval)\s*\(/.test(code)) {
        offenders.push(`${dir}/${e.name}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});
