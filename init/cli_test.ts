import assert from "node:assert/strict";
import {
  DEFAULT_WAIT_FOR_SERVICES,
  parseCli,
  splitCommand,
  USAGE,
} from "./cli.ts";

Deno.test("splitCommand() starts the command at -- or the first non-option", () => {
  assert.deepEqual(splitCommand(["--quiet", "--", "ls", "-l"]), {
    flags: ["--quiet"],
    command: ["ls", "-l"],
  });
  assert.deepEqual(splitCommand(["--quiet", "echo", "--quiet"]), {
    flags: ["--quiet"],
    command: ["echo", "--quiet"],
  });
  assert.deepEqual(splitCommand(["--rewrite", "TERM:QUIT", "nginx"]), {
    flags: ["--rewrite", "TERM:QUIT"],
    command: ["nginx"],
  });
  assert.deepEqual(splitCommand([]), { flags: [], command: [] });
});

Deno.test("await parseCli() maps phusion's flags", async () => {
  const cli = await parseCli([
    "--enable-insecure-key",
    "--skip-startup-files",
    "--no-kill-all-on-exit",
    "--quiet",
    "--",
    "bash",
    "-l",
  ]);
  assert.equal(cli.action, "run");
  if (cli.action !== "run") return;
  assert.equal(cli.options.enableInsecureKey, true);
  assert.equal(cli.options.skipStartupFiles, true);
  assert.equal(cli.options.skipRunit, false);
  assert.equal(cli.options.killAllOnExit, false);
  assert.equal(cli.options.logLevel, 1);
  assert.deepEqual(cli.options.command, ["bash", "-l"]);
});

Deno.test("await parseCli() defaults to daemon mode at info level", async () => {
  const cli = await parseCli([]);
  assert.equal(cli.action, "run");
  if (cli.action !== "run") return;
  assert.equal(cli.options.logLevel, 2);
  assert.equal(cli.options.killAllOnExit, true);
  assert.deepEqual(cli.options.command, []);
  assert.equal(cli.options.waitForServices, undefined);
});

Deno.test("await parseCli() rejects --skip-runit without a command", async () => {
  assert.deepEqual(await parseCli(["--skip-runit"]), {
    action: "usage-error",
    message: "When --skip-runit is given, you must also pass a main command.",
    exitCode: 1,
  });
});

Deno.test("await parseCli() rejects unknown flags with exit code 2", async () => {
  assert.deepEqual(await parseCli(["--bogus"]), {
    action: "usage-error",
    message: "Unknown option '--bogus'",
    exitCode: 2,
  });
});

Deno.test("await parseCli() reads -v, --help, --version and --status", async () => {
  const v = await parseCli(["-v", "true"]);
  assert.equal(v.action === "run" && v.options.logLevel, 3);
  assert.deepEqual(await parseCli(["--help"]), { action: "help" });
  assert.deepEqual(await parseCli(["-h"]), { action: "help" });
  assert.deepEqual(await parseCli(["--version"]), { action: "version" });
  assert.equal((await parseCli(["--status"])).action, "status");
});

Deno.test("await parseCli() rejects --rewrite of a signal my_init never receives", async () => {
  for (const r of ["KILL:TERM", "40:TERM", "SEGV:TERM", "CHLD:TERM"]) {
    const cli = await parseCli(["--rewrite", r, "x"]);
    assert.equal(cli.action, "usage-error", r);
    assert.match(
      cli.action === "usage-error" ? cli.message : "",
      new RegExp(
        `^Invalid --rewrite "${r}": my_init never receives .*; FROM must be one of TERM, INT, HUP, QUIT, USR1, USR2, WINCH, CONT, ALRM, PWR, TSTP, TTIN, TTOU$`,
      ),
    );
  }
});

Deno.test("await parseCli() parses --rewrite pairs and rejects bad ones", async () => {
  const cli = await parseCli([
    "--rewrite",
    "TERM:QUIT",
    "--rewrite=USR1:0",
    "x",
  ]);
  assert.equal(cli.action, "run");
  if (cli.action !== "run") return;
  assert.deepEqual([...cli.options.rewrites], [[15, 3], [10, 0]]);
  const bad = await parseCli(["--rewrite", "TERM", "x"]);
  assert.deepEqual(bad, {
    action: "usage-error",
    message:
      'Invalid --rewrite "TERM": expected FROM:TO signal names, e.g. TERM:QUIT',
    exitCode: 2,
  });
});

Deno.test("await parseCli() gives --wait-for-services an optional value", async () => {
  const bare = await parseCli(["--wait-for-services", "x"]);
  assert.equal(
    bare.action === "run" && bare.options.waitForServices,
    DEFAULT_WAIT_FOR_SERVICES,
  );
  const given = await parseCli(["--wait-for-services=2.5", "x"]);
  assert.equal(given.action === "run" && given.options.waitForServices, 2.5);
  assert.equal(
    (await parseCli(["--wait-for-services=soon", "x"])).action,
    "usage-error",
  );
  assert.equal(
    (await parseCli(["--wait-for-services", "--skip-runit", "x"])).action,
    "usage-error",
  );
});

Deno.test("USAGE names every flag", () => {
  for (
    const flag of [
      "--enable-insecure-key",
      "--skip-startup-files",
      "--skip-runit",
      "--no-kill-all-on-exit",
      "--quiet",
      "--verbose",
      "--rewrite",
      "--wait-for-services",
      "--status",
      "--help",
      "--version",
      "KILL_PROCESS_TIMEOUT",
      "KILL_ALL_PROCESSES_TIMEOUT",
      "ENV_INIT_DIRECTORY",
    ]
  ) assert.ok(USAGE.includes(flag), flag);
  assert.ok(
    USAGE.startsWith(
      "Usage: my_init [OPTIONS] [--] [MAIN_COMMAND [ARGS...]]\n",
    ),
  );
});
