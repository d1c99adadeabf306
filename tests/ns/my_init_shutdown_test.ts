/**
 * The shutdown sequence and the runit integration: services up, then on TERM
 * the main command, the pre-shutdown scripts, every service down, the
 * post-shutdown scripts, the kill-all; each escalation to KILL comes after
 * its configured timeout (KILL_PROCESS_TIMEOUT, KILL_ALL_PROCESSES_TIMEOUT)
 * and not much later; a failing or hanging shutdown script does not skip the
 * next; a second TERM does not cut the sequence short; one-shot mode shuts
 * down the same way with the main command's code; `--status` and
 * `--wait-for-services`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MY_INIT, type Sandbox, script, sleep } from "./_sandbox.ts";
import {
  bash,
  childrenOf,
  ignore,
  logLines,
  type Outcome,
  pool,
  until,
  withSandbox,
} from "./_my_init.ts";

/**
 * A service that logs `up NAME`, and `down NAME` when TERM stops it. bash
 * runs the trap once the current short sleep ends. The trap logs once even
 * if TERM comes again (that my_init sends it once is a test of its own).
 * It also writes the pid of its runsv's parent, runsvdir, to
 * /shared/runsvdir_pid.
 */
function service(name: string): { text: string; mode: number } {
  return bash([
    `trap '[ -n "$d" ] || { d=1; echo down ${name} >> /shared/order; }; exit 0' TERM`,
    "read -r _ _ _ runsvdir _ < /proc/$PPID/stat",
    "echo $runsvdir > /shared/runsvdir_pid",
    `echo up ${name} >> /shared/order`,
    "while :; do sleep 0.1; done",
  ].join("\n"));
}

const mark = (line: string) => script(`echo ${line} >> /shared/order`);

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

/** Splits the order log into its phases, checking each phase's content. */
function assertPhases(
  got: string[],
  phases: string[][],
  out: Outcome,
): void {
  const what = `order: ${JSON.stringify(got)}\n${out.stderr}`;
  let i = 0;
  for (const phase of phases) {
    const slice = got.slice(i, i + phase.length);
    assert.deepEqual([...slice].sort(), [...phase].sort(), what);
    i += phase.length;
  }
  assert.equal(got.length, i, what);
}

/**
 * A generous KILL_PROCESS_TIMEOUT where escalation to KILL is not what a
 * test is about: on a loaded machine a service may take over the default
 * 3 s to run its TERM handler.
 */
const PATIENT = { KILL_PROCESS_TIMEOUT: "20" };

const DAEMON_FILES = {
  "/etc/service/a/run": service("a"),
  "/etc/service/b/run": service("b"),
  "/etc/service/c/run": service("c"),
  "/etc/my_init.pre_shutdown.d/10_pre": mark("pre"),
  "/etc/my_init.post_shutdown.d/10_post": mark("post"),
};

async function upCount(read: () => Promise<string>): Promise<number> {
  return lines(await read()).filter((l) => l.startsWith("up ")).length;
}

/**
 * Sends TERM (or `signal`) to PID 1, as `docker stop` does; the time just
 * before, in ms since the epoch. Every timeout of the shutdown starts after
 * it, so it is a lower bound that holds however slow the machine is.
 */
async function stop(
  box: Sandbox,
  signal: "SIGTERM" | "SIGINT" = "SIGTERM",
): Promise<number> {
  const pid = await box.pid1();
  const sentAt = Date.now();
  Deno.kill(pid, signal);
  return sentAt;
}

/**
 * Daemon-mode run: waits until `services` services wrote `up NAME`, sends
 * `signal` to PID 1 as `docker stop` does, and returns the order file, the
 * time stamps (see {@link stamp}) and when the signal was sent.
 */
function stopWhenUp(
  options: Parameters<typeof withSandbox>[0],
  services: number,
  signal: "SIGTERM" | "SIGINT" = "SIGTERM",
) {
  return withSandbox(options, async (box, done) => {
    await until(
      `${services} services up`,
      async () => await upCount(() => box.read("order")) === services,
    );
    const sentAt = await stop(box, signal);
    await done;
    return {
      order: lines(await box.read("order")),
      times: await readTimes(box),
      runsvdirPid: (await box.read("runsvdir_pid")).trim(),
      sentAt,
    };
  });
}

/**
 * A bash command appending `NAME TIME` to /shared/times: the wall clock in
 * seconds and microseconds ($EPOCHREALTIME: no fork), the clock of the
 * host's Date.now() too (a PID namespace has no clock of its own).
 */
function stamp(name: string): string {
  return `echo "${name} $EPOCHREALTIME" >> /shared/times`;
}

/** /shared/times by name (the first stamp of each), in ms since the epoch. */
async function readTimes(box: Sandbox): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  for (const line of lines(await box.read("times"))) {
    const [name, seconds] = line.split(" ");
    if (!times.has(name)) times.set(name, Number(seconds) * 1000);
  }
  return times;
}

/**
 * How much later than its timeout an escalation may come: the delays of a
 * loaded two-core machine (timers, process starts, the next step's start),
 * far below the 10 s of a timeout that is not read at all.
 */
const MARGIN_MS = 1500;

/**
 * Asserts that `to` came `timeoutMs` to `timeoutMs` + MARGIN_MS after
 * `from`. `from` is taken before the timeout starts and `to` after it ends,
 * so a KILL sent too early fails as surely as one sent too late.
 */
