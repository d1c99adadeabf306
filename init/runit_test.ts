import assert from "node:assert/strict";
import { C, libc } from "../lib/libc.ts";
import { cstr } from "../lib/cstr.ts";
import { spawn } from "../lib/spawn.ts";
import { Reaper } from "./reaper.ts";
import { readinessOnce, runCheck } from "./runit.ts";
import { statusReport } from "./runit_state.ts";

// No runsv here: each service gets the files runsv would write, and its
// supervise/ok FIFO a reader, as runsv holds it open.

const env = new Map([["PATH", "/usr/bin:/bin"], ["MARK", "given"]]);

/** runsv's supervise/status bytes: state 1 (run) since `changedAt` (ms), or 0 (down). */
function statusBytes(run: boolean, changedAt: number): Uint8Array {
  const b = new Uint8Array(20);
  const v = new DataView(b.buffer);
  v.setBigUint64(
    0,
    2n ** 62n + 10n + BigInt(Math.floor(changedAt / 1000)),
    false,
  );
  v.setUint32(8, (changedAt % 1000) * 1e6, false);
  v.setUint32(12, run ? 4242 : 0, true);
  b[17] = 0x75;
  b[19] = run ? 1 : 0;
  return b;
}

/** Runs `argv` to its end, reaped by a reaper of its own. */
async function run(argv: string[]): Promise<void> {
  const reaper = new Reaper();
  const exited = reaper.watch(spawn(argv, { env }));
  const poll = setInterval(() => reaper.reap(), 5);
  try {
    await exited;
  } finally {
    clearInterval(poll);
  }
}

/** A service directory as runsv keeps it; returns the fd reading its supervise/ok. */
async function service(
  dir: string,
  name: string,
  files: { run: boolean; upMs: number; check?: string },
): Promise<number> {
  const svc = `${dir}/${name}`;
  await Deno.mkdir(`${svc}/supervise`, { recursive: true });
  await Deno.writeTextFile(`${svc}/run`, "#!/bin/sh\nexec sleep 1000\n", {
    mode: 0o755,
  });
  await Deno.writeTextFile(
    `${svc}/supervise/stat`,
    files.run ? "run\n" : "down\n",
  );
  await Deno.writeFile(
    `${svc}/supervise/status`,
    statusBytes(files.run, Date.now() - files.upMs),
  );
  if (files.check !== undefined) {
    await Deno.writeTextFile(`${svc}/check`, `#!/bin/sh\n${files.check}\n`);
    await Deno.chmod(`${svc}/check`, 0o755);
  }
  await run(["mkfifo", `${svc}/supervise/ok`]);
  return libc().open(
    cstr(`${svc}/supervise/ok`),
    C.O_NONBLOCK | C.O_CLOEXEC,
    0,
  );
}

Deno.test("readinessOnce() reads runsv's files and runs ./check in the service directory", async () => {
  const dir = await Deno.makeTempDir();
  const fds: number[] = [];
  try {
    fds.push(
      await service(dir, "web", {
        run: true,
        upMs: 5000,
        check: 'pwd > ../web.cwd; echo "$MARK" > ../web.env; exit 3',
      }),
      await service(dir, "fine", { run: true, upMs: 5000, check: "exit 0" }),
      // Up too briefly: its check is not even run.
      await service(dir, "young", {
        run: true,
        upMs: 200,
        check: "touch ../young.checked",
      }),
      await service(dir, "stopped", { run: false, upMs: 5000 }),
    );
    const report = statusReport(await readinessOnce(env, dir));
    assert.deepEqual(report.lines.slice(0, 3), [
      "ok: fine: run",
      "fail: stopped: down",
      "fail: web: check exited 3",
    ]);
    assert.match(report.lines[3], /^fail: young: up 0\.[2-9] s, not yet 1 s$/);
    assert.equal(report.lines.length, 4);
    assert.equal(report.exitCode, 1);
    assert.equal(
      await Deno.readTextFile(`${dir}/web.cwd`),
      `${await Deno.realPath(dir)}/web\n`,
    );
    assert.equal(await Deno.readTextFile(`${dir}/web.env`), "given\n");
    await assert.rejects(Deno.stat(`${dir}/young.checked`));
    // The directory of the caller is its own again.
    assert.notEqual(Deno.cwd(), `${dir}/web`);
  } finally {
    for (const fd of fds) libc().close(fd);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runCheck() kills a check that outlives its deadline, with what it started", async () => {
  const dir = await Deno.makeTempDir();
  const reaper = new Reaper();
  const poll = setInterval(() => reaper.reap(), 5);
  try {
    await Deno.mkdir(`${dir}/slow`);
    await Deno.writeTextFile(
      `${dir}/slow/check`,
      "#!/bin/sh\nsleep 30 &\necho $! > ../sleep.pid\nwait\n",
      { mode: 0o755 },
    );
    await Deno.chmod(`${dir}/slow/check`, 0o755);
    const started = Date.now();
    const outcome = await runCheck(dir, "slow", { env, reaper, ms: 300 });
    assert.deepEqual(outcome, { kind: "timeout", ms: 300 });
    assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`);
    // Its group was killed: the sleep it started is gone too (or a zombie
    // for whoever reaps orphans here).
    const pid = Number((await Deno.readTextFile(`${dir}/sleep.pid`)).trim());
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
      gone = stat === "" || stat.slice(stat.lastIndexOf(")") + 2)[0] === "Z";
      if (!gone) await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(gone, `sleep ${pid} outlived its check`);
  } finally {
    clearInterval(poll);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runCheck() reports a check it cannot start", async () => {
  const outcome = await runCheck("/nonexistent", "web", {
    env,
    reaper: new Reaper(),
  });
  assert.equal(outcome.kind, "not-started");
});
