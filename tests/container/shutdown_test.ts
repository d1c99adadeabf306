/**
 * `docker stop`: SIGTERM to my_init, which runs the pre-shutdown scripts,
 * stops the runit services, then the post-shutdown scripts (syslog-ng last),
 * well within the engine's default 10 s.
 */
import assert from "node:assert/strict";
import {
  engine,
  readEvents,
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