function assertAfterTimeout(
  what: string,
  from: number | undefined,
  to: number | undefined,
  timeoutMs: number,
  out: Outcome,
): void {
  assert.ok(from !== undefined && to !== undefined, `${what}: no time stamp`);
  const ms = Math.round(to - from);
  assert.ok(
    ms >= timeoutMs && ms <= timeoutMs + MARGIN_MS,
    `${what} ${ms} ms after the start of a ${timeoutMs} ms timeout ` +
      `(expected ${timeoutMs} to ${timeoutMs + MARGIN_MS} ms)\n${out.stderr}`,
  );
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test({
    name:
      `my_init shuts down in order on ${signal}: pre-shutdown, services, post-shutdown`,
    ignore,
    async fn() {
      const { out, result } = await stopWhenUp(
        { args: [], env: PATIENT, files: DAEMON_FILES },
        3,
        signal,
      );
      assertPhases(result.order, [
        ["up a", "up b", "up c"],
        ["pre"],
        ["down a", "down b", "down c"],
        ["post"],
      ], out);
      // Daemon mode after a requested shutdown is a success.
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.signal, null);
      // phusion's lines, in the order of the steps, naming runsvdir's pid.
      const runsvdir = result.runsvdirPid;
      assert.match(runsvdir, /^[0-9]+$/);
      const log = logLines(out.stderr);
      const steps = [
        `Runit started as PID ${runsvdir}`,
        `Received ${signal}; shutting down...`,
        "Running pre-shutdown scripts...",
        `Shutting down runit daemon (PID ${runsvdir})...`,
        "Running post-shutdown scripts...",
        "Killing all processes...",
      ];
      assert.deepEqual(log.filter((l) => steps.includes(l)), steps, out.stderr);
    },
  });
}

Deno.test({
  name: "my_init sends each stopping service TERM only once",
  ignore,
  async fn() {
    // Services that take a moment to stop (finishing requests, flushing)
    // log every TERM they get. For many daemons a second TERM means "stop
    // now" (or, as for a bash trap, runs the stop handler again), so the
    // shutdown must ask runsv for `down` once, not on every state change.
    const slow = (name: string) =>
      bash([
        `trap 'echo TERM >> /shared/terms_${name}; stop=1' TERM`,
        `echo up ${name} >> /shared/order`,
        "stop=0",
        "while [ $stop = 0 ]; do sleep 0.05; done",
        "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.05; done",
        `echo down ${name} >> /shared/order`,
      ].join("\n"));
    const { out, result } = await withSandbox(
      {
        args: [],
        env: PATIENT,
        files: {
          "/etc/service/a/run": slow("a"),
          "/etc/service/b/run": slow("b"),
        },
      },
      async (box, done) => {
        await until(
          "two services up",
          async () => await upCount(() => box.read("order")) === 2,
        );
        await box.kill("SIGTERM");
        await done;
        return {
          a: lines(await box.read("terms_a")).length,
          b: lines(await box.read("terms_b")).length,
          order: lines(await box.read("order")),
        };
      },
    );
    assertPhases(result.order, [["up a", "up b"], ["down a", "down b"]], out);
    assert.deepEqual({ a: result.a, b: result.b }, { a: 1, b: 1 });
    assert.equal(out.code, 0, out.stderr);
  },
});

Deno.test({
  name:
    "my_init kills a service that ignores TERM after KILL_PROCESS_TIMEOUT and completes the shutdown",
  ignore,
  async fn() {
    const { out, result } = await stopWhenUp(
      {
        args: [],
        env: { KILL_PROCESS_TIMEOUT: "1" },
        files: {
          "/etc/service/good/run": service("good"),
          // The ignored TERM survives exec: sleep never reacts to it.
          "/etc/service/stubborn/run": script(
            "trap '' TERM\necho up stubborn >> /shared/order\nexec sleep 1000",
          ),
          "/etc/my_init.post_shutdown.d/10_post": bash(
            `echo post >> /shared/order\n${stamp("post")}`,
          ),
        },
      },
      2,
    );
    assertPhases(
      result.order,
      [["up good", "up stubborn"], ["down good"], ["post"]],
      out,
    );
    assert.ok(
      logLines(out.stderr).includes(
        "Services still up after 1 s: stubborn. Killing them.",
      ),
      out.stderr,
    );
    // Nothing else of the shutdown waits: the post-shutdown script starts
    // right after the KILL.
    assertAfterTimeout(
      "the post-shutdown script started",
      result.sentAt,
      result.times.get("post"),
      1000,
      out,
    );
    assert.equal(out.code, 0, out.stderr);
  },
});

