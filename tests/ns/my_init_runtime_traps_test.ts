/**
 * Regression tests for the traps of running the Deno runtime as PID 1:
 * no /proc, signal dispositions and masks leaking into children, a second
 * waiter for children (Deno.Command, node:child_process), and running as a
 * plain process instead of PID 1.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DIST,
  MY_INIT,
  ROOT,
  runSandbox,
  script,
  zombiesUnder,
} from "./_sandbox.ts";
import {
  bash,
  childrenOf,
  ignore,
  logLines,
  procStat,
  until,
  withSandbox,
} from "./_my_init.ts";

Deno.test({
  name: "my_init runs a main command and exits with its code without /proc",
  ignore,
  async fn() {
    // node:fs panics at load time without /proc (it reads
    // /proc/self/...); my_init must not import it, and kill-all must not
    // need /proc when it is PID 1.
    const r = await runSandbox({
      args: [
        "--skip-runit",
        "--",
        "sh",
        "-c",
        "test -e /proc/self || exit 7; exit 9",
      ],
      proc: false,
      files: { "/etc/my_init.d/10_x": script("echo ran >> /shared/log") },
    });
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.shared.log, "ran\n");
  },
});

/** Bit of signal `n` in a /proc/PID/status signal mask. */
const bit = (n: number) => 1n << BigInt(n - 1);
const SIGPIPE = 13;

function masks(text: string): { ign: bigint; blk: bigint } {
  const get = (name: string) => {
    const m = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, "m").exec(text);
    if (!m) throw new Error(`no ${name} in ${text}`);
    return BigInt(`0x${m[1]}`);
  };
  return { ign: get("SigIgn"), blk: get("SigBlk") };
}

Deno.test({
  name:
    "my_init starts children with SIGPIPE at its default and no signal blocked",
  ignore,
  async fn() {
    // The runtime ignores SIGPIPE and an ignored disposition survives exec;
    // the mask of the spawning thread is inherited too. Checked for a
    // startup script, a runit service and the main command (exec'd grep, so
    // no shell in between can reset anything).
    const grep = "exec grep -E '^Sig(Ign|Blk):' /proc/self/status";
    const { out, result } = await withSandbox(
      {
        args: [
          "--",
          "sh",
          "-c",
          "until [ -s /shared/service ]; do sleep 0.05; done; " +
          "grep -E '^Sig(Ign|Blk):' /proc/self/status",
        ],
        files: {
          "/etc/my_init.d/10_sig": script(`${grep} > /shared/startup`),
          "/etc/service/sig/run": script(
            `grep -E '^Sig(Ign|Blk):' /proc/self/status > /shared/service.new
mv /shared/service.new /shared/service
exec sleep 1000`,
          ),
        },
      },
      async (box, done) => {
        await done;
        return {
          startup: await box.read("startup"),
          service: await box.read("service"),
        };
      },
    );
    assert.equal(out.code, 0, out.stderr);
    for (
      const [who, text] of [
        ["startup script", result.startup],
        ["service", result.service],
        ["main command", out.stdout],
      ]
    ) {
      const { ign, blk } = masks(text);
      assert.equal(
        ign & bit(SIGPIPE),
        0n,
        `SIGPIPE ignored in the ${who}: ${text}`,
      );
      assert.equal(blk, 0n, `signals blocked in the ${who}: ${text}`);
    }
  },
});

Deno.test({
  name: "my_init lets a `yes | head -1` pipeline end with SIGPIPE",
  ignore,
  async fn() {
    // With SIGPIPE ignored, `yes` would end on EPIPE with status 1 and a
    // "Broken pipe" message instead of dying of SIGPIPE (141).
    const r = await runSandbox({
      args: [
        "--skip-startup-files",
        "--skip-runit",
        "--",
        "bash",
        "-c",
        'yes | head -1; echo "${PIPESTATUS[0]}"',
      ],
    }, 30000);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "y\n141\n");
    assert.doesNotMatch(r.stderr, /Broken pipe/);
  },
});

