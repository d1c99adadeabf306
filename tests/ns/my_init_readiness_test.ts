/**
 * Every wait honest, every input bounded: `--wait-for-services` and
 * `--status` count a service ready only once its `run` has been up a second
 * without a restart and its `check` script (if any) exits 0, so a service
 * that crash-loops or cannot be executed never lets the main command start;
 * a stop during that wait aborts; a huge KILL_PROCESS_TIMEOUT is a long
 * grace period, not an immediate KILL; and an environment too large in
 * total for the kernel is cut at import, not left to make every spawn fail
 * with E2BIG.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MY_INIT, runSandbox, script } from "./_sandbox.ts";
import { bash, ignore, logLines, until, withSandbox } from "./_my_init.ts";

/** Whether /shared/NAME of a sandbox exists. */
async function exists(shared: string, name: string): Promise<boolean> {
  return await Deno.stat(`${shared}/${name}`).then(() => true, () => false);
}

const lines = (text: string) => text.split("\n").filter((l) => l !== "");

Deno.test({
  name:
    "my_init --wait-for-services never starts the main command while a service crash-loops",
  ignore,
  async fn() {
    const { out, result } = await withSandbox(
      {
        args: [
          "--wait-for-services=4",
          "--",
          "sh",
          "-c",
          "touch /shared/main_ran",
        ],
        files: {
          // Exits at once: runsv restarts it every second, and calls it
          // "run" each time for a moment.
          "/etc/service/crash/run": script(
            "echo x >> /shared/crash_starts; exit 1",
          ),
          // Not executable: runsv's exec fails, with the same loop.
          "/etc/service/noexec/run": {
            text: "#!/bin/sh\nexit 0\n",
            mode: 0o644,
          },
          "/etc/service/fine/run": script("exec sleep 1000"),
        },
      },
      async (box, done) => {
        await done;
        return {
          mainRan: await exists(box.shared, "main_ran"),
          starts: lines(await box.read("crash_starts")).length,
        };
      },
    );
    assert.equal(out.code, 1, out.stderr);
    assert.equal(result.mainRan, false, "the main command ran");
    // runsv did start it, again and again: it was "run" several times.
    assert.ok(result.starts >= 2, `crash started ${result.starts} times`);
    const log = logLines(out.stderr);
    assert.ok(
      log.includes("Services not up after 4 s: crash, noexec"),
      out.stderr,
    );
    for (const name of ["crash", "noexec"]) {
      assert.ok(
        log.some((l) =>
          new RegExp(`^${name}: (down|up 0\\.\\d s, not yet 1 s)$`).test(l)
        ),
        `no reason for ${name}\n${out.stderr}`,
      );
    }
    assert.ok(!log.some((l) => l.startsWith("fine:")), out.stderr);
  },
});

Deno.test({
  name:
    "my_init --wait-for-services times out on a service whose check fails, and names why",
  ignore,
  async fn() {
    const { out, result } = await withSandbox(
      {
        args: [
          "--wait-for-services=3",
          "--",
          "sh",
          "-c",
          "touch /shared/main_ran",
        ],
        files: {
          "/etc/service/web/run": script("exec sleep 1000"),
          "/etc/service/web/check": script(
            "echo x >> /shared/checks; exit 1",
          ),
        },
      },
      async (box, done) => {
        await done;
        return {
          mainRan: await exists(box.shared, "main_ran"),
          checks: lines(await box.read("checks")).length,
        };
      },
    );
    assert.equal(out.code, 1, out.stderr);
    assert.equal(result.mainRan, false, "the main command ran");
    // Up after 1 s, then re-checked every 420 ms until the deadline.
    assert.ok(result.checks >= 2, `check ran ${result.checks} times`);
    const log = logLines(out.stderr);
    assert.ok(log.includes("Services not up after 3 s: web"), out.stderr);
    assert.ok(log.includes("web: check exited 1"), out.stderr);
  },
});

