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
} from "./_engine.ts";

Deno.test("stop: graceful and fast, services stopped in order, their last log lines kept", async () => {
  const markers = await tempDir();
  try {
    await withContainer("stop", [
      "--network=none",
      "-v",
      `${markers.path}:/markers`,
      TEST_IMAGE,
    ], async (c) => {
      await c.waitUntilUp();
      assert.ok(
        await waitFor(
          async () =>
            (await readEvents(`${markers.path}/events`)).includes(
              "demo-svc run",
            ),
          10_000,
        ),
      );

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

      const events = await readEvents(`${markers.path}/events`);
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
  } finally {
    await markers.cleanup();
  }
});
