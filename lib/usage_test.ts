import assert from "node:assert/strict";
import { usageErrorText } from "./usage.ts";

Deno.test("usageErrorText() names the tool, the problem, the usage line and --help", () => {
  assert.equal(
    usageErrorText("tool", "Usage: tool ARG\n\nMore text.\n", "missing ARG"),
    "tool: fatal: missing ARG\nUsage: tool ARG\nTry 'tool --help'.\n",
  );
});
