import assert from "node:assert/strict";
import { readConfig } from "./config.ts";

Deno.test("readConfig() defaults fit a default docker stop of 10 s", () => {
  const { config, warnings } = readConfig({});
  assert.deepEqual(warnings, []);
  // Main command + services each up to the timeout, then kill-all.
  assert.ok(
    2 * config.killProcessTimeout + config.killAllProcessesTimeout <= 8000,
  );
  assert.equal(config.initDirectory, "/etc/my_init.d");
});

Deno.test("readConfig() reads seconds, fractions included", () => {
  const { config } = readConfig({
    KILL_PROCESS_TIMEOUT: "1.5",
    KILL_ALL_PROCESSES_TIMEOUT: "0",
    ENV_INIT_DIRECTORY: "/opt/init.d",
  });
  assert.equal(config.killProcessTimeout, 1500);
  assert.equal(config.killAllProcessesTimeout, 0);
  assert.equal(config.initDirectory, "/opt/init.d");
});

Deno.test("readConfig() warns and falls back on bad values", () => {
  const { config, warnings } = readConfig({
    KILL_PROCESS_TIMEOUT: "ten",
    KILL_ALL_PROCESSES_TIMEOUT: "-1",
  });
  assert.equal(config.killProcessTimeout, 3000);
  assert.equal(config.killAllProcessesTimeout, 2000);
  assert.deepEqual(warnings, [
    'Invalid KILL_PROCESS_TIMEOUT "ten": expected a number of seconds; using 3',
    'Invalid KILL_ALL_PROCESSES_TIMEOUT "-1": expected a number of seconds; using 2',
  ]);
});

Deno.test("readConfig() keeps every duration a number of seconds can say, huge ones included", () => {
  const ms = (value: string) => {
    const { config, warnings } = readConfig({ KILL_PROCESS_TIMEOUT: value });
    assert.deepEqual(warnings, [], value);
    return config.killProcessTimeout;
  };
  assert.equal(ms("0"), 0);
  assert.equal(ms("0.001"), 1);
  // Either side of the 2^31-1 ms one timer can hold (time.ts chains them).
  assert.equal(ms("2147483"), 2_147_483_000);
  assert.equal(ms("2147484"), 2_147_484_000);
  assert.equal(ms("1e12"), 1e15);
  assert.equal(ms(" 5 "), 5000);
  assert.equal(ms(".5"), 500);
  assert.equal(ms("+2"), 2000);
});

Deno.test("readConfig() warns on each bad duration and uses the default", () => {
  for (const value of ["-1", "NaN", "", " ", "3s", "inf", "1e400", "0x10"]) {
    const { config, warnings } = readConfig({
      KILL_ALL_PROCESSES_TIMEOUT: value,
    });
    assert.equal(config.killAllProcessesTimeout, 2000, value);
    assert.deepEqual(warnings, [
      `Invalid KILL_ALL_PROCESSES_TIMEOUT "${value}": expected a number of seconds; using 2`,
    ]);
  }
});

Deno.test("readConfig() without the variables uses the defaults, in ms", () => {
  const { config } = readConfig({});
  assert.equal(config.killProcessTimeout, 3000);
  assert.equal(config.killAllProcessesTimeout, 2000);
});

Deno.test("readConfig() reads several digits before and after the point, and signed exponents", () => {
  const ms = (value: string) =>
    readConfig({ KILL_PROCESS_TIMEOUT: value }).config.killProcessTimeout;
  assert.equal(ms("12.5"), 12500);
  assert.equal(ms(".25"), 250);
  assert.equal(ms("1e-3"), 1);
  assert.equal(ms("1E+3"), 1_000_000);
});
