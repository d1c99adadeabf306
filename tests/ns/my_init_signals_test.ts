/**
 * Signals sent to PID 1 from the host, as `docker kill` and `docker stop`
 * send them: forwarded to the main command (a probe that logs what it gets),
 * rewritten by `--rewrite`, a second TERM ignored during the shutdown, USR1
 * harmless to the runtime, and TERM at any moment of the start never fatal.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Sandbox, sleep } from "./_sandbox.ts";
import {
  bash,
  ignore,
  type Outcome,
  pool,
  procStat,
  withSandbox,
} from "./my_init_helpers.ts";

const FORWARDED = ["HUP", "QUIT", "USR1", "USR2", "WINCH", "CONT"] as const;

/**
 * The probe: logs each forwarded signal it gets to /shared/sigs, then
 * touches /shared/ready and idles. `extra` adds lines before the loop. The
 * short sleeps let bash run its traps soon (it runs them between commands).
 */
function probe(extra = ""): { text: string; mode: number } {
  const traps = FORWARDED.map((s) => `trap 'echo ${s} >> /shared/sigs' ${s}`);
  return bash(
    [
      "ulimit -c 0",
      ...traps,
      extra,
      "touch /shared/ready",
      "while :; do sleep 0.05; done",
    ].join("\n"),
  );
}

const ONE_SHOT = ["--skip-startup-files", "--skip-runit", "--"];

/**
 * Waits for the probe, then past the runtime's start-up (its own signal
 * handlers come about 500 ms after start; the test is about what happens
 * once they are in place).
 */
async function probeReady(box: Sandbox): Promise<void> {
  await box.waitFor("ready", 20000);
  await sleep(1000);
}

async function sigs(box: Sandbox): Promise<string[]> {
  return (await box.read("sigs")).split("\n").filter((l) => l !== "");
}

async function untilLogged(box: Sandbox, name: string): Promise<void> {
  const deadline = Date.now() + 15000;
  while (!(await sigs(box)).includes(name)) {
    if (Date.now() > deadline) {
      throw new Error(`probe did not log ${name}: ${await sigs(box)}`);
    }
    await sleep(20);
  }
}

Deno.test({
  name: "my_init forwards HUP QUIT USR1 USR2 WINCH CONT to the main command",
  ignore,
  async fn() {
    const { result, out } = await withSandbox(
      { args: [...ONE_SHOT, "/probe"], files: { "/probe": probe() } },
      async (box) => {
        await probeReady(box);
        for (const name of FORWARDED) {
          await box.kill(`SIG${name}`);
          await untilLogged(box, name);
        }
        const got = await sigs(box);
        await box.kill("SIGTERM");
        return got;
      },
    );
    assert.deepEqual(result, [...FORWARDED]);
    // The probe does not trap TERM: it dies of it, and my_init says so.
    assert.equal(out.code, 128 + 15, out.stderr);
    assert.equal(out.signal, null);
  },
});

Deno.test({
  name: "my_init --rewrite TERM:QUIT stops the main command with QUIT",
  ignore,
  async fn() {
    const main = bash([
      "trap 'echo TERM >> /shared/sigs; exit 1' TERM",
      "trap 'echo QUIT >> /shared/sigs; exit 0' QUIT",
      "touch /shared/ready",
      "while :; do sleep 0.05; done",
    ].join("\n"));
    const { out, result } = await withSandbox(
      {
        args: ["--rewrite", "TERM:QUIT", ...ONE_SHOT, "/probe"],
        files: { "/probe": main },
      },
      async (box, done) => {
        await probeReady(box);
        await box.kill("SIGTERM");
        await done;
        return await sigs(box);
      },
    );
    assert.deepEqual(result, ["QUIT"]);
    assert.equal(out.code, 0, out.stderr);
  },
});