Deno.test({
  name: "my_init runs every shutdown script even when one fails",
  ignore,
  async fn() {
    const { out, result } = await stopWhenUp(
      {
        args: [],
        env: PATIENT,
        files: {
          "/etc/service/a/run": service("a"),
          "/etc/my_init.pre_shutdown.d/10_fail": script(
            "echo pre1 >> /shared/order\nexit 4",
          ),
          "/etc/my_init.pre_shutdown.d/20_next": mark("pre2"),
          "/etc/my_init.post_shutdown.d/10_fail": script(
            "echo post1 >> /shared/order\nexit 4",
          ),
          "/etc/my_init.post_shutdown.d/20_next": mark("post2"),
        },
      },
      1,
    );
    assert.deepEqual(result.order, [
      "up a",
      "pre1",
      "pre2",
      "down a",
      "post1",
      "post2",
    ], out.stderr);
    const log = logLines(out.stderr);
    for (const dir of ["pre_shutdown", "post_shutdown"]) {
      assert.ok(
        log.some((l) =>
          l.includes(`/etc/my_init.${dir}.d/10_fail`) && /status 4\b/.test(l)
        ),
        out.stderr,
      );
    }
    assert.equal(out.code, 0, out.stderr);
  },
});

Deno.test({
  name:
    "my_init stops a hanging shutdown script after KILL_PROCESS_TIMEOUT and runs the next",
  ignore,
  async fn() {
    const { out, result } = await stopWhenUp(
      {
        args: [],
        env: { KILL_PROCESS_TIMEOUT: "1" },
        files: {
          "/etc/service/a/run": service("a"),
          "/etc/my_init.pre_shutdown.d/10_hang": bash([
            `trap '${stamp("term")}; echo TERM >> /shared/order; exit 0' TERM`,
            "echo hang >> /shared/order",
            "while :; do sleep 0.05; done",
          ].join("\n")),
          "/etc/my_init.pre_shutdown.d/20_next": mark("next"),
          "/etc/my_init.post_shutdown.d/10_post": mark("post"),
        },
      },
      1,
    );
    assert.deepEqual(
      result.order,
      ["up a", "hang", "TERM", "next", "down a", "post"],
      out.stderr,
    );
    assertAfterTimeout(
      "the hanging script got TERM",
      result.sentAt,
      result.times.get("term"),
      1000,
      out,
    );
    assert.ok(
      logLines(out.stderr).includes(
        "/etc/my_init.pre_shutdown.d/10_hang did not finish in 1 s",
      ),
      out.stderr,
    );
    assert.equal(out.code, 0, out.stderr);
  },
});

Deno.test({
  name:
    "my_init kills a main command that ignores TERM after KILL_PROCESS_TIMEOUT",
  ignore,
  async fn() {
    // The main command logs its TERM and carries on; the pre-shutdown
    // script, the next step, stamps its start: the KILL came in between.
    const { out, result } = await withSandbox(
      {
        args: ["--skip-startup-files", "--", "/main"],
        env: { KILL_PROCESS_TIMEOUT: "1" },
        files: {
          "/main": bash([
            `trap '${stamp("term")}' TERM`,
            "touch /shared/ready",
            "while :; do sleep 0.05; done",
          ].join("\n")),
          "/etc/my_init.pre_shutdown.d/10_pre": bash(stamp("pre")),
        },
      },
      async (box, done) => {
        await box.waitFor("ready");
        const sentAt = await stop(box);
        await done;
        return { sentAt, times: await readTimes(box) };
      },
    );
    assert.ok(result.times.has("term"), `no TERM reached it\n${out.stderr}`);
    assertAfterTimeout(
      "the pre-shutdown script started",
      result.sentAt,
      result.times.get("pre"),
      1000,
      out,
    );
    assert.ok(
      logLines(out.stderr).some((l) =>
        /^\/main \(PID \d+\) did not shut down in time\. Forcing it to exit\.$/
          .test(l)
      ),
      out.stderr,
    );
    assert.equal(out.code, 128 + 9, out.stderr);
  },
});

Deno.test({
  name:
    "my_init on TERM in one-shot mode stops the main command before the pre-shutdown scripts",
  ignore,
  async fn() {
    const { out, result } = await withSandbox(
      {
        args: ["--", "/main"],
        env: PATIENT,
        files: {
          "/main": bash([
            "trap 'echo main TERM >> /shared/order; exit 7' TERM",
            `until [ "$(grep -c '^up' /shared/order 2>/dev/null)" = 2 ]; do sleep 0.05; done`,
            "echo main ready >> /shared/order",
            "while :; do sleep 0.05; done",
          ].join("\n")),
          "/etc/service/a/run": service("a"),
          "/etc/service/b/run": service("b"),
          "/etc/my_init.pre_shutdown.d/10_pre": mark("pre"),
          "/etc/my_init.post_shutdown.d/10_post": mark("post"),
        },
      },
      async (box, done) => {
        await until(
          "the main command ready",
          async () => lines(await box.read("order")).includes("main ready"),
        );
        await stop(box);
        await done;
        return lines(await box.read("order"));
      },
    );
    assertPhases(result, [
      ["up a", "up b"],
      ["main ready"],
      ["main TERM"],
      ["pre"],
      ["down a", "down b"],
      ["post"],
    ], out);
    assert.equal(out.code, 7, out.stderr);
  },
});

