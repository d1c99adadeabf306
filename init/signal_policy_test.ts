import assert from "node:assert/strict";
import { decideSignal } from "./signal_policy.ts";

const base = {
  hasMainCommand: true,
  shuttingDown: false,
  rewrites: new Map<number, number>(),
};

Deno.test("decideSignal() starts the shutdown on TERM and INT", () => {
  assert.deepEqual(decideSignal(15, base), {
    kind: "shutdown",
    stopSignal: 15,
  });
  assert.deepEqual(decideSignal(2, base), { kind: "shutdown", stopSignal: 2 });
  assert.deepEqual(decideSignal(15, { ...base, hasMainCommand: false }), {
    kind: "shutdown",
    stopSignal: 15,
  });
});

Deno.test("decideSignal() ignores a second TERM during the shutdown", () => {
  assert.equal(
    decideSignal(15, { ...base, shuttingDown: true }).kind,
    "ignore",
  );
});

Deno.test("decideSignal() forwards other signals to the main command", () => {
  for (const sig of [1, 3, 10, 12, 28, 18]) {
    assert.deepEqual(decideSignal(sig, base), { kind: "forward", signal: sig });
  }
});

Deno.test("decideSignal() ignores forwards in daemon mode", () => {
  assert.equal(
    decideSignal(1, { ...base, hasMainCommand: false }).kind,
    "ignore",
  );
});

Deno.test("decideSignal() applies --rewrite to stops and forwards", () => {
  const rewrites = new Map([[15, 3], [10, 0], [1, 12]]);
  assert.deepEqual(decideSignal(15, { ...base, rewrites }), {
    kind: "shutdown",
    stopSignal: 3,
  });
  assert.equal(decideSignal(10, { ...base, rewrites }).kind, "ignore");
  assert.deepEqual(decideSignal(1, { ...base, rewrites }), {
    kind: "forward",
    signal: 12,
  });
});
