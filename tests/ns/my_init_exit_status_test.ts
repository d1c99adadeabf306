/**
 * my_init's exit status in one-shot mode: the main command's own code for
 * every code 0..255, 128+N for a command killed by signal N, 127/126 for a
 * command that cannot be started, and the pinned CLI outcomes (help,
 * version, usage errors).
 *
 * @module
 */

import assert from "node:assert/strict";
import { USAGE, VERSION } from "../../init/cli.ts";
import { MY_INIT, runSandbox, script } from "./_sandbox.ts";
import { ignore, logLines, pool } from "./_my_init.ts";

/** One-shot without startup files or runit: the fastest sandbox boot. */
const ONE_SHOT = ["--skip-startup-files", "--skip-runit", "--"];

Deno.test({
  name: "my_init exits with the main command's code for every code 0..255",
  ignore,
  async fn() {
    const codes = Array.from({ length: 256 }, (_, n) => n);
    const results = await pool(codes, 6, async (n) => {
      const r = await runSandbox({
        args: [...ONE_SHOT, "sh", "-c", `exit ${n}`],
      });
      return { n, code: r.code, stderr: r.stderr };
    });
    const wrong = results.filter((r) => r.code !== r.n);
    assert.deepEqual(
      wrong.map((r) => `${r.n} -> ${r.code}`),
      [],
      `first wrong stderr: ${wrong[0]?.stderr}`,
    );
  },
});

