import assert from "node:assert/strict";
import { errorMessage } from "./error_message.ts";

Deno.test("errorMessage() gives an Error's message, or anything else as text", () => {
  assert.equal(errorMessage(new TypeError("bad")), "bad");
  assert.equal(errorMessage("plain"), "plain");
  assert.equal(errorMessage(42), "42");
});
