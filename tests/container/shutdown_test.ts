/**
 * `docker stop`: SIGTERM to my_init, which runs the pre-shutdown scripts,
 * stops the runit services, then the post-shutdown scripts (syslog-ng last),
 * well within the engine's default 10 s.
 */
import assert from "node:assert/strict";
import {
  type Container,
  engine,
  readEvents,
  stopTimed,
  tempDir,
  TEST_IMAGE,
  waitFor,
  withContainer,
  withDemo,
} from "./_engine.ts";

Deno.test("stop: graceful and fast, services stopped in order, their last log lines kept", async () => {
  await withDemo("stop", async ({ c, events: readAll }) => {
    const started = Date.now();
    // -t 10 is both engines' default, spelled out because containers created
    // through podman's Docker API get a stop timeout of 0 (SIGKILL at once).
    const stop = await engine(["stop", "-t", "10", c.name], {
      timeoutMs: 30_000,
    });
    const elapsed = Date.now() - started;
    assert.equal(stop.code, 0, stop.stderr);
    const code = await c.wait();
    assert.ok(elapsed < 8_000, `stop took ${elapsed} ms`);
    assert.notEqual(code, 137, "my_init was killed: not a graceful stop");

    const events = await readAll();
    const at = (e: string) => events.indexOf(e);
    for (
      const e of [
        "pre-shutdown",
        "demo-svc term",
        "demo-svc finish",
        "post-shutdown",
      ]
    ) {
      assert.ok(at(e) >= 0, `missing "${e}" in ${JSON.stringify(events)}`);
    }
    assert.ok(
      at("pre-shutdown") < at("demo-svc term"),
      JSON.stringify(events),
    );
    assert.ok(
      at("demo-svc term") < at("post-shutdown"),
      JSON.stringify(events),
    );
    assert.ok(
      at("demo-svc finish") < at("post-shutdown"),
      JSON.stringify(events),
    );

    // syslog-ng outlives the services: their last words reach the log.
    const logs = await c.logs();
    assert.match(logs, /demo-svc: demo-svc stopping/);
  });
});

Deno.test("stop: a service that ignores SIGTERM is killed in time, and a failing pre-shutdown script skips nothing", async () => {
  const markers = await tempDir();
  try {
    await withContainer(
      "stop-stubborn",
      [
        "--network=none",
        "-e",
        "FAIL_SHUTDOWN=1",
        "-v",
        `${markers.path}:/markers`,
        TEST_IMAGE,
      ],
      async (c) => {
        await c.waitUntilUp();
        // SIGTERM ignored before exec: sleep keeps ignoring it.
        const add = await c.sh(
          "mkdir -p /etc/service/stubborn && " +
            "printf '#!/bin/sh\\ntrap \"\" TERM\\nexec sleep 1000\\n' >/etc/service/stubborn/run && " +
            "chmod +x /etc/service/stubborn/run",
        );
        assert.equal(add.code, 0, add.stderr);
        assert.ok(
          await waitFor(
            async () =>
              /^run:/.test(
                (await c.sh("sv status /etc/service/stubborn")).stdout,
              ),
            15_000,
          ),
          "the stubborn service did not start",
        );

        const started = Date.now();
        const stop = await engine(["stop", "-t", "10", c.name], {
          timeoutMs: 30_000,
        });
        const elapsed = Date.now() - started;
        assert.equal(stop.code, 0, stop.stderr);
        const code = await c.wait();
        assert.notEqual(
          code,
          137,
          `my_init was killed after ${elapsed} ms: the stop did not fit in 10 s`,
        );
        assert.ok(elapsed < 9_500, `stop took ${elapsed} ms`);

        const logs = await c.logs();
        assert.match(logs, /40_maybe_fail: failing on purpose/);
        const events = await readEvents(`${markers.path}/events`);
        assert.ok(events.includes("pre-shutdown"), JSON.stringify(events));
        assert.ok(events.includes("demo-svc term"), JSON.stringify(events));
        assert.ok(events.includes("post-shutdown"), JSON.stringify(events));
      },
    );
  } finally {
    await markers.cleanup();
  }
});