Deno.test({
  name:
    "my_init ignores a second TERM during the shutdown in daemon mode and completes it",
  ignore,
  async fn() {
    // The service stops only once /shared/release exists, so the second
    // TERM comes while my_init waits for it.
    const { out, result } = await withSandbox(
      {
        args: ["-v"],
        env: PATIENT,
        files: {
          "/etc/service/a/run": bash([
            "trap 'echo TERM a >> /shared/order; stop=1' TERM",
            "echo up a >> /shared/order",
            "stop=0",
            "while [ $stop = 0 ]; do sleep 0.05; done",
            "until [ -e /shared/release ]; do sleep 0.05; done",
            "echo down a >> /shared/order",
          ].join("\n")),
          "/etc/my_init.pre_shutdown.d/10_pre": mark("pre"),
          "/etc/my_init.post_shutdown.d/10_post": mark("post"),
        },
      },
      async (box, done) => {
        const order = async () => lines(await box.read("order"));
        await until("service up", async () => (await order()).includes("up a"));
        await stop(box);
        await until("TERM a", async () => (await order()).includes("TERM a"));
        await stop(box);
        await until(
          "my_init ignored the second TERM",
          () =>
            logLines(box.partial().stderr).includes(
              "Ignoring SIGTERM: shutdown already in progress",
            ),
        );
        await Deno.writeTextFile(`${box.shared}/release`, "");
        await done;
        return await order();
      },
    );
    assert.deepEqual(
      result,
      ["up a", "pre", "TERM a", "down a", "post"],
      out.stderr,
    );
    assert.equal(
      logLines(out.stderr).filter((l) =>
        l === "Received SIGTERM; shutting down..."
      )
        .length,
      1,
      out.stderr,
    );
    assert.equal(out.code, 0, out.stderr);
  },
});

Deno.test({
  name: "my_init stops services after the main command and exits with its code",
  ignore,
  async fn() {
    const main = "until [ $(grep -c '^up' /shared/order 2>/dev/null) = 2 ]; " +
      "do sleep 0.05; done; echo main >> /shared/order; exit 5";
    const { out, result } = await withSandbox(
      {
        args: ["--", "sh", "-c", main],
        env: PATIENT,
        files: {
          "/etc/service/a/run": service("a"),
          "/etc/service/b/run": service("b"),
          "/etc/my_init.pre_shutdown.d/10_pre": mark("pre"),
          "/etc/my_init.post_shutdown.d/10_post": mark("post"),
        },
      },
      async (box, done) => {
        await done;
        return lines(await box.read("order"));
      },
    );
    assertPhases(result, [
      ["up a", "up b"],
      ["main"],
      ["pre"],
      ["down a", "down b"],
      ["post"],
    ], out);
    assert.equal(out.code, 5, out.stderr);
  },
});

/**
 * my_init's arguments for a main command that runs once every enabled
 * service is ready (up a second, as `--status` counts it).
 */
const ONCE_READY = ["--wait-for-services=20", "--", "sh", "-c"];

Deno.test({
  name:
    "my_init --status prints ok lines and exits 0 when every enabled service is up",
  ignore,
  async fn() {
    const main = `${MY_INIT} --status > /shared/status; echo $? > /shared/rc`;
    const { out, result } = await withSandbox(
      {
        args: [...ONCE_READY, main],
        files: {
          "/etc/service/a/run": script("exec sleep 1000"),
          "/etc/service/b/run": script("exec sleep 1000"),
          // Disabled: reported, but not a failure.
          "/etc/service/c/run": script("exec sleep 1000"),
          "/etc/service/c/down": "",
        },
      },
      async (box, done) => {
        await done;
        return { status: await box.read("status"), rc: await box.read("rc") };
      },
    );
    assert.equal(out.code, 0, out.stderr);
    assert.equal(
      result.status,
      "ok: a: run\nok: b: run\nok: c: down (disabled)\n",
    );
    assert.equal(result.rc, "0\n");
  },
});

Deno.test({
  name: "my_init --status prints fail and exits 1 when a service is down",
  ignore,
  async fn() {
    // Take b down through runsv's control FIFO, as `sv down b` does.
    const main = "printf d > /etc/service/b/supervise/control; " +
      "until grep -q '^down' /etc/service/b/supervise/stat; do sleep 0.05; done; " +
      `${MY_INIT} --status > /shared/status; echo $? > /shared/rc`;
    const { out, result } = await withSandbox(
      {
        args: [...ONCE_READY, main],
        files: {
          "/etc/service/a/run": script("exec sleep 1000"),
          "/etc/service/b/run": script("exec sleep 1000"),
        },
      },
      async (box, done) => {
        await done;
        return { status: await box.read("status"), rc: await box.read("rc") };
      },
    );
    assert.equal(out.code, 0, out.stderr);
    assert.equal(result.status, "ok: a: run\nfail: b: down\n");
    assert.equal(result.rc, "1\n");
  },
});

Deno.test({
  name: "my_init --status says so when there are no services",
  ignore,
  async fn() {
    const { out } = await withSandbox(
      { args: ["--skip-runit", "--", MY_INIT, "--status"] },
      async () => {},
    );
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, "ok: no services\n");
  },
});

Deno.test({
  name:
    "my_init --wait-for-services starts the main command once every service runs",
  ignore,
  async fn() {
    // runit calls a service up once its `run` is started; that is what
    // the main command must find, for every one of five services.
    const names = ["s1", "s2", "s3", "s4", "s5"];
    const files: Record<string, { text: string; mode: number } | string> = {};
    for (const n of names) {
      files[`/etc/service/${n}/run`] = script("exec sleep 1000");
    }
    files["/etc/service/off/run"] = script("exec sleep 1000");
    files["/etc/service/off/down"] = "";
    const main = "for s in /etc/service/*; do " +
      'printf "%s %s\\n" "${s##*/}" "$(head -c 3 $s/supervise/stat 2>/dev/null)"; ' +
      "done > /shared/seen";
    const { out, result } = await withSandbox(
      { args: ["--wait-for-services=10", "--", "sh", "-c", main], files },
      async (box, done) => {
        await done;
        return lines(await box.read("seen"));
      },
    );
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(
      result,
      [...names.map((n) => `${n} run`), "off dow"].sort(),
    );
  },
});