/** The .ts files of `dir` (recursively), but tests. */
async function productSources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) out.push(...await productSources(path));
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
      out.push(path);
    }
  }
  return out;
}

/** Source text without comments (so that comments may name what is banned). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(
    /(^|[^:"'`])\/\/.*$/gm,
    "$1",
  );
}

Deno.test({
  name:
    "my_init, setuser, install_clean and lib use neither Deno.Command, node:child_process, node:fs nor Deno's signal listeners",
  async fn() {
    // Deno.Command and node:child_process keep a waiter of their own for the
    // children they start; with our waitpid(-1) reaper in the same process
    // each steals the other's exit statuses (a lost status hangs a wait
    // forever, or a child is reported with the wrong code). node:fs panics
    // at load without /proc, which a container may lack. Product code (not
    // tests) is checked, and so is the built bundle, which also holds what
    // those files import.
    const banned: [string, RegExp][] = [
      ["Deno.Command", /\bDeno\s*\.\s*Command\b/],
      ["Deno.run", /\bDeno\s*\.\s*run\s*\(/],
      ["node:child_process", /["']node:child_process["']/],
      ["node:fs", /["'](node:)?fs(\/promises)?["']/],
      // Signals are read from a signalfd (lib/signalfd.ts): a listener would
      // engage the runtime's own handlers, which the launcher keeps blocked.
      ["Deno.addSignalListener", /\bDeno\s*\.\s*addSignalListener\b/],
      ["process.on(signal)", /\bprocess\s*\.\s*on\s*\(\s*["']SIG/],
    ];
    const files: string[] = [];
    for (const dir of ["init", "lib", "setuser", "install_clean"]) {
      files.push(...await productSources(join(ROOT, dir)));
    }
    assert.ok(files.some((f) => f.endsWith("init/main.ts")), files.join());
    const bundle = join(ROOT, "dist/lib/my_init.js");
    const sources = files.map((f) => [f, f] as const);
    const hits: string[] = [];
    for (const [name, path] of [...sources, ["bundle", bundle] as const]) {
      let text: string;
      try {
        text = await Deno.readTextFile(path);
      } catch (e) {
        if (name === "bundle") continue; // not built: the sources still count
        throw e;
      }
      const body = code(text);
      for (const [what, re] of banned) {
        if (re.test(body)) hits.push(`${path}: ${what}`);
      }
    }
    assert.deepEqual(hits, []);
  },
});

/**
 * A PID 1 shell that starts a bystander, a process outside my_init's tree
 * that logs any TERM to /shared/bystander, then runs my_init with `args`
 * as its child and, once it exited, writes its status to /shared/rc and
 * whether the bystander still runs to /shared/bystander_alive. kill(-1)
 * from my_init would reach the bystander (not the namespace's PID 1).
 */
function besideBystander(args: string): string[] {
  return [
    "/bin/bash",
    "-c",
    [
      "(trap 'echo TERM >> /shared/bystander; exit 0' TERM; " +
      "touch /shared/bystander_ready; while :; do sleep 0.05; done) &",
      "bystander=$!",
      "until [ -e /shared/bystander_ready ]; do sleep 0.05; done",
      `${MY_INIT} ${args}`,
      "echo $? > /shared/rc",
      'echo "ended $EPOCHREALTIME" >> /shared/times',
      "kill -0 $bystander && echo yes > /shared/bystander_alive",
      "exit 0",
    ].join("\n"),
  ];
}

