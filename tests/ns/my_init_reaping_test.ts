/**
 * my_init reaps orphans: processes whose parent died are reparented to PID 1,
 * which must collect them, or the container fills up with zombies. Each test
 * checks from the host, while PID 1 still runs, that the orphans are gone
 * (none left as a child of PID 1, none a zombie), and with `-v` counts the
 * "Reaped orphan PID" lines to show the orphans really came to PID 1.
 *
 * @module
 */

import assert from "node:assert/strict";
import { script, zombiesUnder } from "./_sandbox.ts";
import {
  childrenOf,
  ignore,
  logLines,
  type ProcStat,
  until,
  withSandbox,
} from "./_my_init.ts";

/** Waits (as the main command) until the test creates /shared/go. */
const WAIT_FOR_GO = "while [ ! -e /shared/go ]; do sleep 0.05; done";

/** The first 20 of `ps` as PID:COMM:STATE, and how many there are. */
function describe(ps: ProcStat[]): string {
  const some = ps.slice(0, 20).map((p) => `${p.pid}:${p.comm}:${p.state}`);
  return `(${ps.length}) ${some.join(" ")}${ps.length > 20 ? " ..." : ""}`;
}

/**
 * Waits until PID 1's only children are `keep` (its main command or
 * runsvdir): every orphan has been reaped. A zombie orphan stays a child, so
 * a missing reap shows up here as a timeout listing it.
 */
async function untilOnlyChildren(pid1: number, keep: number): Promise<void> {
  await until(
    "PID 1 has reaped every orphan",
    async () => (await childrenOf(pid1)).length === keep,
    30000,
    async () => describe(await childrenOf(pid1)),
  );
}

function reapedCount(stderr: string): number {
  return logLines(stderr).filter((l) => /^Reaped orphan PID \d+ /.test(l))
    .length;
}

/**
 * Runs `orphaner` as the one-shot main command (it leaves orphans, touches
 * /shared/spawned, then waits for /shared/go), checks from the host that
 * PID 1 reaped them all while it still runs, and returns how many it logged.
 */
async function reapOneShot(orphaner: string, spawnMs: number): Promise<number> {
  const main = `${orphaner}; touch /shared/spawned; ${WAIT_FOR_GO}`;
  const { out } = await withSandbox(
    {
      args: [
        "-v",
        "--skip-startup-files",
        "--skip-runit",
        "--",
        "sh",
        "-c",
        main,
      ],
    },
    async (box) => {
      await box.waitFor("spawned", spawnMs);
      const pid1 = await box.pid1();
      await untilOnlyChildren(pid1, 1);
      assert.deepEqual(await zombiesUnder(pid1), []);
      await Deno.writeTextFile(`${box.shared}/go`, "");
    },
    spawnMs + 30000,
  );
  assert.equal(out.code, 0, out.stderr.slice(-2000));
  return reapedCount(out.stderr);
}

Deno.test({
  name: "my_init reaps 100 orphans and leaves no zombie",
  ignore,
  async fn() {
    // The subshell starts 100 sleeps and exits at once: they reparent to PID 1.
    const orphaner = "(for i in $(seq 100); do sleep 0.3 & done)";
    assert.equal(await reapOneShot(orphaner, 20000), 100);
  },
});

Deno.test({
  name: "my_init reaps a storm of 10,000 orphans and leaves no zombie",
  ignore,
  async fn() {
    // 10,000 double forks: each subshell starts a child and exits at once,
    // so the child (running or already a zombie) reparents to PID 1 while
    // PID 1 is woken by coalesced SIGCHLDs. A single level (`true &` in one
    // subshell) would not do: dash reaps its finished background jobs itself.
    const orphaner =
      "i=0; while [ $i -lt 10000 ]; do (true &); i=$((i+1)); done";
    assert.equal(await reapOneShot(orphaner, 90000), 10000);
  },
});

Deno.test({
  name: "my_init reaps orphans of a runit service in daemon mode",
  ignore,
  async fn() {
    const run = "(for i in $(seq 50); do sleep 0.3 & done); " +
      "touch /shared/spawned; exec sleep 1000";
    const { out } = await withSandbox(
      { args: ["-v"], files: { "/etc/service/orphaner/run": script(run) } },
      async (box) => {
        await box.waitFor("spawned", 20000);
        const pid1 = await box.pid1();
        // Only runsvdir is left as a child of PID 1.
        await untilOnlyChildren(pid1, 1);
        const [runsvdir] = await childrenOf(pid1);
        assert.equal(runsvdir.comm, "runsvdir");
        assert.deepEqual(await zombiesUnder(pid1), []);
        await box.kill("SIGTERM");
      },
    );
    assert.equal(out.code, 0, out.stderr);
    assert.ok(reapedCount(out.stderr) >= 50, out.stderr);
  },
});