Deno.test({
  name:
    "my_init --wait-for-services fails with exit 1 when a service never comes up",
  ignore,
  async fn() {
    // A file where runsv needs its supervise directory: runsv dies at
    // once, so the service is never supervised.
    const { out, result } = await withSandbox(
      {
        args: [
          "--wait-for-services=5",
          "--",
          "sh",
          "-c",
          "touch /shared/main_ran",
        ],
        files: {
          "/etc/service/fine/run": script("exec sleep 1000"),
          "/etc/service/never/run": script("exec sleep 1000"),
          "/etc/service/never/supervise": "not a directory\n",
        },
      },
      async (box, done) => {
        await done;
        return await Deno.stat(`${box.shared}/main_ran`).then(
          () => true,
          () => false,
        );
      },
    );
    assert.equal(out.code, 1, out.stderr);
    assert.equal(result, false, "the main command ran");
    assert.ok(
      logLines(out.stderr).includes("Services not up after 5 s: never"),
      out.stderr,
    );
  },
});

/**
 * A main command (/leave) that leaves two background processes behind and
 * exits 3, stamping `exit` just before: one stops on TERM (and logs it),
 * one ignores TERM.
 */
const LEAVES_PROCESSES = {
  "/leave": bash([
    "(trap '' TERM; exec sleep 100) &",
    "(trap 'echo TERM >> /shared/bg; exit 0' TERM; touch /shared/bgready; " +
    "while :; do sleep 0.05; done) &",
    "until [ -e /shared/bgready ]; do sleep 0.05; done",
    stamp("exit"),
    "exit 3",
  ].join("\n")),
};

Deno.test({
  name:
    "my_init kills leftover processes at exit, with KILL after KILL_ALL_PROCESSES_TIMEOUT",
  ignore,
  async fn() {
    const { out, result } = await withSandbox(
      {
        args: ["--skip-startup-files", "--skip-runit", "--", "/leave"],
        env: { KILL_ALL_PROCESSES_TIMEOUT: "1" },
        files: LEAVES_PROCESSES,
      },
      async (box, done) => {
        await done;
        return {
          endedAt: Date.now(),
          times: await readTimes(box),
          bg: await box.read("bg"),
        };
      },
    );
    assert.equal(out.code, 3, out.stderr);
    assert.equal(result.bg, "TERM\n", "the leftover process did not get TERM");
    const log = logLines(out.stderr);
    assert.ok(log.includes("Killing all processes..."), out.stderr);
    assert.ok(
      log.includes(
        "Not all processes have exited in time. Forcing them to exit.",
      ),
      out.stderr,
    );
    // The kill-all starts after the main command's exit; my_init exits
    // right after the KILL: so it came after 1 s, and not much later.
    assertAfterTimeout(
      "my_init exited",
      result.times.get("exit"),
      result.endedAt,
      1000,
      out,
    );
  },
});

Deno.test({
  name:
    "my_init sends CONT with the kill-all's TERM, so a stopped leftover process stops gracefully",
  ignore,
  async fn() {
    // A stopped process keeps a TERM pending until it is continued; without
    // CONT it would only ever get the KILL, its TERM handler never run.
    const main = bash([
      "(trap 'echo TERM >> /shared/stopped; exit 0' TERM; " +
      "touch /shared/sready; while :; do sleep 0.05; done) &",
      "until [ -e /shared/sready ]; do sleep 0.05; done",
      "kill -STOP $!",
      // The state field of /proc/PID/stat (comm, "(bash)", has no space).
      `until [ "$(cut -d ' ' -f 3 /proc/$!/stat)" = T ]; do sleep 0.05; done`,
      "exit 3",
    ].join("\n"));
    const { out, result } = await withSandbox(
      {
        args: ["--skip-startup-files", "--skip-runit", "--", "/main"],
        env: { KILL_ALL_PROCESSES_TIMEOUT: "10" },
        files: { "/main": main },
      },
      async (box, done) => {
        await done;
        return await box.read("stopped");
      },
    );
    assert.equal(out.code, 3, out.stderr);
    assert.equal(
      result,
      "TERM\n",
      `its TERM handler did not run\n${out.stderr}`,
    );
    assert.ok(
      !logLines(out.stderr).includes(
        "Not all processes have exited in time. Forcing them to exit.",
      ),
      out.stderr,
    );
  },
});

Deno.test({
  name: "my_init --no-kill-all-on-exit leaves leftover processes alone",
  ignore,
  async fn() {
    const { out, result } = await withSandbox(
      {
        args: [
          "--no-kill-all-on-exit",
          "--skip-startup-files",
          "--skip-runit",
          "--",
          "/leave",
        ],
        files: LEAVES_PROCESSES,
      },
      async (box, done) => {
        await done;
        return await box.read("bg");
      },
    );
    assert.equal(out.code, 3, out.stderr);
    // The namespace's end takes them with SIGKILL: no TERM handler ran.
    assert.equal(result, "");
    assert.ok(
      !logLines(out.stderr).includes("Killing all processes..."),
      out.stderr,
    );
  },
});