Deno.test({
  name:
    "my_init --status reports a failing check, a crash loop and a young service as not ready, with why",
  ignore,
  async fn() {
    const stat = (n: string) => `/etc/service/${n}/supervise/stat`;
    const main = [
      // Old enough: web and fine up for over a second.
      `until grep -q '^run' ${stat("web")} 2>/dev/null && grep -q '^run' ${
        stat("fine")
      } 2>/dev/null; do sleep 0.05; done`,
      "sleep 1.5",
      `${MY_INIT} --status > /shared/status; echo $? > /shared/rc`,
      // Young: asked the moment runsv starts it.
      "rm /etc/service/young/down",
      "printf u > /etc/service/young/supervise/control",
      `until grep -q '^run' ${stat("young")}; do sleep 0.01; done`,
      `${MY_INIT} --status > /shared/status_young; echo $? > /shared/rc_young`,
    ].join("\n");
    const { out, result } = await withSandbox(
      {
        args: ["--", "sh", "-c", main],
        env: { MARK: "caller's environment" },
        files: {
          "/etc/service/web/run": script("exec sleep 1000"),
          // sv's convention: run as ./check in the service directory.
          "/etc/service/web/check": script(
            'pwd > /shared/check_cwd; echo "$MARK" > /shared/check_env; exit 1',
          ),
          "/etc/service/fine/run": script("exec sleep 1000"),
          "/etc/service/fine/check": script("exit 0"),
          "/etc/service/crash/run": script("exit 1"),
          "/etc/service/young/run": script("exec sleep 1000"),
          "/etc/service/young/down": "",
          // Not executable: no check, as for sv.
          "/etc/service/young/check": {
            text: "#!/bin/sh\nexit 1\n",
            mode: 0o644,
          },
        },
      },
      async (box, done) => {
        await done;
        return {
          status: await box.read("status"),
          rc: await box.read("rc"),
          young: await box.read("status_young"),
          rcYoung: await box.read("rc_young"),
          cwd: await box.read("check_cwd"),
          env: await box.read("check_env"),
        };
      },
    );
    assert.equal(out.code, 0, out.stderr);
    const status = lines(result.status);
    assert.equal(status.length, 4, result.status);
    assert.match(status[0], /^fail: crash: (down|up 0\.\d s, not yet 1 s)$/);
    assert.deepEqual(status.slice(1), [
      "ok: fine: run",
      "fail: web: check exited 1",
      "ok: young: down (disabled)",
    ]);
    assert.equal(result.rc, "1\n");
    assert.equal(result.cwd, "/etc/service/web\n");
    assert.equal(result.env, "caller's environment\n");
    assert.match(
      result.young,
      /^fail: young: up 0\.\d s, not yet 1 s$/m,
      result.young,
    );
    assert.equal(result.rcYoung, "1\n");
  },
});

Deno.test({
  name:
    "my_init --wait-for-services starts the main command once a service is up 1 s and its check passes",
  ignore,
  async fn() {
    const { out, result } = await withSandbox(
      {
        args: [
          "--wait-for-services=20",
          "--",
          "bash",
          "-c",
          'echo "$EPOCHREALTIME" > /shared/main_at; ' +
          "test -e /shared/web_ready && touch /shared/main_saw_ready",
        ],
        files: {
          "/etc/service/web/run": bash(
            [
              'echo "$EPOCHREALTIME" > /shared/web_at',
              // Ready some time after it started, as a real daemon is.
              "(sleep 1.5; touch /shared/web_ready) &",
              "exec sleep 1000",
            ].join("\n"),
          ),
          "/etc/service/web/check": script("test -e /shared/web_ready"),
          "/etc/service/plain/run": bash(
            'echo "$EPOCHREALTIME" > /shared/plain_at; exec sleep 1000',
          ),
        },
      },
      async (box, done) => {
        await done;
        const at = async (n: string) =>
          Number((await box.read(n)).trim()) * 1000;
        return {
          main: await at("main_at"),
          web: await at("web_at"),
          plain: await at("plain_at"),
          sawReady: await exists(box.shared, "main_saw_ready"),
        };
      },
    );
    assert.equal(out.code, 0, out.stderr);
    assert.ok(result.sawReady, "the main command ran before the check passed");
    // The wall clock of the host, in every namespace.
    assert.ok(
      result.main - result.plain >= 1000,
      `main ran ${result.main - result.plain} ms after plain started`,
    );
    assert.ok(
      result.main - result.web >= 1500,
      `main ran ${result.main - result.web} ms after web started`,
    );
  },
});

