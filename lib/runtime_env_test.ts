import assert from "node:assert/strict";
import { callerDenoDir } from "./runtime_env.ts";

Deno.test("callerDenoDir() leaves the environment alone without a launcher", () => {
  assert.equal(callerDenoDir(undefined), undefined);
});

Deno.test("callerDenoDir() restores the caller's value, even an empty one", () => {
  assert.deepEqual(callerDenoDir("set:/data/deno"), {
    restore: "set",
    value: "/data/deno",
  });
  assert.deepEqual(callerDenoDir("set:"), { restore: "set", value: "" });
  assert.deepEqual(callerDenoDir("unset"), { restore: "unset" });
});
