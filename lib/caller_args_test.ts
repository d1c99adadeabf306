import assert from "node:assert/strict";
import { callerArgsOf, cmdlineEntries } from "./caller_args.ts";
import { encodeBytes } from "./env_bytes.ts";

/** A /proc/PID/cmdline of these byte strings, each ended by NUL. */
function cmdline(...args: (string | number[])[]): Uint8Array {
  const parts = args.map((a) =>
    typeof a === "string" ? new TextEncoder().encode(a) : new Uint8Array(a)
  );
  const out: number[] = [];
  for (const p of parts) out.push(...p, 0);
  return new Uint8Array(out);
}

const lossy = (b: number[]) => new TextDecoder().decode(new Uint8Array(b));

Deno.test("cmdlineEntries() splits at each NUL, empty entries included", () => {
  const entries = cmdlineEntries(cmdline("a", "", "b"));
  assert.deepEqual(entries.map((e) => [...e]), [[0x61], [], [0x62]]);
  assert.deepEqual(
    cmdlineEntries(new Uint8Array([0x61, 0, 0x62])).map((e) => [...e]),
    [[0x61], [0x62]],
  );
});

Deno.test("callerArgsOf() takes the last args.length entries, whatever precedes them", () => {
  const ff = [0xff, 0xfe];
  const cafe = [0x63, 0x61, 0x66, 0xe9];
  const runtime = [
    "/usr/lib/x/my_init",
    "run",
    "--quiet",
    "/usr/lib/x/my_init.js",
  ];
  const got = callerArgsOf(
    cmdline(...runtime, "--", "printf", "[%s]", ff, cafe),
    ["--", "printf", "[%s]", lossy(ff), lossy(cafe)],
  );
  assert.ok(got);
  assert.deepEqual(got.slice(0, 3), ["--", "printf", "[%s]"]);
  assert.deepEqual([...encodeBytes(got[3])], ff);
  assert.deepEqual([...encodeBytes(got[4])], cafe);
  // A compiled executable: one entry of its own.
  const compiled = callerArgsOf(cmdline("/usr/lib/x/my_init", ff), [lossy(ff)]);
  assert.deepEqual(compiled?.map((a) => [...encodeBytes(a)]), [ff]);
  assert.deepEqual(callerArgsOf(cmdline("/x"), []), []);
});

Deno.test("callerArgsOf() refuses a command line that does not end with the runtime's arguments", () => {
  assert.equal(callerArgsOf(cmdline("/x", "a", "c"), ["a", "b"]), undefined);
  assert.equal(callerArgsOf(cmdline("a"), ["/x", "a"]), undefined);
});