Deno.test({
  name: "my_init ignores a second TERM during the shutdown",
  ignore,
  async fn() {
    // The probe takes 1 s to shut down; a second TERM 200 ms in must neither
    // reach it nor cut the shutdown short (KILL_PROCESS_TIMEOUT is 3 s).
    const main = bash([
      "trap 'echo TERM >> /shared/sigs; sleep 1; echo done > /shared/marker; exit 42' TERM",
      "touch /shared/ready",
      "while :; do sleep 0.05; done",
    ].join("\n"));
    const { out, result } = await withSandbox(
      { args: [...ONE_SHOT, "/probe"], files: { "/probe": main } },
      async (box, done) => {
        await probeReady(box);
        await box.kill("SIGTERM");
        await sleep(200);
        await box.kill("SIGTERM");
        await done;
        return { marker: await box.read("marker"), sigs: await sigs(box) };
      },
    );
    assert.equal(result.marker, "done\n");
    assert.deepEqual(result.sigs, ["TERM"]);
    assert.equal(out.code, 42, out.stderr);
    assert.doesNotMatch(out.stderr, /Forcing it to exit/);
  },
});

/** TCP sockets in LISTEN state (0A) in the network namespace of `pid`. */
async function listeningSockets(pid: number): Promise<string[]> {
  const out: string[] = [];
  for (const file of ["tcp", "tcp6"]) {
    const text = await Deno.readTextFile(`/proc/${pid}/net/${file}`);
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] === "0A") out.push(`${file}: ${line.trim()}`);
    }
  }
  return out;
}

Deno.test({
  name: "my_init survives USR1, forwards it, and opens no inspector port",
  ignore,
  async fn() {
    // Deno >= 2.9.2 starts its inspector on SIGUSR1, listening on TCP; PID 1
    // must pass USR1 on to the main command instead (we pin 2.9.1).
    const { result, out } = await withSandbox(
      { args: [...ONE_SHOT, "/probe"], files: { "/probe": probe() } },
      async (box) => {
        await probeReady(box);
        const pid1 = await box.pid1();
        const before = await listeningSockets(pid1);
        await box.kill("SIGUSR1");
        await untilLogged(box, "USR1");
        // Give a would-be inspector time to bind.
        await sleep(1000);
        const st = await procStat(pid1);
        const after = await listeningSockets(pid1);
        await box.kill("SIGTERM");
        return { before, after, state: st?.state };
      },
    );
    assert.deepEqual(result.before, []);
    assert.deepEqual(result.after, []);
    assert.ok(
      result.state !== undefined && result.state !== "Z",
      `PID 1 state after USR1: ${result.state}`,
    );
    assert.equal(out.code, 128 + 15, out.stderr);
  },
});

interface EarlyTerm {
  delay: number;
  /** /shared/ready existed when the first TERM was sent. */
  readyBefore: boolean;
  /** A second TERM was needed (the first one was dropped). */
  second: boolean;
  out: Outcome;
}

/**
 * Sends TERM `delay` ms after PID 1 appears; if PID 1 is still there 3 s
 * later (a TERM before any handler is dropped by the kernel for a namespace's
 * init), sends another.
 */
async function termAfter(delay: number): Promise<EarlyTerm> {
  let readyBefore = false;
  let second = false;
  const { out } = await withSandbox(
    {
      args: [...ONE_SHOT, "sh", "-c", "touch /shared/ready; exec sleep 30"],
    },
    async (box, done) => {
      await box.pid1();
      await sleep(delay);
      readyBefore = await Deno.stat(`${box.shared}/ready`).then(
        () => true,
        () => false,
      );
      await box.kill("SIGTERM");
      const first = await Promise.race([done, sleep(3000).then(() => "late")]);
      if (first === "late") {
        second = true;
        await box.waitFor("ready", 20000);
        await sleep(1000);
        await box.kill("SIGTERM");
      }
      await done;
    },
    40000,
  );
  return { delay, readyBefore, second, out };
}

Deno.test({
  name: "my_init never dies of TERM at any moment of its start",
  ignore,
  async fn() {
    const delays = Array.from({ length: 11 }, (_, i) => i * 50);
    delays.push(600, 800, 1000);
    const results = await pool(delays, 4, termAfter);
    for (const r of results) {
      const what = `TERM at ${r.delay} ms (ready: ${r.readyBefore}, ` +
        `second TERM: ${r.second}): ${r.out.stderr}`;
      assert.equal(r.out.signal, null, what);
      assert.notEqual(r.out.code, 128 + 11, what);
      // Whichever TERM got through stopped `sleep` with TERM.
      assert.equal(r.out.code, 128 + 15, what);
      // Once the main command runs, the listeners are in place: one suffices.
      if (r.readyBefore) assert.equal(r.second, false, what);
    }
  },
});

