import assert from "node:assert/strict";
import { parseArgs, USAGE, usageErrorText } from "./cli.ts";

Deno.test("parseArgs() takes USER then the command, untouched", () => {
  assert.deepEqual(
    parseArgs(["memcache", "/usr/bin/memcached", "-m", "64 MB"]),
    {
      kind: "run",
      user: "memcache",
      command: ["/usr/bin/memcached", "-m", "64 MB"],
    },
  );
});

Deno.test("parseArgs() splits USER:GROUP at the first colon", () => {
  assert.deepEqual(parseArgs(["www-data:adm", "nginx"]), {
    kind: "run",
    user: "www-data",
    group: "adm",
    command: ["nginx"],
  });
  assert.deepEqual(parseArgs(["1000:1000", "id"]), {
    kind: "run",
    user: "1000",
    group: "1000",
    command: ["id"],
  });
});

Deno.test("parseArgs() leaves options after USER to the command", () => {
  assert.deepEqual(parseArgs(["app", "--help"]), {
    kind: "run",
    user: "app",
    command: ["--help"],
  });
});

Deno.test("parseArgs() answers --help and -h in first place", () => {
  assert.deepEqual(parseArgs(["--help"]), { kind: "help" });
  assert.deepEqual(parseArgs(["-h", "x"]), { kind: "help" });
});

Deno.test("parseArgs() rejects a missing user, group or command", () => {
  assert.deepEqual(parseArgs([]), {
    kind: "usage-error",
    message: "missing user",
  });
  assert.deepEqual(parseArgs(["app"]), {
    kind: "usage-error",
    message: "missing command",
  });
  assert.deepEqual(parseArgs([":adm", "id"]), {
    kind: "usage-error",
    message: 'missing user in ":adm"',
  });
  assert.deepEqual(parseArgs(["app:", "id"]), {
    kind: "usage-error",
    message: 'missing group in "app:"',
  });
});

Deno.test("parseArgs() rejects an unknown option", () => {
  assert.deepEqual(parseArgs(["-u", "app", "id"]), {
    kind: "usage-error",
    message: 'unknown option "-u"',
  });
});

Deno.test("usageErrorText() names the problem, then the usage line", () => {
  assert.equal(
    usageErrorText("missing command"),
    "setuser: fatal: missing command\nUsage: setuser USER[:GROUP] COMMAND [ARGS...]\n",
  );
});

Deno.test("USAGE documents every exit code", () => {
  for (const code of ["1 on a usage error", "126 when", "127 when"]) {
    assert.ok(USAGE.includes(code), code);
  }
});
