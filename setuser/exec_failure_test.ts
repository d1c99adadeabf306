import assert from "node:assert/strict";
import { execFailure } from "./exec_failure.ts";

Deno.test("execFailure() exits 127 for a command not found", () => {
  assert.deepEqual(execFailure("nosuch", 2, "No such file or directory"), {
    exitCode: 127,
    text: 'setuser: fatal: unable to run "nosuch": No such file or directory\n',
  });
});

Deno.test("execFailure() exits 126 for a command that cannot be executed", () => {
  assert.equal(
    execFailure("/etc/passwd", 13, "Permission denied").exitCode,
    126,
  );
  assert.equal(execFailure("/x", 8, "Exec format error").exitCode, 126);
});