Deno.test({
  name:
    'my_init stopped during --wait-for-services exits 2 with "Init system aborted."',
  ignore,
  async fn() {
    const { out, result } = await withSandbox(
      {
        args: [
          "--wait-for-services=60",
          "--",
          "sh",
          "-c",
          "touch /shared/main_ran",
        ],
        files: {
          "/etc/service/web/run": script("exec sleep 1000"),
          "/etc/service/web/check": script(
            "echo x >> /shared/checks; exit 1",
          ),
        },
      },
      async (box, done) => {
        // In the wait for sure: the check has failed once.
        await until(
          "the check ran",
          async () => (await box.read("checks")) !== "",
        );
        const sentAt = Date.now();
        await box.kill("SIGTERM");
        await done;
        return {
          ms: Date.now() - sentAt,
          mainRan: await exists(box.shared, "main_ran"),
        };
      },
    );
    assert.equal(out.code, 2, out.stderr);
    assert.equal(result.mainRan, false, "the main command ran");
    const log = logLines(out.stderr);
    assert.ok(log.includes("Received SIGTERM; shutting down..."), out.stderr);
    assert.ok(log.includes("Init system aborted."), out.stderr);
    // Not the wait's 60 s, nor its report.
    assert.ok(result.ms < 15_000, `exited ${result.ms} ms after TERM`);
    assert.ok(!log.some((l) => l.startsWith("Services not up")), out.stderr);
  },
});

Deno.test({
  name:
    "my_init gives the main command its grace period with KILL_PROCESS_TIMEOUT=99999999",
  ignore,
  async fn() {
    // setTimeout turns a delay over 2^31-1 ms into 1 ms: KILL at once.
    const { out, result } = await withSandbox(
      {
        args: [
          "--skip-runit",
          "--",
          "bash",
          "-c",
          [
            "trap 'sleep 1; echo graceful > /shared/graceful; exit 0' TERM",
            "touch /shared/ready",
            "while :; do sleep 0.1; done",
          ].join("\n"),
        ],
        env: {
          KILL_PROCESS_TIMEOUT: "99999999",
          KILL_ALL_PROCESSES_TIMEOUT: "99999999",
        },
      },
      async (box, done) => {
        await box.waitFor("ready");
        await box.kill("SIGTERM");
        await done;
        return await box.read("graceful");
      },
    );
    assert.equal(result, "graceful\n", out.stderr);
    assert.equal(out.code, 0, out.stderr);
    const log = logLines(out.stderr);
    assert.ok(!log.some((l) => l.includes("Forcing")), out.stderr);
    assert.ok(!log.some((l) => l.startsWith("Invalid")), out.stderr);
  },
});

