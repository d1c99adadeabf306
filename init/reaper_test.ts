import assert from "node:assert/strict";
import { spawn } from "../lib/spawn.ts";
import { Reaper } from "./reaper.ts";

const env = new Map([["PATH", "/usr/bin:/bin"]]);

/** Reaps until `p` settles (no SIGCHLD here: the test polls). */
async function reapUntil<T>(reaper: Reaper, p: Promise<T>): Promise<T> {
  let done = false;
  const result = p.finally(() => done = true);
  const deadline = Date.now() + 10000;
  while (!done) {
    reaper.reap();
    if (Date.now() > deadline) throw new Error("never reaped");
    await new Promise((r) => setTimeout(r, 5));
  }
  return await result;
}

Deno.test("Reaper hands a watched child's status to its waiter and orphans to the hook", async () => {
  const orphans: number[] = [];
  const reaper = new Reaper((pid) => orphans.push(pid));
  const watched = spawn(["sh", "-c", "exit 3"], { env });
  const unwatched = spawn(["sh", "-c", "kill -9 $$"], { env });
  const status = await reapUntil(reaper, reaper.watch(watched));
  assert.deepEqual(status, { kind: "exited", code: 3 });
  await reapUntil(reaper, reaper.whenNoChildren());
  assert.deepEqual(orphans, [unwatched]);
  assert.equal(reaper.watching, 0);
});

Deno.test("Reaper reaps every exited child in one call, not one per SIGCHLD", async () => {
  const reaper = new Reaper();
  const pids = Array.from({ length: 20 }, () => spawn(["true"], { env }));
  // Let all of them exit first: one reap() must then collect them all.
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(reaper.reap(), pids.length);
});

Deno.test("Reaper.whenNoChildren() resolves at once without children", async () => {
  const reaper = new Reaper();
  reaper.reap();
  assert.equal(await reaper.whenNoChildren(), undefined);
});

Deno.test("Reaper reports a child's stop to its hook without reaping it", async () => {
  const reaper = new Reaper();
  const pid = spawn(["sh", "-c", "kill -STOP $$; exit 4"], { env });
  const stopped = new Promise<number>((resolve) => reaper.onStop(pid, resolve));
  const exited = reaper.watch(pid);
  assert.equal(await reapUntil(reaper, stopped), 19);
  Deno.kill(pid, "SIGCONT");
  assert.deepEqual(await reapUntil(reaper, exited), {
    kind: "exited",
    code: 4,
  });
});