/** runsvdir, a child of the sandbox's PID 1, seen from the host. */
async function runsvdirOf(box: Sandbox): Promise<number> {
  const runsvdir = (await childrenOf(await box.pid1())).find((p) =>
    p.comm === "runsvdir"
  );
  assert.ok(runsvdir, "runsvdir not found");
  return runsvdir.pid;
}

/**
 * Kills runsvdir behind my_init's back, as the OOM killer does, and waits
 * for my_init's line about it.
 */
async function killRunsvdir(box: Sandbox): Promise<void> {
  Deno.kill(await runsvdirOf(box), "SIGKILL");
  await until(
    "the line about runsvdir",
    () =>
      Promise.resolve(box.partial().stderr.includes("was killed by SIGKILL")),
  );
}

/** The one runsv among the sandbox's PID 1's children (runsvdir lost). */
async function runsvOf(box: Sandbox): Promise<number> {
  const runsv = (await childrenOf(await box.pid1())).find((p) =>
    p.comm === "runsv"
  );
  assert.ok(runsv, "runsv not found among PID 1's children");
  return runsv.pid;
}

/**
 * Daemon mode with one service `a` and a post-shutdown mark: once `a` is
 * up, runs `fn`; resolves with the order file after PID 1 exited.
 */
function withServiceUp(
  fn: (box: Sandbox, done: Promise<Outcome>) => Promise<void>,
) {
  return withSandbox(
    {
      args: [],
      env: PATIENT,
      files: {
        "/etc/service/a/run": service("a"),
        "/etc/my_init.post_shutdown.d/10_post": mark("post"),
      },
    },
    async (box, done) => {
      await until(
        "service up",
        async () => await upCount(() => box.read("order")) === 1,
      );
      await fn(box, done);
      await done;
      return lines(await box.read("order"));
    },
  );
}

Deno.test({
  name:
    "my_init carries on when runsvdir is killed: the services stay supervised, and the stop is in order with status 0",
  ignore,
  async fn() {
    // The OOM killer's pick under a memory limit (issue 17), or a kill -9:
    // the runsv go on as my_init's children. Before: my_init stopped
    // everything and exited 137.
    const { out, result } = await withServiceUp(async (box) => {
      await killRunsvdir(box);
      // Still supervised: the service's own crash is followed by a restart.
      const run = (await childrenOf(await runsvOf(box)))[0];
      assert.ok(run, "the service's process not found");
      Deno.kill(run.pid, "SIGKILL");
      await until(
        "service up again",
        async () => await upCount(() => box.read("order")) === 2,
      );
      Deno.kill(await box.pid1(), "SIGTERM");
    });
    assert.deepEqual(result, ["up a", "up a", "down a", "post"], out.stderr);
    assert.equal(out.code, 0, out.stderr);
    const log = logLines(out.stderr);
    assert.ok(
      log.some((l) =>
        /^The runit daemon \(PID [0-9]+\) was killed by SIGKILL; its runsv go on supervising the services, but until the container restarts a runsv that ends is not started again, and a service added to or removed from \/etc\/service is not seen$/
          .test(l)
      ),
      out.stderr,
    );
    assert.ok(!log.some((l) => l.startsWith("Runit exited")), out.stderr);
  },
});

Deno.test({
  name:
    "my_init stops once the last runsv has ended after runsvdir was killed: nothing is supervised any more",
  ignore,
  async fn() {
    const { out, result } = await withServiceUp(async (box) => {
      await killRunsvdir(box);
      Deno.kill(await runsvOf(box), "SIGKILL");
    });
    // The service, orphaned with its runsv, is stopped by the kill-all,
    // after the post-shutdown scripts.
    assert.deepEqual(result, ["up a", "post", "down a"], out.stderr);
    assert.equal(out.code, 128 + 9, out.stderr);
    const log = logLines(out.stderr);
    const steps = [
      "Every runsv has ended since the runit daemon was killed: nothing is supervised any more; stopping",
      "Runit exited with status 137",
    ];
    assert.deepEqual(log.filter((l) => steps.includes(l)), steps, out.stderr);
  },
});

Deno.test({
  name:
    "my_init shuts down with runsvdir's status when runsvdir exits by itself",
  ignore,
  async fn() {
    // runsvdir exits 0 on TERM: told to stop, as with phusion, the
    // container ends, after the services still running under their
    // (orphaned) runsv are stopped in order.
    const { out, result } = await withServiceUp(async (box) => {
      Deno.kill(await runsvdirOf(box), "SIGTERM");
    });
    assert.deepEqual(result, ["up a", "down a", "post"], out.stderr);
    assert.equal(out.code, 0, out.stderr);
    assert.ok(
      logLines(out.stderr).includes("Runit exited with status 0"),
      out.stderr,
    );
  },
});

