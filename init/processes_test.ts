import assert from "node:assert/strict";
import { descendantsOf, parseProcStat } from "./processes.ts";

Deno.test("parseProcStat() survives spaces and parens in the command name", () => {
  assert.deepEqual(parseProcStat("42 (my (odd) cmd) S 7 42 42 0 -1"), {
    pid: 42,
    ppid: 7,
  });
  assert.equal(parseProcStat("garbage"), undefined);
});

Deno.test("descendantsOf() finds grandchildren and nothing else", () => {
  const table = new Map([[2, 1], [3, 2], [4, 3], [5, 1], [6, 99]]);
  assert.deepEqual(descendantsOf(2, table).sort(), [3, 4]);
  assert.deepEqual(descendantsOf(1, table).sort(), [2, 3, 4, 5]);
});
