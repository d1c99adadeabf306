import assert from "node:assert/strict";
import {
  isStopped,
  isUp,
  parseStat,
  type ServiceView,
  statusReport,
} from "./runit_state.ts";

Deno.test("parseStat() reads the first word runsv writes", () => {
  assert.equal(parseStat("run\n"), "run");
  assert.equal(parseStat("run, want down\n"), "run");
  assert.equal(parseStat("down, want up"), "down");
  assert.equal(parseStat("finish"), "finish");
  assert.equal(parseStat("garbage"), "unknown");
  assert.equal(parseStat(undefined), "unknown");
});

const svc = (over: Partial<ServiceView>): ServiceView => ({
  name: "x",
  disabled: false,
  supervised: true,
  state: "run",
  ...over,
});

Deno.test("isUp() and isStopped() need runsv to answer", () => {
  assert.equal(isUp(svc({})), true);
  assert.equal(isUp(svc({ supervised: false })), false);
  assert.equal(isStopped(svc({ state: "down" })), true);
  assert.equal(isStopped(svc({ state: "finish" })), false);
  assert.equal(isStopped(svc({ supervised: false })), true);
});

Deno.test("statusReport() fails only for enabled services that are not up", () => {
  const r = statusReport([
    svc({ name: "cron" }),
    svc({ name: "sshd", disabled: true, state: "down" }),
  ]);
  assert.deepEqual(r, {
    lines: ["ok: cron: run", "ok: sshd: down (disabled)"],
    exitCode: 0,
  });
  const bad = statusReport([
    svc({ name: "cron", state: "down" }),
    svc({ name: "web", supervised: false }),
  ]);
  assert.deepEqual(bad, {
    lines: ["fail: cron: down", "fail: web: not supervised"],
    exitCode: 1,
  });
});
