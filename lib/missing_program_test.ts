import assert from "node:assert/strict";
import {
  interpreterOf,
  notFoundReason,
  searchPath,
} from "./missing_program.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("interpreterOf() reads the #! line as the kernel does", () => {
  assert.equal(interpreterOf(bytes("#!/nonexistent\necho")), "/nonexistent");
  assert.equal(interpreterOf(bytes("#! \t/bin/sh -e\n")), "/bin/sh");
  assert.equal(
    interpreterOf(bytes("#!/usr/bin/env python3\n")),
    "/usr/bin/env",
  );
  assert.equal(interpreterOf(bytes("#!/bin/sh")), "/bin/sh");
  assert.equal(interpreterOf(bytes("#!\n")), undefined);
  assert.equal(interpreterOf(bytes("\x7fELF\x02")), undefined);
  assert.equal(interpreterOf(bytes("")), undefined);
});

Deno.test("searchPath() tries what execvp tries", () => {
  assert.deepEqual(searchPath("./x", "/bin"), ["./x"]);
  assert.deepEqual(searchPath("/a/x", "/bin"), ["/a/x"]);
  assert.deepEqual(searchPath("x", "/usr/bin/:/bin::"), [
    "/usr/bin/x",
    "/bin/x",
    "x",
    "x",
  ]);
  assert.deepEqual(searchPath("x", undefined), ["/bin/x", "/usr/bin/x"]);
});

Deno.test("notFoundReason() names the missing interpreter, not the script", () => {
  assert.equal(notFoundReason(undefined), "command not found");
  assert.equal(
    notFoundReason({ path: "/usr/local/bin/x", interpreter: "/nonexistent" }),
    "interpreter /nonexistent not found (the #! line of /usr/local/bin/x)",
  );
  assert.equal(
    notFoundReason({ path: "/opt/app" }),
    "cannot execute: a file it needs to start is missing (the ELF " +
      "interpreter or a library loader of /opt/app)",
  );
});
