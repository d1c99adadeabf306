import assert from "node:assert/strict";
import {
  allReady,
  checkProblem,
  checksInFlight,
  MIN_UP_MS,
  needsCheck,
  parseStat,
  parseStatus,
  readiness,
  type ServiceView,
  statusReport,
  type SuperviseStatus,
  upVerdict,
} from "./runit_state.ts";

Deno.test("parseStat() reads the first word runsv writes", () => {
  assert.equal(parseStat("run\n"), "run");
  assert.equal(parseStat("run, want down\n"), "run");
  assert.equal(parseStat("down, want up"), "down");
  assert.equal(parseStat("finish"), "finish");
  assert.equal(parseStat("garbage"), "unknown");
  assert.equal(parseStat(undefined), "unknown");
});

const hex = (text: string) =>
  new Uint8Array(text.match(/../g)!.map((b) => parseInt(b, 16)));

Deno.test("parseStatus() reads what runit 2.1.2's runsv wrote for a running service", () => {
  // `xxd supervise/status` of `exec sleep 100` under runsv; `sv status`
  // said "run: ./svc: (pid 26939) 2s" at 1796207423.2.
  assert.deepEqual(
    parseStatus(hex("400000006b0ff3472b027d8c3b69000000750001")),
    {
      changedAt: 1796207421721,
      pid: 26939,
      paused: false,
      want: "up",
      term: false,
      state: "run",
    },
  );
});

Deno.test("parseStatus() reads what runsv wrote after `sv down`", () => {
  assert.deepEqual(
    parseStatus(hex("400000006b0ff3490dbb3c640000000000640000")),
    {
      changedAt: 1796207423230,
      pid: 0,
      paused: false,
      want: "down",
      term: false,
      state: "down",
    },
  );
});

/** Bytes as runsv's update_status() lays them out. */
function statusBytes(s: {
  unixSeconds: number;
  nanos: number;
  pid: number;
  flags?: [number, number, number];
  state: number;
}): Uint8Array {
  const b = new Uint8Array(20);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, 2n ** 62n + 10n + BigInt(s.unixSeconds), false);
  v.setUint32(8, s.nanos, false);
  v.setUint32(12, s.pid, true);
  const [paused, want, term] = s.flags ?? [0, 0x75, 0];
  b[16] = paused;
  b[17] = want;
  b[18] = term;
  b[19] = s.state;
  return b;
}

Deno.test("parseStatus() decodes every field of the 20 bytes", () => {
  const st = parseStatus(statusBytes({
    unixSeconds: 1_700_000_000,
    nanos: 999_999_999,
    pid: 0x7fff_fffe,
    flags: [1, 0x64, 1],
    state: 2,
  }));
  assert.deepEqual(st, {
    changedAt: 1_700_000_000_999,
    pid: 0x7fff_fffe,
    paused: true,
    want: "down",
    term: true,
    state: "finish",
  });
  const odd = parseStatus(statusBytes({
    unixSeconds: 0,
    nanos: 0,
    pid: 1,
    flags: [0, 0, 0],
    state: 7,
  }));
  assert.equal(odd?.changedAt, 0);
  assert.equal(odd?.want, "down");
  assert.equal(odd?.state, "unknown");
});

Deno.test("parseStatus() refuses anything but 20 bytes", () => {
  assert.equal(parseStatus(new Uint8Array(0)), undefined);
  assert.equal(parseStatus(new Uint8Array(19)), undefined);
  assert.equal(parseStatus(new Uint8Array(21)), undefined);
  // A view into a larger buffer is read at its own offset.
  const big = new Uint8Array(25);
  big.set(statusBytes({ unixSeconds: 5, nanos: 0, pid: 9, state: 1 }), 5);
  assert.equal(parseStatus(big.subarray(5))?.pid, 9);
});

const NOW = 1_800_000_000_000;

const running = (over: Partial<SuperviseStatus> = {}): SuperviseStatus => ({
  changedAt: NOW - 5000,
  pid: 42,
  paused: false,
  want: "up",
  term: false,
  state: "run",
  ...over,
});