Deno.test({
  name: "my_init stops on the first TERM once the main command runs",
  ignore,
  async fn() {
    // The listeners are installed before any child is started: a TERM sent
    // as soon as the main command is up is never lost.
    const results = await pool([0, 600], 2, async (extra) => {
      const { out, result } = await withSandbox(
        {
          args: [...ONE_SHOT, "sh", "-c", "touch /shared/ready; exec sleep 30"],
        },
        async (box, done) => {
          await box.waitFor("ready", 20000);
          await sleep(extra);
          await box.kill("SIGTERM");
          return await Promise.race([
            done.then(() => "exited"),
            sleep(10000).then(() => "still running"),
          ]);
        },
      );
      return { extra, out, result };
    });
    for (const r of results) {
      assert.equal(r.result, "exited", `TERM ${r.extra} ms after ready`);
      assert.equal(r.out.code, 128 + 15, r.out.stderr);
    }
  },
});

Deno.test({
  name:
    "my_init in daemon mode ignores HUP USR1 USR2 and keeps its services up",
  ignore,
  async fn() {
    // No main command to forward to; passing HUP or TERM on to runsvdir would
    // stop it without stopping the services, so these must change nothing.
    const svc = (name: string) =>
      bash([
        // Logs once even if TERM comes again (tested in the shutdown tests).
        `trap '[ -n "$d" ] || { d=1; echo TERM ${name} >> /shared/order; }; exit 0' TERM`,
        `echo up ${name} >> /shared/order`,
        "while :; do sleep 0.05; done",
      ].join("\n"));
    const { out, result } = await withSandbox(
      {
        args: [],
        // Generous: escalation to KILL is not what this test is about.
        env: { KILL_PROCESS_TIMEOUT: "20" },
        files: {
          "/etc/service/a/run": svc("a"),
          "/etc/service/b/run": svc("b"),
        },
      },
      async (box, done) => {
        const ups = async () =>
          (await box.read("order")).split("\n").filter((l) =>
            l.startsWith("up")
          )
            .length;
        const deadline = Date.now() + 20000;
        while (await ups() < 2 && Date.now() < deadline) await sleep(20);
        await sleep(1000);
        const pid1 = await box.pid1();
        for (
          const sig of ["SIGHUP", "SIGUSR1", "SIGUSR2", "SIGWINCH"] as const
        ) {
          await box.kill(sig);
          await sleep(200);
        }
        await sleep(1000);
        const before = await box.read("order");
        const alive = (await procStat(pid1))?.state;
        await box.kill("SIGTERM");
        await done;
        return { before, alive, after: await box.read("order") };
      },
    );
    assert.notEqual(result.alive, undefined);
    assert.deepEqual(
      result.before.split("\n").filter((l) => l !== "").sort(),
      ["up a", "up b"],
      "a signal stopped or restarted a service",
    );
    assert.deepEqual(
      result.after.split("\n").filter((l) => l.startsWith("TERM")).sort(),
      ["TERM a", "TERM b"],
    );
    assert.equal(out.code, 0, out.stderr);
  },
});

Deno.test({
  name:
    "my_init kills a main command that ignores TERM after KILL_PROCESS_TIMEOUT",
  ignore,
  async fn() {
    // The ignored TERM survives exec: sleep never reacts to it.
    const { out, result } = await withSandbox(
      {
        args: [
          ...ONE_SHOT,
          "sh",
          "-c",
          "trap '' TERM; touch /shared/ready; exec sleep 100",
        ],
        env: { KILL_PROCESS_TIMEOUT: "1" },
      },
      async (box, done) => {
        await box.waitFor("ready", 20000);
        await sleep(1000);
        const t = Date.now();
        await box.kill("SIGTERM");
        await done;
        return Date.now() - t;
      },
    );
    assert.equal(out.code, 128 + 9, out.stderr);
    assert.match(
      out.stderr,
      /did not shut down in time\. Forcing it to exit\./,
    );
    // KILL comes after about 1 s, long before sleep's 100 s (coarse bound).
    assert.ok(result < 30000, `took ${result} ms`);
  },
});

