import assert from "node:assert/strict";
import {
  DEFAULT_WAIT_FOR_SERVICES,
  EXIT_ABORTED,
  EXIT_FAILURE,
  EXIT_SECOND_INSTANCE,
  EXIT_USAGE,
  parseArgs,
  splitCommand,
  USAGE,
  VERSION,
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

Deno.test("await parseArgs() maps phusion's flags", async () => {
  const cli = await parseArgs([
    "--enable-insecure-key",
    "--skip-startup-files",
    "--no-kill-all-on-exit",
    "--quiet",
    "--",
    "bash",
    "-l",
  ]);
  assert.equal(cli.kind, "run");
  if (cli.kind !== "run") return;
  assert.equal(cli.options.enableInsecureKey, true);
  assert.equal(cli.options.skipStartupFiles, true);
  assert.equal(cli.options.skipRunit, false);
  assert.equal(cli.options.killAllOnExit, false);
  assert.equal(cli.options.logLevel, 1);
  assert.deepEqual(cli.options.command, ["bash", "-l"]);
});

Deno.test("await parseArgs() defaults to daemon mode at info level", async () => {
  const cli = await parseArgs([]);
  assert.equal(cli.kind, "run");
  if (cli.kind !== "run") return;
  assert.equal(cli.options.logLevel, 2);
  assert.equal(cli.options.killAllOnExit, true);
  assert.deepEqual(cli.options.command, []);
  assert.equal(cli.options.waitForServices, undefined);
});

Deno.test("await parseArgs() rejects --skip-runit without a command", async () => {
  assert.deepEqual(await parseArgs(["--skip-runit"]), {
    kind: "usage-error",
    message: "When --skip-runit is given, you must also pass a main command.",
    exitCode: 1,
  });
});

Deno.test("await parseArgs() rejects unknown flags with exit code 2", async () => {
  assert.deepEqual(await parseArgs(["--bogus"]), {
    kind: "usage-error",
    message: "Unknown option '--bogus'",
    exitCode: 2,
  });
});

Deno.test("await parseArgs() reads -v, --help, --version and --status", async () => {
  const v = await parseArgs(["-v", "true"]);
  assert.equal(v.kind === "run" && v.options.logLevel, 3);
  assert.deepEqual(await parseArgs(["--help"]), { kind: "help" });
  assert.deepEqual(await parseArgs(["-h"]), { kind: "help" });
  assert.deepEqual(await parseArgs(["--version"]), { kind: "version" });
  assert.equal((await parseArgs(["--status"])).kind, "status");
});

Deno.test("await parseArgs() rejects --rewrite of a signal my_init never receives", async () => {
  for (const r of ["KILL:TERM", "40:TERM", "SEGV:TERM", "CHLD:TERM"]) {
    const cli = await parseArgs(["--rewrite", r, "x"]);
    assert.equal(cli.kind, "usage-error", r);
    assert.match(
      cli.kind === "usage-error" ? cli.message : "",
      new RegExp(
        `^Invalid --rewrite "${r}": my_init never receives .*; FROM must be one of TERM, INT, HUP, QUIT, USR1, USR2, WINCH, CONT, ALRM, PWR, TSTP, TTIN, TTOU$`,
      ),
    );
  }
});

Deno.test("await parseArgs() parses --rewrite pairs and rejects bad ones", async () => {
  const cli = await parseArgs([
    "--rewrite",
    "TERM:QUIT",
    "--rewrite=USR1:0",
    "x",
  ]);
  assert.equal(cli.kind, "run");
  if (cli.kind !== "run") return;
  assert.deepEqual([...cli.options.rewrites], [[15, 3], [10, 0]]);
  const bad = await parseArgs(["--rewrite", "TERM", "x"]);
  assert.deepEqual(bad, {
    kind: "usage-error",
    message:
      'Invalid --rewrite "TERM": expected FROM:TO signal names, e.g. TERM:QUIT',
    exitCode: 2,
  });
});

Deno.test("await parseArgs() gives --wait-for-services an optional value", async () => {
  const bare = await parseArgs(["--wait-for-services", "x"]);
  assert.equal(
    bare.kind === "run" && bare.options.waitForServices,
    DEFAULT_WAIT_FOR_SERVICES,
  );
  const given = await parseArgs(["--wait-for-services=2.5", "x"]);
  assert.equal(given.kind === "run" && given.options.waitForServices, 2.5);
  assert.equal(
    (await parseArgs(["--wait-for-services=soon", "x"])).kind,
    "usage-error",
  );
  assert.equal(
    (await parseArgs(["--wait-for-services", "--skip-runit", "x"])).kind,
    "usage-error",
  );
});

Deno.test("await parseArgs() takes a number after a bare --wait-for-services as its value, never as the command", async () => {
  for (const value of ["5", "0", "2.5", ".5", "12.5", ".25", "30."]) {
    const cli = await parseArgs(["--wait-for-services", value, "--", "cmd"]);
    assert.equal(cli.kind, "run", value);
    if (cli.kind !== "run") continue;
    assert.equal(cli.options.waitForServices, Number(value));
    assert.deepEqual(cli.options.command, ["cmd"]);
  }
  const noDash = await parseArgs(["--wait-for-services", "5", "cmd", "-x"]);
  assert.deepEqual(
    noDash.kind === "run" && noDash.options.command,
    ["cmd", "-x"],
  );
  // A word that is no number is the command, after the default wait.
  const word = await parseArgs(["--wait-for-services", "sleep", "5"]);
  assert.equal(
    word.kind === "run" && word.options.waitForServices,
    DEFAULT_WAIT_FOR_SERVICES,
  );
  assert.deepEqual(word.kind === "run" && word.options.command, [
    "sleep",
    "5",
  ]);
  assert.deepEqual(splitCommand(["--wait-for-services", "5", "--", "cmd"]), {
    flags: ["--wait-for-services", "5"],
    command: ["cmd"],
  });
});

Deno.test("await parseArgs() takes a word after a bare --wait-for-services that only starts or ends with digits as the command", async () => {
  // Commands named so exist: 2to3, python3, 7z.
  for (const command of ["2to3", "python3", "7z"]) {
    const cli = await parseArgs(["--wait-for-services", command, "x"]);
    assert.equal(cli.kind, "run", command);
    if (cli.kind !== "run") continue;
    assert.equal(cli.options.waitForServices, DEFAULT_WAIT_FOR_SERVICES);
    assert.deepEqual(cli.options.command, [command, "x"]);
  }
  // A negative number is no value either: an option, and not one of ours.
  assert.deepEqual(await parseArgs(["--wait-for-services", "-5", "x"]), {
    kind: "usage-error",
    message: "Unknown option '-5'",
    exitCode: EXIT_USAGE,
  });
});

Deno.test("splitCommand() takes a number after any flag but --wait-for-services as the command", () => {
  for (const flag of ["--quiet", "--skip-startup-files", "-v"]) {
    assert.deepEqual(splitCommand([flag, "5", "x"]), {
      flags: [flag],
      command: ["5", "x"],
    });
  }
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

Deno.test("USAGE documents every exit code my_init uses", () => {
  const start = USAGE.indexOf("Exit status:");
  assert.ok(start > 0);
  assert.equal(
    USAGE.slice(start),
    `Exit status: the main command's (128+N when signal N killed it, 127 when
it is not found, 126 when it cannot be executed); without one, 0 after a
stop, else runit's. ${EXIT_FAILURE} when a startup script fails, --wait-for-services
times out, or --skip-runit lacks a main command; ${EXIT_USAGE} on a usage error or
when another my_init already runs the container (nothing is done then);
${EXIT_ABORTED} when stopped before the main command or the services ran.
--status: 0 when every enabled service is up, else 1.
`,
  );
  assert.deepEqual(
    [EXIT_FAILURE, EXIT_USAGE, EXIT_ABORTED, EXIT_SECOND_INSTANCE],
    [1, 2, 2, 2],
  );
});

Deno.test("VERSION is the Makefile's VERSION", async () => {
  const makefile = await Deno.readTextFile(
    new URL("../Makefile", import.meta.url),
  );
  assert.equal(/^VERSION \?= (.+)$/m.exec(makefile)?.[1], VERSION);
});

Deno.test("splitCommand() takes a lone - as the command", () => {
  assert.deepEqual(splitCommand(["--quiet", "-", "x"]), {
    flags: ["--quiet"],
    command: ["-", "x"],
  });
});

Deno.test("await parseArgs() leaves the boolean flags off when not given", async () => {
  for (const args of [[], ["--quiet"]]) {
    const cli = await parseArgs(args);
    assert.equal(cli.kind, "run");
    if (cli.kind !== "run") return;
    assert.equal(cli.options.enableInsecureKey, false);
    assert.equal(cli.options.skipStartupFiles, false);
    assert.equal(cli.options.skipRunit, false);
  }
});

Deno.test("await parseArgs() rejects --rewrite with more than one colon", async () => {
  assert.deepEqual(await parseArgs(["--rewrite", "TERM:QUIT:HUP", "x"]), {
    kind: "usage-error",
    message:
      'Invalid --rewrite "TERM:QUIT:HUP": expected FROM:TO signal names, e.g. TERM:QUIT',
    exitCode: 2,
  });
});

Deno.test("await parseArgs() takes --wait-for-services=0 and rejects empty, blank and negative values", async () => {
  const zero = await parseArgs(["--wait-for-services=0"]);
  assert.equal(zero.kind === "run" && zero.options.waitForServices, 0);
  for (const value of ["", " ", "-1"]) {
    assert.deepEqual(await parseArgs([`--wait-for-services=${value}`]), {
      kind: "usage-error",
      message: `Invalid --wait-for-services "${value}": expected seconds`,
      exitCode: 2,
    }, value);
  }
});

Deno.test("await parseArgs() takes --skip-runit with a command, but not with --wait-for-services", async () => {
  const cli = await parseArgs(["--skip-runit", "x"]);
  assert.equal(cli.kind, "run");
  assert.equal(cli.kind === "run" && cli.options.skipRunit, true);
  assert.deepEqual(
    await parseArgs(["--wait-for-services=1", "--skip-runit", "x"]),
    {
      kind: "usage-error",
      message: "--wait-for-services cannot be combined with --skip-runit",
      exitCode: 2,
    },
  );
});
