import assert from "node:assert/strict";
import {
  allSignals,
  parseSignal,
  signalName,
  sigsetMembers,
  sigsetOf,
} from "./signals.ts";

Deno.test("parseSignal() accepts names with and without SIG and numbers", () => {
  assert.equal(parseSignal("TERM"), 15);
  assert.equal(parseSignal("SIGQUIT"), 3);
  assert.equal(parseSignal("usr1"), 10);
  assert.equal(parseSignal("9"), 9);
  assert.equal(parseSignal("64"), 64);
  assert.equal(parseSignal("NOPE"), undefined);
  assert.equal(parseSignal("constructor"), undefined);
  assert.equal(parseSignal("0"), undefined);
  assert.equal(parseSignal("65"), undefined);
});

Deno.test("signalName() names known signals and numbers the rest", () => {
  assert.equal(signalName(15), "SIGTERM");
  assert.equal(signalName(40), "signal 40");
});

Deno.test("sigsetOf() sets bit N-1 for signal N, glibc's 32 and 33 included", () => {
  const set = sigsetOf([1, 15, 32, 33, 64]);
  assert.equal(set.length, 128);
  assert.equal(set[0], 0b1);
  assert.equal(set[1], 0b0100_0000);
  assert.equal(set[3], 0b1000_0000);
  assert.equal(set[4], 0b1);
  assert.equal(set[7], 0b1000_0000);
  assert.deepEqual(sigsetMembers(set), [1, 15, 32, 33, 64]);
  assert.deepEqual(sigsetMembers(sigsetOf(allSignals())), allSignals());
  assert.ok(sigsetOf(allSignals()).subarray(0, 8).every((b) => b === 0xff));
  assert.ok(sigsetOf(allSignals()).subarray(8).every((b) => b === 0));
});

Deno.test("sigsetOf() rejects numbers that are not signals", () => {
  assert.throws(() => sigsetOf([0]), /Not a signal number: 0/);
  assert.throws(() => sigsetOf([65]), /Not a signal number: 65/);
});