Deno.test({
  name:
    "my_init not running as PID 1 becomes a child subreaper and reaps orphans",
  ignore,
  async fn() {
    // PID 1 of the sandbox is a shell; my_init is its child. The orphan
    // (a sleep whose parent subshell exits at once) must come to my_init,
    // the nearest subreaper, not to the shell. At exit my_init signals its
    // own descendants only: the shell's other child must not notice.
    const main = "(sleep 0.3 &); touch /shared/spawned; " +
      "while [ ! -e /shared/go ]; do sleep 0.05; done";
    const { out, result } = await withSandbox(
      {
        command: besideBystander(
          `-v --skip-startup-files --skip-runit -- sh -c '${main}'`,
        ),
      },
      async (box, done) => {
        await box.waitFor("spawned", 20000);
        const pid1 = await box.pid1();
        const myInit = (await childrenOf(pid1)).find((p) =>
          p.comm === "my_init"
        );
        assert.ok(myInit, "my_init not found under the sandbox's PID 1");
        // Once the orphan is gone, my_init's only child is its main command.
        await until(
          "my_init has reaped the orphan",
          async () => (await childrenOf(myInit.pid)).length === 1,
          20000,
          async () => JSON.stringify(await childrenOf(myInit.pid)),
        );
        const zombies = await zombiesUnder(myInit.pid);
        const alive = (await procStat(myInit.pid))?.state;
        await Deno.writeTextFile(`${box.shared}/go`, "");
        await done;
        return {
          zombies,
          alive,
          rc: await box.read("rc"),
          bystander: await box.read("bystander"),
          bystanderAlive: await box.read("bystander_alive"),
        };
      },
    );
    assert.deepEqual(result.zombies, []);
    assert.notEqual(result.alive, undefined);
    assert.equal(result.rc, "0\n", out.stderr);
    assert.equal(
      result.bystander,
      "",
      "my_init signalled a process not its own",
    );
    assert.equal(result.bystanderAlive, "yes\n", out.stderr);
    const log = logLines(out.stderr);
    assert.ok(
      log.includes("Not running as PID 1: registered as child subreaper"),
      out.stderr,
    );
    assert.equal(
      log.filter((l) => l.startsWith("Reaped orphan PID")).length,
      1,
      out.stderr,
    );
  },
});

Deno.test({
  name:
    "my_init not running as PID 1 kills its own leftover processes at exit and no other",
  ignore,
  async fn() {
    // The main command leaves a process that ignores TERM and one that
    // logs it; both are my_init's descendants and must go, the first with
    // KILL after KILL_ALL_PROCESSES_TIMEOUT (1 s), which the PID 1 shell
    // times: from the main command's exit to my_init's.
    const main = [
      "(trap '' TERM; exec sleep 100) &",
      "(trap 'echo TERM >> /shared/leftover; exit 0' TERM; " +
      "touch /shared/leftover_ready; while :; do sleep 0.05; done) &",
      "until [ -e /shared/leftover_ready ]; do sleep 0.05; done",
      'echo "exit $EPOCHREALTIME" >> /shared/times',
      "exit 3",
    ].join("\n");
    const { out, result } = await withSandbox(
      {
        command: besideBystander("--skip-startup-files --skip-runit -- /main"),
        env: { KILL_ALL_PROCESSES_TIMEOUT: "1" },
        files: { "/main": bash(main) },
      },
      async (box, done) => {
        await done;
        const times = new Map(
          (await box.read("times")).trim().split("\n").map((l) => {
            const [name, seconds] = l.split(" ");
            return [name, Number(seconds) * 1000] as const;
          }),
        );
        return {
          rc: await box.read("rc"),
          leftover: await box.read("leftover"),
          bystander: await box.read("bystander"),
          bystanderAlive: await box.read("bystander_alive"),
          ms: Math.round(
            (times.get("ended") ?? NaN) - (times.get("exit") ?? NaN),
          ),
        };
      },
    );
    assert.equal(result.rc, "3\n", out.stderr);
    assert.equal(result.leftover, "TERM\n", out.stderr);
    assert.equal(
      result.bystander,
      "",
      "my_init signalled a process not its own",
    );
    assert.equal(result.bystanderAlive, "yes\n", out.stderr);
    assert.ok(
      logLines(out.stderr).includes(
        "Not all processes have exited in time. Forcing them to exit.",
      ),
      out.stderr,
    );
    // 1 s, plus at most 1.5 s of a loaded machine's delays.
    assert.ok(
      result.ms >= 1000 && result.ms <= 2500,
      `my_init exited ${result.ms} ms after its main command\n${out.stderr}`,
    );
  },
});