Deno.test({
  name: "my_init exits 128+N when the main command is killed by signal N",
  ignore,
  async fn() {
    // `ulimit -c 0`: QUIT dumps core by default. The shell signals itself
    // with a builtin kill, so nothing else is in between.
    const cases: [string, number][] = [
      ["TERM", 15],
      ["HUP", 1],
      ["QUIT", 3],
      ["KILL", 9],
      ["INT", 2],
      ["SEGV", 11],
    ];
    const results = await pool(cases, 4, async ([name, n]) => {
      const r = await runSandbox({
        args: [...ONE_SHOT, "sh", "-c", `ulimit -c 0; kill -s ${name} $$`],
      });
      return { name, want: 128 + n, code: r.code, stderr: r.stderr };
    });
    for (const r of results) {
      assert.equal(r.code, r.want, `SIG${r.name}: ${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(
          `\\*\\*\\* sh exited with status ${r.want} \\(SIG${r.name}\\)`,
        ),
      );
    }
  },
});

Deno.test({
  name:
    "my_init exits 128+N when another process kills the main command with signal N",
  ignore,
  async fn() {
    // The main command becomes `sleep` (exec), and a background process of
    // it sends USR2 (12), whose default action terminates.
    const r = await runSandbox({
      args: [
        ...ONE_SHOT,
        "sh",
        "-c",
        "me=$$; (sleep 0.2; kill -s USR2 $me) & exec sleep 30",
      ],
    });
    assert.equal(r.code, 128 + 12, r.stderr);
  },
});

Deno.test({
  name: "my_init exits 127 naming the path when the main command is missing",
  ignore,
  async fn() {
    const r = await runSandbox({
      args: [...ONE_SHOT, "/nonexistent/bin/cmd", "arg"],
    });
    assert.equal(r.code, 127);
    assert.match(r.stderr, /\/nonexistent\/bin\/cmd/);
  },
});

Deno.test({
  name: "my_init exits 127 when the main command is not found in PATH",
  ignore,
  async fn() {
    const r = await runSandbox({
      args: [...ONE_SHOT, "no-such-command-anywhere"],
    });
    assert.equal(r.code, 127);
    assert.match(r.stderr, /no-such-command-anywhere/);
  },
});

Deno.test({
  name:
    "my_init exits 127 saying that the interpreter is missing when a script's #! names none",
  ignore,
  async fn() {
    const bad = { text: "#!/nonexistent\nexit 0\n", mode: 0o755 };
    const files = { "/opt/bad": bad, "/usr/local/bin/bad-interp": bad };
    const byPath = await runSandbox({ args: [...ONE_SHOT, "/opt/bad"], files });
    assert.equal(byPath.code, 127, byPath.stderr);
    assert.ok(
      logLines(byPath.stderr).includes(
        "/opt/bad: interpreter /nonexistent not found (the #! line of /opt/bad)",
      ),
      byPath.stderr,
    );
    // Found through PATH: the message says where.
    const inPath = await runSandbox({
      args: [...ONE_SHOT, "bad-interp"],
      files,
    });
    assert.equal(inPath.code, 127, inPath.stderr);
    assert.ok(
      logLines(inPath.stderr).includes(
        "bad-interp: interpreter /nonexistent not found (the #! line of " +
          "/usr/local/bin/bad-interp)",
      ),
      inPath.stderr,
    );
    assert.doesNotMatch(inPath.stderr, /command not found/);
  },
});

Deno.test({
  name:
    "my_init exits 126 naming the path when the main command is not executable",
  ignore,
  async fn() {
    const r = await runSandbox({
      args: [...ONE_SHOT, "/opt/not-executable"],
      files: {
        "/opt/not-executable": { text: "#!/bin/sh\nexit 0\n", mode: 0o644 },
      },
    });
    assert.equal(r.code, 126);
    assert.match(r.stderr, /\/opt\/not-executable/);
  },
});

Deno.test({
  name: "my_init exits with the main command's code after startup scripts ran",
  ignore,
  async fn() {
    // The full path (startup scripts, environment sync), not only the fast one.
    const r = await runSandbox({
      args: ["--skip-runit", "--", "sh", "-c", "exit 42"],
      files: { "/etc/my_init.d/10_x": script("echo ran >> /shared/log") },
    });
    assert.equal(r.code, 42, r.stderr);
    assert.equal(r.shared.log, "ran\n");
  },
});

interface Cli {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs dist/my_init on the host: these outcomes come before any PID 1 work. */
async function cli(args: string[]): Promise<Cli> {
  const out = await new Deno.Command(MY_INIT, {
    args,
    stdin: "null",
    env: { PATH: "/usr/bin:/bin" },
    clearEnv: true,
  }).output();
  const text = new TextDecoder();
  return {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
  };
}

Deno.test({
  name: "my_init --help prints the usage text exactly and exits 0",
  ignore,
  async fn() {
    for (const flag of ["--help", "-h"]) {
      const r = await cli([flag]);
      assert.equal(r.code, 0, flag);
      assert.equal(r.stdout, USAGE, flag);
      assert.equal(r.stderr, "", flag);
    }
  },
});

Deno.test({
  name: "my_init --version prints the version and exits 0",
  ignore,
  async fn() {
    const r = await cli(["--version"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `my_init ${VERSION}\n`);
  },
});

Deno.test({
  name: "my_init rejects an unknown option with exit 2 and a hint",
  ignore,
  async fn() {
    const r = await cli(["--bogus"]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    const lines = r.stderr.split("\n");
    assert.ok(
      lines[0].startsWith("my_init: fatal: Unknown option '--bogus'"),
      r.stderr,
    );
    assert.equal(lines[1], USAGE.slice(0, USAGE.indexOf("\n")));
    assert.equal(lines[2], "Try 'my_init --help'.");
  },
});

Deno.test({
  name: "my_init --skip-runit without a main command exits 1 with a message",
  ignore,
  async fn() {
    const r = await cli(["--skip-runit"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "my_init: fatal: When --skip-runit is given, you must also pass a main command.\n" +
        "Usage: my_init [OPTIONS] [--] [MAIN_COMMAND [ARGS...]]\n" +
        "Try 'my_init --help'.\n",
    );
  },
});

Deno.test({
  name: "my_init --quiet prints nothing on a clean run",
  ignore,
  async fn() {
    const quiet = await runSandbox({
      args: ["--quiet", ...ONE_SHOT, "sh", "-c", "exit 0"],
    });
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stderr, "");
    const normal = await runSandbox({
      args: [...ONE_SHOT, "sh", "-c", "exit 0"],
    });
    assert.equal(normal.code, 0);
    assert.match(normal.stderr, /^\*\*\* Running sh -c exit 0\.\.\.$/m);
    // Every line my_init itself prints is a `*** ` line.
    for (const line of normal.stderr.split("\n")) {
      if (line !== "") assert.match(line, /^\*\*\* /);
    }
  },
});

Deno.test({
  name:
    "my_init takes the first word that is not an option as the main command",
  ignore,
  async fn() {
    // Without `--`, options after the command belong to the command.
    const r = await runSandbox({
      args: ["--skip-startup-files", "--skip-runit", "echo", "--quiet", "hi"],
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "--quiet hi\n");
    // my_init's own --quiet was not taken: its info lines are there.
    assert.match(r.stderr, /^\*\*\* Running echo --quiet hi\.\.\.$/m);
  },
});

Deno.test({
  name: "my_init rejects an invalid --rewrite with exit 2",
  ignore,
  async fn() {
    for (const bad of ["TERM", "TERM:BOGUS", "NOPE:QUIT"]) {
      const r = await cli(["--rewrite", bad, "--skip-runit", "--", "true"]);
      assert.equal(r.code, 2, bad);
      assert.ok(
        r.stderr.startsWith(`my_init: fatal: Invalid --rewrite "${bad}"`),
        r.stderr,
      );
      assert.ok(r.stderr.endsWith("Try 'my_init --help'.\n"), r.stderr);
    }
  },
});
