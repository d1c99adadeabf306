/**
 * What users type, with each engine's own defaults (issue 19): the commands
 * of the README without the spelled-out options the other tests use, so
 * that what differs between podman and a real Docker Engine is seen here.
 *
 * - `stop` without -t: both engines wait 10 s before KILL, and my_init's
 *   shutdown fits (podman's Docker API would KILL at once: this test fails
 *   a docker run that fell back to it).
 * - `run --rm`: the exit code is the command's, and the container is gone.
 * - The image's HEALTHCHECK: a Docker Engine runs it on its own and the
 *   status goes healthy, then unhealthy with a service down; podman without
 *   systemd never runs it on its own (status "starting" until `podman
 *   healthcheck run`).
 * - `--read-only` and `--tmpfs`: podman adds tmpfs mounts of its own
 *   (--read-only-tmpfs) and mounts --tmpfs exec; Docker adds none, and its
 *   --tmpfs mounts are noexec.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  DOCKER_ENGINE,
  ENGINE,
  engine,
  engineOk,
  IMAGE,
  runToEnd,
  uniqueName,
  waitFor,
  withContainer,
} from "./_engine.ts";

Deno.test(`${ENGINE}: \`stop\` without -t is graceful: exit 0 well within the engine's 10 s`, async () => {
  await withContainer("default-stop", ["--network=none", IMAGE], async (c) => {
    await c.waitUntilUp();
    const started = Date.now();
    const stop = await engine(["stop", c.name], { timeoutMs: 30_000 });
    assert.equal(stop.code, 0, stop.stderr);
    const code = await c.wait();
    const elapsed = Date.now() - started;
    const logs = await c.logs();
    assert.equal(code, 0, `exit ${code} after ${elapsed} ms:\n${logs}`);
    assert.match(logs, /\*\*\* Received SIGTERM; shutting down\.\.\./);
    assert.ok(elapsed < 8_000, `stop took ${elapsed} ms`);
    assert.equal(
      await c.inspect("{{.Config.StopTimeout}}"),
      // Docker's API leaves it unset: the daemon's default (10 s) applies.
      ENGINE === "podman" ? "10" : "<nil>",
      "the stop timeout the container got",
    );
  });
});

Deno.test(`${ENGINE}: \`run --rm\` reports the command's exit code, and removes the container`, async () => {
  const name = uniqueName("rm");
  try {
    const r = await engine([
      "run",
      "--rm",
      "--name",
      name,
      "--pull=never",
      "--network=none",
      IMAGE,
      "/sbin/my_init",
      "--",
      "sh",
      "-c",
      "exit 3",
    ]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stderr + r.stdout, /\*\*\* sh exited with status 3\./);
    const gone = await waitFor(
      async () => (await engine(["inspect", name])).code !== 0,
      10_000,
    );
    assert.ok(gone, `${name} still exists after run --rm`);
  } finally {
    await engine(["rm", "-f", name]);
  }
});

/** Whether systemd runs this host (podman's health check timers need it). */
const SYSTEMD = await Deno.stat("/run/systemd/system").then(
  (s) => s.isDirectory,
  () => false,
);

// Short intervals, the image's own command: the engine's machinery, not
// the image's 30 s timing (image/Dockerfile), is what differs. No start
// period: podman does not count failures within it, even after a success.
const FAST_HEALTH = [
  "--health-start-period=0s",
  "--health-interval=1s",
  "--health-timeout=10s",
  "--health-retries=2",
];

Deno.test(`${ENGINE}: the image's HEALTHCHECK goes healthy, and unhealthy with a service down`, async () => {
  await withContainer(
    "health",
    [
      "--network=none",
      // podman 4.3 ignores the other --health-* options without a command
      // (the image's 30 s timing stays): the image's command, given again.
      ...(ENGINE === "podman"
        ? ["--health-cmd", '["/sbin/my_init", "--status"]']
        : []),
      ...FAST_HEALTH,
      IMAGE,
    ],
    async (c) => {
      // The image's own (podman keeps it in images built --format docker).
      const hc = JSON.parse(
        await engineOk([
          "image",
          "inspect",
          "--format",
          "{{json .Config.Healthcheck}}",
          IMAGE,
        ]),
      );
      assert.deepEqual(hc.Test, ["CMD", "/sbin/my_init", "--status"]);
      assert.deepEqual(
        [hc.Interval, hc.Timeout, hc.StartPeriod].map((ns) => ns / 1e9),
        [30, 10, 30],
      );
      assert.equal(hc.Retries, 3);
      const status = () => c.inspect("{{.State.Health.Status}}");
      await c.waitUntilUp();
      if (DOCKER_ENGINE || (ENGINE === "podman" && SYSTEMD)) {
        // The Engine runs the check itself; podman from systemd timers.
        assert.ok(
          await waitFor(async () => await status() === "healthy", 20_000),
          await status(),
        );
        assert.equal((await c.exec(["sv", "down", "cron"])).code, 0);
        assert.ok(
          await waitFor(async () => await status() === "unhealthy", 20_000),
          await status(),
        );
        const log = JSON.parse(await c.inspect("{{json .State.Health.Log}}"));
        assert.match(log.at(-1).Output, /^fail: cron: down$/m);
        assert.equal((await c.exec(["sv", "up", "cron"])).code, 0);
        assert.ok(
          await waitFor(async () => await status() === "healthy", 20_000),
          await status(),
        );
      } else {
        // podman runs checks from systemd timers: without systemd, never on
        // its own; `podman healthcheck run` runs one and records it.
        await new Promise((r) => setTimeout(r, 3_000));
        assert.equal(await status(), "starting");
        const ok = await engine(["healthcheck", "run", c.name]);
        assert.equal(ok.code, 0, ok.stdout + ok.stderr);
        assert.equal(await status(), "healthy");
        assert.equal((await c.exec(["sv", "down", "cron"])).code, 0);
        for (let i = 0; i < 2; i++) {
          const bad = await engine(["healthcheck", "run", c.name]);
          assert.equal(bad.code, 1, bad.stdout + bad.stderr);
        }
        assert.equal(await status(), "unhealthy");
      }
    },
  );
});

Deno.test(`${ENGINE}: \`run --read-only\`: the engine's own tmpfs mounts, and --tmpfs's exec flag`, async () => {
  const mounts = await runToEnd("ro-mounts", [
    "--network=none",
    "--read-only",
    "--tmpfs",
    "/var/log",
    "--entrypoint",
    "cat",
    IMAGE,
    "/proc/mounts",
  ]);
  assert.equal(mounts.code, 0, mounts.logs);
  const tmpfs = new Map(
    mounts.logs.split("\n").map((l) => l.split(" "))
      .filter((f) => f[2] === "tmpfs").map((f) => [f[1], f[3]]),
  );
  if (ENGINE === "podman") {
    // --read-only-tmpfs (default true): /run, /tmp and /var/tmp.
    for (const dir of ["/run", "/tmp", "/var/tmp"]) {
      assert.ok(tmpfs.has(dir), `${dir}: ${mounts.logs}`);
    }
    assert.doesNotMatch(tmpfs.get("/var/log")!, /noexec/);
  } else {
    for (const dir of ["/run", "/tmp", "/var/tmp"]) {
      assert.ok(!tmpfs.has(dir), `${dir}: ${mounts.logs}`);
    }
    assert.match(tmpfs.get("/var/log")!, /(^|,)noexec(,|$)/);
  }
});