/** The SigCgt mask (caught signals) of host pid `pid`, or undefined if gone. */
function caughtSignals(pid: number): bigint | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status);
    return m ? BigInt(`0x${m[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

/** Bit of signal `n` in a /proc/PID/status mask. */
const sigBit = (n: number) => 1n << BigInt(n - 1);

/**
 * Starts `runs` sandboxes and sends `signal` to PID 1 the moment it first
 * catches it; returns a line per run where PID 1 did not exit with `want`.
 */
async function signalAtFirstCatch(
  signal: "SIGTERM" | "SIGINT",
  number: number,
  want: number,
  runs: number,
): Promise<string[]> {
  const results = await pool(
    Array.from({ length: runs }, (_, i) => i),
    3,
    async (i) => {
      let caught: bigint | undefined;
      const { out, result } = await withSandbox(
        {
          args: [...ONE_SHOT, "sh", "-c", "touch /shared/ready; exec sleep 30"],
        },
        async (box, done) => {
          const pid1 = await box.pid1();
          const deadline = Date.now() + 20000;
          // A busy poll: the window is a few milliseconds wide.
          while (Date.now() < deadline) {
            caught = caughtSignals(pid1);
            if (caught === undefined) break;
            if (caught & sigBit(number)) {
              Deno.kill(pid1, signal);
              break;
            }
          }
          const first = await Promise.race([
            done,
            sleep(3000).then(() => "late" as const),
          ]);
          // Not a failure in itself: a signal may be lost before the
          // listeners exist. A second one must work.
          if (first === "late") await box.kill(signal);
          await done;
          return await Deno.stat(`${box.shared}/ready`).then(
            () => true,
            () => false,
          );
        },
        40000,
      );
      return { i, caught: caught?.toString(16), out, started: result };
    },
  );
  // Deno 2.9.1 itself dies of SIGSEGV when a TERM lands in the first ~2 ms
  // after it starts catching TERM, before any JS runs (measured: a bare
  // script with a listener as its first statement dies the same way). No JS
  // can close that window; what must hold is that it is before any child
  // exists: a crash there stops an empty container, as asked, with 139.
  // Once the main command has started, the signal must be handled cleanly.
  return results.filter((r) =>
    r.started
      ? r.out.signal !== null || r.out.code !== want
      : r.out.code !== want && r.out.signal !== "SIGSEGV" && r.out.code !== 139
  )
    .map((r) =>
      `run ${r.i}: ${signal} sent with SigCgt ${r.caught}: ` +
      `signal ${r.out.signal}, code ${r.out.code}, stderr ${
        JSON.stringify(r.out.stderr)
      }`
    );
}

// The earliest moment a signal from outside is not dropped by the kernel
// (PID 1 of a namespace only gets the signals it catches) is when the runtime
// starts catching it. Deno 2.9.1 catches HUP, INT and TERM on its own before
// my_init's listeners exist (SigCgt 0x100004443: no CHLD yet, which my_init
// binds first); a signal then must still stop the main command, never crash
// PID 1 with SIGSEGV (139). The sandbox's shells before the runtime catch
// only INT and CHLD, so the TERM bit marks the runtime. Repeated, since the
// window is a few milliseconds wide.

Deno.test({
  name:
    "my_init handles a TERM sent the moment PID 1 first catches TERM, and never dies once a child runs",
  ignore,
  async fn() {
    assert.deepEqual(await signalAtFirstCatch("SIGTERM", 15, 128 + 15, 40), []);
  },
});

Deno.test({
  name: "my_init --rewrite HUP:0 drops HUP and still forwards other signals",
  ignore,
  async fn() {
    const { result, out } = await withSandbox(
      {
        args: ["--rewrite", "HUP:0", ...ONE_SHOT, "/probe"],
        files: { "/probe": probe() },
      },
      async (box) => {
        await probeReady(box);
        await box.kill("SIGHUP");
        await sleep(300);
        await box.kill("SIGUSR2");
        await untilLogged(box, "USR2");
        // A forwarded HUP would have been logged by now (it was sent first).
        await sleep(300);
        const got = await sigs(box);
        await box.kill("SIGTERM");
        return got;
      },
    );
    assert.deepEqual(result, ["USR2"]);
    assert.equal(out.code, 128 + 15, out.stderr);
  },
});
