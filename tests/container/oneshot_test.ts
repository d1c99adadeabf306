/**
 * One-shot mode, `my_init -- CMD ARGS`: the command's exit code becomes the
 * container's, and orphans are reaped.
 */
import assert from "node:assert/strict";
import { IMAGE, runToEnd } from "./_engine.ts";

const CASES: { name: string; argv: string[]; code: number }[] = [
  { name: "true", argv: ["true"], code: 0 },
  { name: "exit 3", argv: ["sh", "-c", "exit 3"], code: 3 },
  {
    name: "killed by SIGTERM",
    argv: ["sh", "-c", "kill -TERM $$"],
    code: 128 + 15,
  },
  {
    name: "killed by SIGKILL",
    argv: ["sh", "-c", "kill -KILL $$"],
    code: 128 + 9,
  },
  { name: "missing command", argv: ["/no/such/command"], code: 127 },
  { name: "not executable", argv: ["/etc/hostname"], code: 126 },
];

Deno.test("one-shot: the command's exit code becomes the container's (0, 3, 128+N, 127)", async () => {
  // Independent containers: run them side by side.
  const results = await Promise.all(
    CASES.map((c) =>
      runToEnd("oneshot", [
        "--network=none",
        IMAGE,
        "/sbin/my_init",
        "--",
        ...c.argv,
      ])
    ),
  );
  for (const [i, c] of CASES.entries()) {
    assert.equal(results[i].code, c.code, `${c.name}: ${results[i].logs}`);
  }
});

Deno.test("one-shot: startup scripts and runit run first; services are up while the command runs", async () => {
  const r = await runToEnd("oneshot-services", [
    "--network=none",
    IMAGE,
    "/sbin/my_init",
    "--wait-for-services",
    "--",
    "sh",
    "-c",
    "sv status /etc/service/cron; echo ONESHOT-DONE",
  ]);
  assert.equal(r.code, 0, r.logs);
  assert.match(r.logs, /^run: \/etc\/service\/cron:/m);
  assert.match(r.logs, /ONESHOT-DONE/);
});

Deno.test("one-shot: --skip-startup-files --skip-runit runs the command alone", async () => {
  const r = await runToEnd("oneshot-skip", [
    "--network=none",
    IMAGE,
    "/sbin/my_init",
    "--skip-startup-files",
    "--skip-runit",
    "--quiet",
    "--",
    "sh",
    "-c",
    "ps -eo comm | grep -E '^(runsvdir|syslog-ng|cron)$' || echo NOTHING-ELSE",
  ]);
  assert.equal(r.code, 0, r.logs);
  assert.match(r.logs, /NOTHING-ELSE/);
  // --quiet: warnings and errors only.
  assert.doesNotMatch(r.logs, /\*\*\* Running/);
});

Deno.test("one-shot: orphans reparented to my_init are reaped", async () => {
  // Each inner sh starts a short sleep and exits at once: the sleeps become
  // children of PID 1, which must reap them when they end. Once no sleep is
  // left running (each has exited: a zombie or reaped), PID 1 gets a
  // moment (up to 5 s, polled) to reap; a zombie left then is a failure.
  const script =
    'for i in 1 2 3 4 5 6 7 8 9 10; do sh -c "sleep 0.3 &"; done; ' +
    "while ps -eo stat=,comm= | grep -q '^[^Z].* sleep$'; do sleep 0.05; done; " +
    "for i in $(seq 100); do [ $(ps -eo stat= | grep -c '^Z') = 0 ] && break; sleep 0.05; done; " +
    "echo ZOMBIES=$(ps -eo stat= | grep -c '^Z')";
  const r = await runToEnd("oneshot-zombies", [
    "--network=none",
    IMAGE,
    "/sbin/my_init",
    "--skip-startup-files",
    "--skip-runit",
    "--",
    "sh",
    "-c",
    script,
  ]);
  assert.equal(r.code, 0, r.logs);
  assert.match(r.logs, /ZOMBIES=0/);
});
