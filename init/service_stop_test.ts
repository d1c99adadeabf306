import assert from "node:assert/strict";
import { forceStop, isSettled, isStarting } from "./service_stop.ts";
import type { ServiceView, SuperviseStatus } from "./runit_state.ts";

const status = (
  state: SuperviseStatus["state"],
  want: SuperviseStatus["want"],
): SuperviseStatus => ({
  changedAt: 0,
  pid: state === "down" ? 0 : 42,
  paused: false,
  want,
  term: false,
  state,
});
const view = (
  name: string,
  supervised: boolean,
  st?: SuperviseStatus,
): ServiceView => ({
  name,
  disabled: false,
  supervised,
  state: st?.state ?? "unknown",
  status: st,
});
const runsv = (pid: number, service?: string, alive = true) => ({
  pid,
  service,
  alive,
});

Deno.test("isSettled() holds for a runsv that exited, or that has its service down and wanted down", () => {
  assert.equal(isSettled(runsv(1, "a", false), undefined), true);
  assert.equal(
    isSettled(runsv(1, "a"), view("a", true, status("down", "down"))),
    true,
  );
});

Deno.test("isSettled() does not hold for a service down but still wanted up: runsv is about to start it", () => {
  // runsv answers on supervise/ok before its loop starts the service.
  assert.equal(
    isSettled(runsv(1, "a"), view("a", true, status("down", "up"))),
    false,
  );
  assert.equal(
    isSettled(runsv(1, "a"), view("a", true, status("run", "down"))),
    false,
  );
  assert.equal(
    isSettled(runsv(1, "a"), view("a", true, status("finish", "down"))),
    false,
  );
});

Deno.test("isSettled() does not trust a down state left by a runsv that does not answer yet", () => {
  // supervise/status from a previous boot, runsv starting: not supervised.
  assert.equal(
    isSettled(runsv(1, "a"), view("a", false, status("down", "down"))),
    false,
  );
  assert.equal(isSettled(runsv(1), undefined), false);
});

Deno.test("isStarting() holds for a live fork or runsv that does not answer on supervise/ok", () => {
  assert.equal(isStarting(runsv(1), undefined), true);
  assert.equal(isStarting(runsv(1, "a"), view("a", false)), true);
  assert.equal(
    isStarting(runsv(1, "a"), view("a", true, status("run", "up"))),
    false,
  );
  assert.equal(isStarting(runsv(1, "a", false), undefined), false);
});

Deno.test("forceStop() kills each service still up through its runsv: k once runsv wants it down, dk before", () => {
  const views = new Map([
    ["a", view("a", true, status("run", "down"))],
    ["b", view("b", true, status("run", "up"))],
    ["c", view("c", true, status("down", "down"))],
  ]);
  assert.deepEqual(
    forceStop([runsv(1, "a"), runsv(2, "b"), runsv(3, "c")], views),
    {
      control: [{ service: "a", chars: "k" }, { service: "b", chars: "dk" }],
      kill: [],
    },
  );
});

Deno.test("forceStop() SIGKILLs a runsv that never answered, and leaves exited ones alone", () => {
  const views = new Map([["a", view("a", false)]]);
  assert.deepEqual(
    forceStop([runsv(1, "a"), runsv(2), runsv(3, "b", false)], views),
    { control: [], kill: [1, 2] },
  );
});
