/**
 * What the runtime under my_init must not show to a user's container: no
 * lost early stop, no `node` that is Deno, no runtime variable acting on
 * PID 1, no ignored or blocked signal in children, and the grace period a
 * huge KILL_PROCESS_TIMEOUT asks for.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type Container,
  IMAGE,
  runToEnd,
  start,
  stopTimed,
} from "./_engine.ts";

/**
 * Waits until the container's PID 1 has TERM blocked (read from the host's
 * /proc): the launcher's first instruction. Before it, PID 1 is the
 * engine's own runc init, or `env` loading: no init can keep a signal
 * that arrives then (the kernel drops what PID 1 does not handle).
 */
async function untilSignalsBlocked(c: Container): Promise<void> {
  const pid = Number(await c.inspect("{{.State.Pid}}"));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await Deno.readTextFile(`/proc/${pid}/status`).catch(() =>
      ""
    );
    const mask = /SigBlk:\s*([0-9a-f]+)/.exec(status)?.[1];
    if (mask !== undefined && (BigInt(`0x${mask}`) & (1n << 14n))) return;
    if (Date.now() > deadline) {
      throw new Error(`PID 1 (${pid}) never blocked TERM`);
    }
  }
}

Deno.test("transparency: a stop right after the start is graceful, every time", async () => {
  for (let i = 0; i < 5; i++) {
    const c = await start(`early-stop-${i}`, ["--network=none", IMAGE]);
    try {
      // As early as a signal can be kept: my_init is still starting (the
      // runtime, then the startup scripts), and the TERM must start the
      // ordered shutdown.
      await untilSignalsBlocked(c);
      const { code, elapsed, stopStatus } = await stopTimed(c);
      assert.equal(stopStatus.code, 0, stopStatus.stderr);
      assert.notEqual(
        code,
        137,
        `run ${i}: killed, not stopped: ${await c.logs()}`,
      );
      assert.ok(elapsed < 8_000, `run ${i}: stop took ${elapsed} ms`);
    } finally {
      await c.remove();
    }
  }
});

Deno.test("transparency: no node of the runtime's, no DENO_* variable and no runtime PATH in the main command or a service", async () => {
  const r = await runToEnd("no-node", [
    "--network=none",
    IMAGE,
    "/sbin/my_init",
    "--",
    "sh",
    "-c",
    // cron, a runit service of the image: its environment as runsv gave it.
    "until pidof cron >/dev/null; do sleep 0.1; done; " +
    "if command -v node; then exit 10; fi; " +
    "env | grep '^DENO' && exit 11; " +
    'echo "PATH=$PATH"; ' +
    "tr '\\0' '\\n' < /proc/$(pidof cron)/environ | grep -E '^(PATH|DENO)' | sed 's/^/cron: /'",
  ]);
  assert.equal(r.code, 0, r.logs);
  const path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  assert.ok(r.logs.split("\n").includes(`PATH=${path}`), r.logs);
  const cron = r.logs.split("\n").filter((l) => l.startsWith("cron: "));
  assert.deepEqual(cron, [`cron: PATH=${path}`], r.logs);
});

Deno.test("transparency: the runtime's variables set by the user change nothing for PID 1 and reach the command as given", async () => {
  const r = await runToEnd("deno-vars", [
    "--network=none",
    "-e",
    "DENO_V8_FLAGS=--bogus",
    "-e",
    "DENO_COVERAGE_DIR=/tmp/cov",
    "-e",
    "RUST_LOG=trace",
    IMAGE,
    "/sbin/my_init",
    "--skip-runit",
    "--",
    "sh",
    "-c",
    'echo "V8=$DENO_V8_FLAGS COV=$DENO_COVERAGE_DIR LOG=$RUST_LOG"; ' +
    "/sbin/my_init --status >/dev/null; test ! -e /tmp/cov",
  ]);
  assert.equal(r.code, 0, r.logs);
  assert.match(r.logs, /^V8=--bogus COV=\/tmp\/cov LOG=trace$/m);
  assert.doesNotMatch(r.logs, /TRACE|DEBUG|V8 did not recognize/);
});

Deno.test("transparency: children start with no signal ignored or blocked", async () => {
  const r = await runToEnd("sigmask", [
    "--network=none",
    IMAGE,
    "/sbin/my_init",
    "--skip-runit",
    "--",
    "grep",
    "-E",
    "^Sig(Ign|Blk)",
    "/proc/self/status",
  ]);
  assert.equal(r.code, 0, r.logs);
  assert.match(r.logs, /^SigBlk:\s*0{16}$/m);
  assert.match(r.logs, /^SigIgn:\s*0{16}$/m);
});

Deno.test("transparency: a huge KILL_PROCESS_TIMEOUT gives the main command its grace period", async () => {
  // setTimeout would turn 99999999 s into 1 ms and KILL at once.
  const c = await start("huge-timeout", [
    "--network=none",
    "-e",
    "KILL_PROCESS_TIMEOUT=99999999",
    IMAGE,
    "/sbin/my_init",
    "--skip-runit",
    "--",
    "sh",
    "-c",
    "trap 'sleep 1; echo flushed; exit 0' TERM; echo ready; while :; do sleep 0.1; done",
  ]);
  try {
    for (let i = 0; i < 100 && !(await c.logs()).includes("ready"); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const { code, stopStatus } = await stopTimed(c);
    assert.equal(stopStatus.code, 0, stopStatus.stderr);
    assert.equal(code, 0, await c.logs());
    assert.match(await c.logs(), /^flushed$/m);
  } finally {
    await c.remove();
  }
});
