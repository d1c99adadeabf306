import assert from "node:assert/strict";
import { parseSignal, signalName } from "./signals.ts";

Deno.test("parseSignal() accepts names with and without SIG and numbers", () => {
  assert.equal(parseSignal("TERM"), 15);
  assert.equal(parseSignal("SIGQUIT"), 3);
  assert.equal(parseSignal("usr1"), 10);
  assert.equal(parseSignal("9"), 9);
  assert.equal(parseSignal("NOPE"), undefined);
  assert.equal(parseSignal("0"), undefined);
  assert.equal(parseSignal("65"), undefined);
});

Deno.test("signalName() names known signals and numbers the rest", () => {
  assert.equal(signalName(15), "SIGTERM");
  assert.equal(signalName(40), "signal 40");
});