const svc = (over: Partial<ServiceView>): ServiceView => ({
  name: "x",
  disabled: false,
  supervised: true,
  state: "run",
  status: running(),
  ...over,
});

Deno.test("upVerdict() wants run with a pid, up for one second", () => {
  assert.deepEqual(upVerdict(svc({}), NOW), { up: true });
  assert.deepEqual(
    upVerdict(svc({ status: running({ changedAt: NOW - MIN_UP_MS }) }), NOW),
    { up: true },
  );
  assert.deepEqual(
    upVerdict(svc({ status: running({ changedAt: NOW - 300 }) }), NOW),
    { up: false, reason: "up 0.3 s, not yet 1 s", recheckInMs: 700 },
  );
  assert.deepEqual(
    upVerdict(svc({ status: running({ changedAt: NOW - 999 }) }), NOW),
    { up: false, reason: "up 0.9 s, not yet 1 s", recheckInMs: 1 },
  );
  // A clock set back: counted as just changed.
  assert.deepEqual(
    upVerdict(svc({ status: running({ changedAt: NOW + 60_000 }) }), NOW),
    { up: false, reason: "up 0.0 s, not yet 1 s", recheckInMs: 1000 },
  );
});

Deno.test("upVerdict() says why a service is not up", () => {
  const why = (over: Partial<ServiceView>) => {
    const v = upVerdict(svc(over), NOW);
    return v.up ? "up" : v.reason;
  };
  assert.equal(why({ supervised: false }), "not supervised");
  assert.equal(why({ status: undefined }), "no supervise/status");
  assert.equal(why({ status: running({ state: "down", pid: 0 }) }), "down");
  assert.equal(why({ status: running({ state: "finish" }) }), "finish");
  assert.equal(why({ status: running({ pid: 0 }) }), "down");
  assert.equal(why({ status: running({ paused: true }) }), "paused");
  assert.equal(why({ status: running({ state: "unknown" }) }), "unknown");
});

Deno.test("checkProblem() passes only an exit 0, as sv check", () => {
  const ended = (code: number) =>
    checkProblem({ kind: "ended", status: { kind: "exited", code } });
  assert.equal(ended(0), undefined);
  assert.equal(ended(1), "check exited 1");
  assert.equal(
    checkProblem({ kind: "ended", status: { kind: "signaled", signal: 9 } }),
    "check killed by SIGKILL",
  );
  assert.equal(
    checkProblem({ kind: "timeout", ms: 5000 }),
    "check did not exit within 5 s",
  );
  assert.equal(
    checkProblem({
      kind: "not-started",
      message: "./check: exec format error",
    }),
    "check cannot run: ./check: exec format error",
  );
  assert.equal(checkProblem({ kind: "running" }), "check still running");
});

Deno.test("needsCheck() only for an enabled service with a check, up long enough", () => {
  assert.equal(needsCheck(svc({ hasCheck: true }), NOW), true);
  assert.equal(needsCheck(svc({}), NOW), false);
  assert.equal(needsCheck(svc({ hasCheck: true, disabled: true }), NOW), false);
  assert.equal(
    needsCheck(
      svc({ hasCheck: true, status: running({ changedAt: NOW - 10 }) }),
      NOW,
    ),
    false,
  );
});

Deno.test("readiness() combines the up verdict and the check", () => {
  const failed = {
    kind: "ended",
    status: { kind: "exited", code: 3 },
  } as const;
  const passed = {
    kind: "ended",
    status: { kind: "exited", code: 0 },
  } as const;
  const web = svc({ name: "web", hasCheck: true });
  assert.deepEqual(readiness(web, NOW, passed), { view: web });
  assert.deepEqual(readiness(web, NOW, failed), {
    view: web,
    problem: "check exited 3",
    recheckInMs: 420,
  });
  const young = svc({ status: running({ changedAt: NOW - 100 }) });
  assert.deepEqual(readiness(young, NOW), {
    view: young,
    problem: "up 0.1 s, not yet 1 s",
    recheckInMs: 900,
  });
  // Disabled: never a problem, down or not.
  const off = svc({ disabled: true, supervised: false });
  assert.deepEqual(readiness(off, NOW), { view: off });
});