Deno.test({
  name:
    "my_init makes the main command the terminal's foreground process group",
  ignore,
  async fn() {
    // `docker run -it IMAGE my_init -- bash -l`: the command needs the
    // terminal's foreground (job control, ^C to it and not to PID 1), in a
    // process group of its own. `script` gives my_init a pseudo-terminal.
    const main = "ps -o pgid=,tpgid= -p $$ > /shared/pg; " +
      "ps -o pgid= -p $PPID >> /shared/pg";
    const r = await runSandbox({
      command: [
        "script",
        "-qfec",
        `${MY_INIT} --skip-startup-files --skip-runit -- sh -c '${main}'`,
        "/dev/null",
      ],
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const [mainLine, initLine] = (r.shared.pg ?? "").trim().split("\n");
    const [pgid, tpgid] = mainLine.trim().split(/\s+/).map(Number);
    const initPgid = Number(initLine.trim());
    assert.equal(
      pgid,
      tpgid,
      `main command not in the foreground: ${r.shared.pg}`,
    );
    assert.notEqual(pgid, initPgid, "main command shares my_init's group");
  },
});

Deno.test({
  name:
    "my_init run without its launcher says so, and still reaps its main command and exits",
  ignore,
  async fn() {
    // The bundle on the bare runtime: no signal is blocked at start, so a
    // SIGCHLD may reach a runtime thread instead of the signalfd.
    const r = await runSandbox({
      command: [
        `${DIST}/lib/deno`,
        "run",
        "--allow-all",
        "--no-config",
        "--no-lock",
        "--quiet",
        `${DIST}/lib/my_init.js`,
        "--skip-startup-files",
        "--skip-runit",
        "--",
        "sh",
        "-c",
        "exit 4",
      ],
    }, 20000);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /my_init was not started through its launcher/);
  },
});

Deno.test({
  name:
    "my_init starts on a read-only root with an environment over 64 KiB (the launcher needs no writable /tmp)",
  ignore,
  async fn() {
    // bash writes a here-document over its pipe size to a file in $TMPDIR
    // or /tmp; /run alone is writable here, and /dev/shm is a tmpfs of its
    // own, as every engine mounts it.
    const r = await runSandbox({
      command: [
        "bash",
        "-c",
        [
          "mount -t tmpfs tmpfs /dev/shm && mount -o remount,ro / || exit 99",
          "if touch /tmp/probe 2>/dev/null; then exit 98; fi",
          'big=$(head -c 100000 /dev/zero | tr "\\0" x)',
          `BIG=$big exec ${MY_INIT} --skip-startup-files --skip-runit -- ` +
          "sh -c 'echo ${#BIG} > /shared/big; ls -A /dev/shm > /shared/shm'",
        ].join("\n"),
      ],
    });
    assert.notEqual(r.code, 99, "the sandbox could not be made read-only");
    assert.notEqual(r.code, 98, "/tmp stayed writable");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.shared.big, "100000\n", r.stderr);
    // The here-document's file is unlinked by bash once opened.
    assert.equal(r.shared.shm, "", r.stderr);
  },
});

Deno.test({
  name: "my_init takes the terminal back once the main command has exited",
  ignore,
  async fn() {
    // After the command, my_init's log lines and a shell that started it
    // need the terminal's foreground again. A pre-shutdown script (runit
    // on, so that one runs) looks at my_init's group and its terminal's
    // foreground group after the main command has exited.
    const look = "ps -o pgid=,tpgid= -p $PPID > /shared/pg";
    const r = await runSandbox({
      command: [
        "script",
        "-qfec",
        `${MY_INIT} --skip-startup-files -- sh -c 'exit 3'`,
        "/dev/null",
      ],
      files: { "/etc/my_init.pre_shutdown.d/10_look": script(look) },
    });
    assert.equal(r.code, 3, r.stderr + r.stdout);
    const [pgid, tpgid] = (r.shared.pg ?? "").trim().split(/\s+/).map(Number);
    assert.ok(pgid > 0, `no pre-shutdown look: ${r.shared.pg}`);
    assert.equal(
      tpgid,
      pgid,
      `the terminal stayed with the main command's group: ${r.shared.pg}`,
    );
  },
});
