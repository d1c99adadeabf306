import assert from "node:assert/strict";
import { shellQuote } from "./shell_quote.ts";

Deno.test("shellQuote() single-quotes and escapes single quotes", () => {
  assert.equal(shellQuote(""), "''");
  assert.equal(shellQuote("abc"), "'abc'");
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(shellQuote("$HOME `x` \\n"), "'$HOME `x` \\n'");
});