Deno.test({
  name:
    "my_init imports only as much of /etc/container_environment as the kernel lets a child have",
  ignore,
  async fn() {
    // 20 × 120 kB: each under MAX_ARG_STRLEN, 2.4 MB together, over the
    // 2 MiB the kernel allows with the usual 8 MiB stack limit, which the
    // sandbox gets whatever the host's is.
    const DIR = "/etc/container_environment";
    const names = Array.from(
      { length: 20 },
      (_, i) => `BIG${String(i).padStart(2, "0")}`,
    );
    const files: Record<string, string> = {};
    for (const n of names) files[`${DIR}/${n}`] = "x".repeat(120_000);
    const r = await runSandbox({
      command: [
        "prlimit",
        `--stack=${8 * 1024 * 1024}`,
        "--",
        MY_INIT,
        "--skip-runit",
        "--",
        "sh",
        "-c",
        // Two spawns deep, as a service's own children are.
        "env | cut -c1-5 > /shared/names",
      ],
      files,
    });
    assert.equal(r.code, 0, r.stderr);
    const seen = lines(r.shared.names ?? "").filter((l) => l.startsWith("BIG"))
      .map((l) => l.slice(0, 5)).sort();
    const log = logLines(r.stderr);
    const skipped = log.flatMap((l) => {
      const m = new RegExp(
        `^Ignoring ${DIR}/(BIG\\d\\d): the environment ` +
          "has no room for its 120015 bytes: .* every program started " +
          "would fail with E2BIG$",
      ).exec(l);
      return m ? [m[1]] : [];
    });
    // In import order: the first 16 fit in 2 MiB less 128 KiB, the rest
    // are skipped, each named once.
    assert.deepEqual(seen, names.slice(0, 16), r.stderr);
    assert.deepEqual(skipped, names.slice(16), r.stderr);
    assert.ok(!r.stderr.includes("E2BIG)"), r.stderr);
  },
});

Deno.test({
  name:
    "my_init --status run by a user who cannot read runit's state says so and exits 1",
  ignore,
  async fn() {
    // runsv makes supervise/ mode 0700: root's. As root, the service is
    // up; as nobody, nothing can be known of it, and "not supervised"
    // would be a lie.
    const main = [
      `until ${MY_INIT} --status > /shared/root; do sleep 0.1; done`,
      "setpriv --reuid=65534 --regid=65534 --clear-groups " +
      `${MY_INIT} --status > /shared/nobody; echo $? > /shared/rc`,
    ].join("\n");
    const { out, result } = await withSandbox(
      {
        args: ["--", "sh", "-c", main],
        files: {
          "/etc/service/cron/run": script("exec sleep 1000"),
          "/etc/service/off/run": script("exec sleep 1000"),
          "/etc/service/off/down": "",
        },
      },
      async (box, done) => {
        await done;
        return {
          root: await box.read("root"),
          nobody: await box.read("nobody"),
          rc: await box.read("rc"),
        };
      },
    );
    assert.equal(out.code, 0, out.stderr);
    assert.equal(result.root, "ok: cron: run\nok: off: down (disabled)\n");
    const denied =
      "cannot read its runit state (supervise/ok: Permission denied (EACCES))";
    assert.equal(
      result.nobody,
      `fail: cron: ${denied}\nok: off: ${denied} (disabled)\n`,
    );
    assert.equal(result.rc, "1\n");
  },
});

Deno.test({
  name:
    "my_init --wait-for-services timing out on a check that hangs names that check as the reason",
  ignore,
  async fn() {
    // runsvdir starts it within a second (it rescans a directory changed
    // in the current second only in the next), its check starts 1 s after
    // and never exits: the wait (4 s, under the check's own 5 s) ends
    // while it runs. The last complete look ("up 0.0 s") is past.
    const { out } = await withSandbox(
      {
        args: ["--wait-for-services=4", "--", "true"],
        files: {
          "/etc/service/web/run": script("exec sleep 1000"),
          "/etc/service/web/check": script("exec sleep 1000"),
        },
      },
      async (_box, done) => await done,
    );
    assert.equal(out.code, 1, out.stderr);
    const log = logLines(out.stderr);
    assert.ok(log.includes("Services not up after 4 s: web"), out.stderr);
    assert.ok(
      log.some((l) => /^web: check still running after \d+\.\d s$/.test(l)),
      out.stderr,
    );
  },
});
