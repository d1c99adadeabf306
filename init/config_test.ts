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