/**
 * Adds the worst case of issue 20 to a running test container: a
 * pre-shutdown script that sleeps 30 s and ignores TERM, and a service
 * that ignores TERM and leaves a process behind that ignores it too (its
 * child, orphaned when runit kills the service: only the kill-all meets
 * it). Waits until the service runs.
 */
async function addWorstCase(c: Container): Promise<void> {
  const add = await c.sh([
    "printf '#!/bin/sh\\ntrap \"\" TERM\\nsleep 30\\n' >/etc/my_init.pre_shutdown.d/05_slow",
    "chmod +x /etc/my_init.pre_shutdown.d/05_slow",
    "mkdir -p /etc/service/stubborn",
    "printf '#!/bin/sh\\ntrap \"\" TERM\\nsleep 1000 &\\nexec sleep 1000\\n' >/etc/service/stubborn/run",
    "chmod +x /etc/service/stubborn/run",
  ].join(" && "));
  assert.equal(add.code, 0, add.stderr);
  assert.ok(
    await waitFor(
      async () =>
        /^run:/.test((await c.sh("sv status /etc/service/stubborn")).stdout),
      15_000,
    ),
    "the stubborn service did not start",
  );
}

for (const mode of ["daemon", "one-shot"] as const) {
  Deno.test(`stop: everything ignoring TERM with the default timeouts, the whole shutdown runs within 9 s, before the engine's KILL (${mode})`, async () => {
    const markers = await tempDir();
    // One-shot: a main command that ignores TERM (bash's ignored TERM
    // survives the exec of sleep).
    const main = mode === "daemon"
      ? []
      : ["/sbin/my_init", "--", "bash", "-c", "trap '' TERM; exec sleep 1000"];
    try {
      await withContainer(
        `stop-worst-${mode}`,
        [
          "--network=none",
          "-v",
          `${markers.path}:/markers`,
          TEST_IMAGE,
          ...main,
        ],
        async (c) => {
          await c.waitUntilUp();
          await addWorstCase(c);
          const { code, elapsed, stopStatus } = await stopTimed(c);
          assert.equal(stopStatus.code, 0, stopStatus.stderr);
          const logs = await c.logs();
          // Daemon mode: 0 after a requested stop. One-shot: the main
          // command's status after my_init's KILL, which my_init logs (the
          // engine's KILL would give 137 too, and no such line).
          assert.equal(code, mode === "daemon" ? 0 : 137, logs);
          if (mode === "one-shot") {
            assert.match(
              logs,
              /\*\*\* bash exited with status 137 \(SIGKILL\)\./,
            );
          }
          assert.ok(elapsed <= 9_000, `stop took ${elapsed} ms\n${logs}`);
          console.log(`${mode}: the stop took ${elapsed} ms`);

          // The whole order ran, each phase cut short by the deadline.
          for (
            const line of [
              "*** /etc/my_init.pre_shutdown.d/05_slow did not finish in ",
              "*** Services still up after ",
              "*** Running post-shutdown scripts...",
              "*** Not all processes have exited in time. Forcing them to exit.",
            ]
          ) {
            assert.ok(logs.includes(line), `no "${line}" in:\n${logs}`);
          }
          const events = await readEvents(`${markers.path}/events`);
          // One-shot: the main command's 3 s and 05_slow's share leave the
          // later pre-shutdown scripts no room before the reserves of the
          // phases after them: each is started, and stopped at once.
          const expected = mode === "daemon"
            ? ["pre-shutdown", "demo-svc term", "post-shutdown"]
            : ["demo-svc term", "post-shutdown"];
          if (mode === "one-shot") {
            assert.ok(
              logs.includes(
                "*** Running /etc/my_init.pre_shutdown.d/50_marker...",
              ),
              logs,
            );
          }
          for (const e of expected) {
            assert.ok(
              events.includes(e),
              `no "${e}" in ${JSON.stringify(events)}`,
            );
          }
          // syslog-ng outlived the services (their last words reach the
          // log) and was stopped by its post-shutdown script, not killed.
          assert.match(logs, /demo-svc: demo-svc stopping/);
          assert.match(logs, /syslog-ng shutting down/);
        },
      );
    } finally {
      await markers.cleanup();
    }
  });
}