Deno.test({
  name:
    "my_init warns about an invalid KILL_PROCESS_TIMEOUT and uses the default",
  ignore,
  async fn() {
    const { out } = await withSandbox(
      {
        args: [
          "--skip-startup-files",
          "--skip-runit",
          "--",
          "sh",
          "-c",
          "exit 4",
        ],
        env: { KILL_PROCESS_TIMEOUT: "soon" },
      },
      async () => {},
    );
    assert.equal(out.code, 4, out.stderr);
    assert.ok(
      logLines(out.stderr).some((l) =>
        l.startsWith('Invalid KILL_PROCESS_TIMEOUT "soon"')
      ),
      out.stderr,
    );
  },
});

/**
 * A service for the early-stop test: perl started with TERM blocked (env
 * --block-signal), so its TERM handler runs whenever a TERM comes, also one
 * sent before the handler was set. It writes `up NAME` first, and from the
 * handler `down NAME PARENT`, PARENT being the command name of the process
 * it then runs under: runsv when its supervisor stopped it, something else
 * when it was orphaned and stopped by the kill-all.
 */
function perlService(name: string): { text: string; mode: number } {
  return {
    text: [
      "#!/usr/bin/env -S --block-signal=TERM perl",
      "use POSIX ();",
      `$0 = "svc-${name}";`,
      "sub note { open(my $f, '>>', '/shared/order') or die; print $f \"$_[0]\\n\"; close $f; }",
      "$SIG{TERM} = sub {",
      "  open(my $p, '<', '/proc/' . getppid() . '/comm'); my $c = <$p>; chomp $c;",
      `  note("down ${name} $c"); exit 0;`,
      "};",
      `note("up ${name}");`,
      "POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), POSIX::SigSet->new(POSIX::SIGTERM()));",
      "sleep 1 while 1;",
    ].join("\n") + "\n",
    mode: 0o755,
  };
}

/**
 * Waits until PID 1 (host pid `pid1`) has runsvdir as a child; looks every
 * millisecond or so.
 */
