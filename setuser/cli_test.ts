import assert from "node:assert/strict";
import { parseArgs, USAGE } from "./cli.ts";
import { usageErrorText } from "../lib/usage.ts";

Deno.test("parseArgs() takes USER then the command, untouched", async () => {
  assert.deepEqual(
    await parseArgs(["memcache", "/usr/bin/memcached", "-m", "64 MB"]),
    {
      kind: "run",
      user: "memcache",
      command: ["/usr/bin/memcached", "-m", "64 MB"],
    },
  );
});

Deno.test("parseArgs() splits USER:GROUP at the first colon", async () => {
  assert.deepEqual(await parseArgs(["www-data:adm", "nginx"]), {
    kind: "run",
    user: "www-data",
    group: "adm",
    command: ["nginx"],
  });
  assert.deepEqual(await parseArgs(["1000:1000", "id"]), {
    kind: "run",
    user: "1000",
    group: "1000",
    command: ["id"],
  });
});

Deno.test("parseArgs() leaves options after USER to the command", async () => {
  assert.deepEqual(await parseArgs(["app", "--help"]), {
    kind: "run",
    user: "app",
    command: ["--help"],
  });
});

Deno.test("parseArgs() answers --help and -h in first place", async () => {
  assert.deepEqual(await parseArgs(["--help"]), { kind: "help" });
  assert.deepEqual(await parseArgs(["-h", "x"]), { kind: "help" });
});

Deno.test("parseArgs() rejects a missing user, group or command", async () => {
  assert.deepEqual(await parseArgs([]), {
    kind: "usage-error",
    message: "missing user",
  });
  assert.deepEqual(await parseArgs(["app"]), {
    kind: "usage-error",
    message: "missing command",
  });
  assert.deepEqual(await parseArgs([":adm", "id"]), {
    kind: "usage-error",
    message: 'missing user in ":adm"',
  });
  assert.deepEqual(await parseArgs(["app:", "id"]), {
    kind: "usage-error",
    message: 'missing group in "app:"',
  });
});

Deno.test("parseArgs() rejects an unknown option", async () => {
  assert.deepEqual(await parseArgs(["-u", "app", "id"]), {
    kind: "usage-error",
    message: 'unknown option "-u"',
  });
});

Deno.test("setuser's usage error names the problem, the usage line and --help", () => {
  assert.equal(
    usageErrorText("setuser", USAGE, "missing command"),
    "setuser: fatal: missing command\nUsage: setuser USER[:GROUP] COMMAND [ARGS...]\n" +
      "Try 'setuser --help'.\n",
  );
});

Deno.test("USAGE documents every exit code", () => {
  for (const code of ["1 on a usage error", "126 when", "127 when"]) {
    assert.ok(USAGE.includes(code), code);
  }
});