Deno.test("statusReport() fails only for enabled services that are not ready, saying why", () => {
  const r = statusReport([
    readiness(svc({ name: "cron" }), NOW),
    readiness(
      svc({ name: "sshd", disabled: true, state: "down", status: undefined }),
      NOW,
    ),
  ]);
  assert.deepEqual(r, {
    lines: ["ok: cron: run", "ok: sshd: down (disabled)"],
    exitCode: 0,
  });
  const bad = statusReport([
    readiness(
      svc({ name: "cron", state: "down", status: running({ state: "down" }) }),
      NOW,
    ),
    readiness(svc({ name: "web", supervised: false }), NOW),
    readiness(
      svc({ name: "db", status: running({ changedAt: NOW - 300 }) }),
      NOW,
    ),
    readiness(svc({ name: "api", hasCheck: true }), NOW, {
      kind: "ended",
      status: { kind: "exited", code: 1 },
    }),
    readiness(svc({ name: "off", disabled: true, supervised: false }), NOW),
  ]);
  assert.deepEqual(bad, {
    lines: [
      "fail: cron: down",
      "fail: web: not supervised",
      "fail: db: up 0.3 s, not yet 1 s",
      "fail: api: check exited 1",
      "ok: off: not supervised (disabled)",
    ],
    exitCode: 1,
  });
});

Deno.test("statusReport() says when runit's state cannot be read, not that the service is unsupervised", () => {
  const denied = "supervise/ok: Permission denied (EACCES)";
  const r = statusReport([
    readiness(
      svc({
        name: "cron",
        supervised: false,
        state: "unknown",
        status: undefined,
        unreadable: denied,
      }),
      NOW,
    ),
    readiness(
      svc({
        name: "sshd",
        disabled: true,
        supervised: false,
        state: "unknown",
        status: undefined,
        unreadable: denied,
      }),
      NOW,
    ),
  ]);
  assert.deepEqual(r, {
    lines: [
      `fail: cron: cannot read its runit state (${denied})`,
      `ok: sshd: cannot read its runit state (${denied}) (disabled)`,
    ],
    exitCode: 1,
  });
});

Deno.test("checksInFlight() gives a service whose check still runs that reason, not the last look's", () => {
  const web = svc({ name: "web", hasCheck: true });
  const db = svc({ name: "db", status: running({ changedAt: NOW - 300 }) });
  // The last complete look, when web was up 0.9 s and db 0.3 s.
  const last = [
    readiness(
      svc({
        name: "web",
        hasCheck: true,
        status: running({ changedAt: NOW - 900 }),
      }),
      NOW,
    ),
    readiness(db, NOW),
  ];
  const now = checksInFlight(last, [web, db], {
    names: new Set(["web"]),
    since: NOW - 1500,
  }, NOW);
  assert.deepEqual(now.map((r) => [r.view.name, r.problem]), [
    ["web", "check still running after 1.5 s"],
    ["db", "up 0.3 s, not yet 1 s"],
  ]);
  // Nothing in flight: the last look stands.
  assert.equal(checksInFlight(last, [web, db], undefined, NOW), last);
});

Deno.test("parseStat() reads the first word after leading blanks", () => {
  assert.equal(parseStat("  run\n"), "run");
});

Deno.test("checkProblem() of a check that neither exited nor was killed", () => {
  assert.equal(
    checkProblem({ kind: "ended", status: { kind: "other", raw: 0x137f } }),
    "check ended abnormally",
  );
});

Deno.test("allReady() is true only when no service has a problem", () => {
  const ok = readiness(svc({ name: "a" }), NOW);
  const notUp = readiness(svc({ name: "b", supervised: false }), NOW);
  assert.equal(allReady([]), true);
  assert.equal(allReady([ok, ok]), true);
  assert.equal(allReady([ok, notUp]), false);
  assert.equal(allReady([notUp, ok]), false);
});
