import assert from "node:assert/strict";
import { nextStopCommands } from "./service_stop.ts";
import type { ServiceView } from "./runit_state.ts";

const up = (name: string): ServiceView => ({
  name,
  disabled: false,
  supervised: true,
  state: "run",
});
const down = (name: string): ServiceView => ({ ...up(name), state: "down" });
const none = { downSent: new Set<string>(), killSent: new Set<string>() };

Deno.test("nextStopCommands() sends one d to each service up", () => {
  assert.deepEqual(nextStopCommands([up("a"), down("b")], "down", none), {
    send: [{ name: "a", chars: "d" }],
    forget: [],
  });
  assert.deepEqual(
    nextStopCommands([up("a")], "down", { ...none, downSent: new Set(["a"]) }),
    { send: [], forget: [] },
  );
});

Deno.test("nextStopCommands() forgets the d of a service seen down, so it gets another if it comes back", () => {
  const progress = { ...none, downSent: new Set(["a"]) };
  assert.deepEqual(nextStopCommands([down("a")], "down", progress), {
    send: [],
    forget: ["a"],
  });
});

Deno.test("nextStopCommands() re-sends d to a service that had no runsv to take it", () => {
  const starting: ServiceView = {
    name: "a",
    disabled: false,
    supervised: false,
    state: "unknown",
  };
  assert.deepEqual(nextStopCommands([starting], "down", none).send, [
    { name: "a", chars: "d" },
  ]);
});

Deno.test("nextStopCommands() kills what is still up: k after a d, dk without one", () => {
  const progress = { downSent: new Set(["a"]), killSent: new Set<string>() };
  assert.deepEqual(
    nextStopCommands([up("a"), up("b"), down("c")], "kill", progress).send,
    [{ name: "a", chars: "k" }, { name: "b", chars: "dk" }],
  );
  assert.deepEqual(
    nextStopCommands([up("a")], "kill", {
      ...progress,
      killSent: new Set(["a"]),
    }).send,
    [],
  );
});
