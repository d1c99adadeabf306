import assert from "node:assert/strict";
import process from "node:process";
import { after, every, MAX_TIMER_MS, timeout, within } from "./time.ts";

/**
 * Runs `code` in a new Deno with ./time.ts imported as `time`; its stdout,
 * or a failure if it has not ended within `ms` (a timer left in my_init's
 * loop keeps the process in poll(2) until it is due).
 */
async function runEnds(code: string, ms: number): Promise<string> {
  const module = new URL("./time.ts", import.meta.url).href;
  // The runtime's own timer: one of my_init's would hold this process in
  // poll(2), where the child's exit is not seen.
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "--no-lock",
      `import * as time from ${JSON.stringify(module)};\n${code}`,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(ms),
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.signal, null, `still running after ${ms} ms`);
  assert.equal(out.code, 0, stderr);
  return new TextDecoder().decode(out.stdout);
}

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

Deno.test("timeout() longer than one poll allows does not fire early", async () => {
  // setTimeout would fire these after 1 ms; poll(2) given them unclamped
  // would fail or wait forever.
  for (const ms of [MAX_TIMER_MS, MAX_TIMER_MS + 1, 1e12 * 1000, Infinity]) {
    const t = timeout(ms);
    const first = await Promise.race([
      t.promise,
      new Promise((r) => after(30, () => r("still waiting"))),
    ]);
    t.cancel();
    assert.equal(first, "still waiting", `${ms}`);
  }
});

Deno.test("timeout() of NaN or Infinity never fires and leaves no timer behind", async () => {
  // A timer at NaN would be due at once; one at Infinity would keep the
  // loop in poll(2) (2**31-1 ms at a time) after everything else ended.
  const out = await runEnds(
    `const first = await Promise.race([
      time.timeout(NaN).promise,
      time.timeout(Infinity).promise,
      time.sleep(50).then(() => "slept"),
    ]);
    console.log(first);`,
    5000,
  );
  assert.equal(out, "slept\n");
});

Deno.test("within() cancels its timer when the promise wins: a program that raced a long deadline ends at once", async () => {
  const out = await runEnds(
    "console.log(await time.within(Promise.resolve(7), 60_000));",
    5000,
  );
  assert.equal(out, "7\n");
});

Deno.test("a wait past 2**31-1 ms sleeps in poll instead of spinning", async () => {
  // With the clamp gone, a 2**31 + 5 ms timeout fails the call or wraps:
  // either the loop spins (CPU time ~ wall time) or never returns to the
  // 300 ms timer.
  const t = timeout(2 ** 31 + 5);
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await new Promise((r) => after(300, () => r(null)));
  const wall = performance.now() - started;
  t.cancel();
  const cpu1 = process.cpuUsage();
  const cpuMs = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / 1000;
  assert.ok(wall < 2000, `woke after ${wall} ms`);
  assert.ok(cpuMs < wall / 2, `${cpuMs} ms of CPU in ${wall} ms`);
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

Deno.test("every() stopped by a timer of the same turn does not tick again", async () => {
  // The stopping timer is set first, so it runs first in the turn that
  // finds both due: the tick already taken from the queue must see it.
  let n = 0;
  let stop = () => {};
  after(0, () => stop());
  stop = every(0, () => n++);
  await within(new Promise<never>(() => {}), 30);
  assert.equal(n, 0);
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