async function untilRunsvdir(pid1: number): Promise<void> {
  const deadline = Date.now() + 20000;
  for (;;) {
    let children: string[] = [];
    try {
      children = Deno.readTextFileSync(`/proc/${pid1}/task/${pid1}/children`)
        .trim().split(" ").filter((p) => p !== "");
    } catch { /* not yet */ }
    for (const pid of children) {
      try {
        if (Deno.readTextFileSync(`/proc/${pid}/comm`).trim() === "runsvdir") {
          return;
        }
      } catch { /* gone */ }
    }
    if (Date.now() > deadline) throw new Error("runsvdir never started");
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Services of the early-stop tests (perlService), and a look at what is left. */
const EARLY_NAMES = ["a", "b", "c", "d", "e", "f", "g", "h"];
const EARLY_FILES: Record<string, { text: string; mode: number }> = {
  ...Object.fromEntries(
    EARLY_NAMES.map((n) => [`/etc/service/${n}/run`, perlService(n)]),
  ),
  // Once runit is stopped, no runsv or service may run (zombies aside).
  "/etc/my_init.post_shutdown.d/10_left": bash([
    "for p in /proc/[0-9]*; do",
    '  c=$(cat "$p/comm" 2>/dev/null) || continue',
    '  case "$c" in runsv|svc-*) ;; *) continue ;; esac',
    '  read -r _ _ state _ < "$p/stat" 2>/dev/null || continue',
    '  [ "$state" = Z ] || echo "left $c" >> /shared/order',
    "done",
  ].join("\n")),
};

/**
 * What went wrong in early-stop runs (each labelled, with its order log):
 * a service that started but was not stopped by its runsv, something left
 * running, an exit code other than `code`. Also how many services started.
 */
function earlyStopProblems(
  runs: { label: string; out: Outcome; order: string[] }[],
  code: number,
): { problems: string[]; started: Record<string, number> } {
  const problems: string[] = [];
  const started: Record<string, number> = {};
  for (const { label, out, order } of runs) {
    const what = `${label}: ${JSON.stringify(order)}`;
    if (out.code !== code) problems.push(`${what}: exit ${out.code}`);
    for (const n of EARLY_NAMES) {
      if (!order.includes(`up ${n}`)) continue;
      started[label] = (started[label] ?? 0) + 1;
      if (!order.includes(`down ${n} runsv`)) {
        problems.push(
          `${what}: ${n} started but its runsv did not stop it\n${out.stderr}`,
        );
      }
    }
    if (order.some((l) => l.startsWith("left "))) {
      problems.push(`${what}: left running`);
    }
  }
  return { problems, started };
}

Deno.test({
  name:
    "my_init stops every service runit started, TERM 0 to 50 ms after runsvdir starts, 20 times each",
  ignore,
  async fn() {
    // A service whose runsv had not opened supervise/ok yet counted as
    // stopped: its runsv was killed and the service orphaned, stopped only
    // by the kill-all (or never). Each service that started must be stopped
    // by its runsv, and no runsv or service may be left once runit is.
    const delays = [0, 5, 20, 50].flatMap((d) => Array<number>(20).fill(d));
    const runs = await pool(delays, 3, async (delay) => {
      const { out, result } = await withSandbox(
        { args: ["--skip-startup-files", "-v"], files: EARLY_FILES },
        async (box, done) => {
          const pid1 = await box.pid1();
          await untilRunsvdir(pid1);
          if (delay > 0) await sleep(delay);
          Deno.kill(pid1, "SIGTERM");
          await done;
          return lines(await box.read("order"));
        },
        30000,
      );
      return { label: `TERM at ${delay} ms`, out, order: result };
    });
    const { problems, started } = earlyStopProblems(runs, 0);
    assert.deepEqual(
      problems,
      [],
      `services started: ${JSON.stringify(started)}`,
    );
    console.log(
      `services started (of ${EARLY_NAMES.length * 20}): ${
        JSON.stringify(started)
      }`,
    );
  },
});

/**
 * Issue 20's worst case for the default timeouts: a service and a leftover
 * process that ignore TERM, a pre-shutdown script that sleeps 30 s (and
 * ignores TERM too), and in one-shot mode a main command that ignores
 * TERM.
 */
const WORST_CASE: Record<string, { text: string; mode: number }> = {
  "/etc/service/good/run": service("good"),
  // The ignored TERM survives exec: sleep never reacts to it.
  "/etc/service/stubborn/run": script(
    "trap '' TERM\necho up stubborn >> /shared/order\nexec sleep 1000",
  ),
  // A startup script leaves a process behind that only the kill-all meets.
  "/etc/my_init.d/10_leave": bash(
    "(trap '' TERM; exec sleep 1000) > /dev/null 2>&1 &",
  ),
  // It sleeps 30 s, and its TERM does not end it: only the KILL does.
  "/etc/my_init.pre_shutdown.d/10_slow": bash(
    "trap '' TERM\necho pre >> /shared/order\nsleep 30",
  ),
  "/etc/my_init.post_shutdown.d/10_post": bash(
    `echo post >> /shared/order\n${stamp("post")}`,
  ),
  "/main": bash([
    "trap '' TERM",
    `until [ "$(grep -c '^up' /shared/order 2>/dev/null)" = 2 ]; do sleep 0.05; done`,
    "echo main >> /shared/order",
    "exec sleep 1000",
  ].join("\n")),
};

/**
 * The budget's deadline with the defaults (init/shutdown_budget.ts), and
 * what a loaded machine adds to it (timers, process starts, the exit).
 */
const DEFAULT_DEADLINE_MS = 8000;
const LATE_MS = 500;

for (const mode of ["daemon", "one-shot"] as const) {
  Deno.test({
    name:
      `my_init with the default timeouts runs the whole shutdown by its 8 s deadline when everything hangs (${mode})`,
    ignore,
    async fn() {
      const { out, result } = await withSandbox(
        { args: mode === "daemon" ? [] : ["--", "/main"], files: WORST_CASE },
        async (box, done) => {
          const expected = mode === "daemon" ? "up" : "main";
          await until(
            "the services and the main command up",
            async () =>
              lines(await box.read("order")).filter((l) =>
                l.startsWith(expected)
              ).length === (mode === "daemon" ? 2 : 1),
          );
          const sentAt = await stop(box);
          await done;
          return {
            ms: Date.now() - sentAt,
            order: lines(await box.read("order")),
            times: await readTimes(box),
            sentAt,
          };
        },
      );
      assertPhases(
        result.order,
        [
          ["up good", "up stubborn"],
          ...(mode === "daemon" ? [] : [["main"]]),
          ["pre"],
          ["down good"],
          ["post"],
        ],
        out,
      );
      assert.equal(out.code, mode === "daemon" ? 0 : 128 + 9, out.stderr);
      const log = logLines(out.stderr);
      for (
        const line of [
          "/etc/my_init.pre_shutdown.d/10_slow did not finish in ",
          "Services still up after ",
          "Not all processes have exited in time. Forcing them to exit.",
        ]
      ) {
        assert.ok(
          log.some((l) => l.startsWith(line)),
          `${line}\n${out.stderr}`,
        );
      }
      assert.ok(
        result.ms <= DEFAULT_DEADLINE_MS + LATE_MS,
        `exited ${result.ms} ms after the TERM\n${out.stderr}`,
      );
      console.log(`${mode}: exited ${result.ms} ms after the TERM`);
    },
  });
}

Deno.test({
  name:
    "my_init lets a service's log service drain its pipe at the stop: the last line is written",
  ignore,
  async fn() {
    // runit's svlogd (log/) writes the service's output to a file. Here it
    // starts reading only once the service is being stopped, so both lines
    // are still in the pipe while my_init ends runsv and runsvdir, and the
    // kill-all's TERM must let the log service finish (runsv gives it a
    // session of its own, and svlogd ends at the end of its pipe).
    const { out, result } = await withSandbox(
      {
        args: [],
        files: {
          "/etc/service/svc/run": bash([
            "exec 2>&1",
            "trap 'echo last line; touch /shared/stopping; exit 0' TERM",
            "echo first line",
            "touch /shared/up",
            "while :; do sleep 0.1; done",
          ].join("\n")),
          "/etc/service/svc/log/run": bash([
            "trap '' TERM",
            "until [ -e /shared/stopping ]; do sleep 0.05; done",
            "mkdir -p /shared/log && exec svlogd /shared/log",
          ].join("\n")),
        },
      },
      async (box, done) => {
        await box.waitFor("up");
        await box.kill("SIGTERM");
        await done;
        return await box.read("log/current");
      },
    );
    assert.equal(out.code, 0, out.stderr);
    assert.equal(result, "first line\nlast line\n");
  },
});
