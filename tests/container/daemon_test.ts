/**
 * Daemon mode with the test image (testdata/): environment passing, startup
 * scripts, zombie reaping and runit's restarts.
 */
import assert from "node:assert/strict";
import {
  engine,
  IMAGE,
  loggedToSyslog,
  readEvents,
  runToEnd,
  tempDir,
  TEST_IMAGE,
  waitFor,
  withContainer,
  withDemo,
} from "./_engine.ts";

Deno.test("env: -e variables and /etc/container_environment files set by startup scripts reach services", async (t) => {
  await withContainer("env", [
    "--network=none",
    "-e",
    "FROM_CLI=cli value's",
    "-e",
    "OVERRIDDEN=cli",
    TEST_IMAGE,
  ], async (c) => {
    await c.waitUntilUp();
    // demo-svc dumps its environment when it starts.
    assert.ok(
      await waitFor(
        async () =>
          (await c.exec(["test", "-s", "/run/demo-svc.env"])).code === 0,
        10_000,
      ),
    );
    const env = (await c.exec(["cat", "/run/demo-svc.env"])).stdout;

    await t.step(
      "a service sees the -e variable and the one a startup script wrote",
      () => {
        assert.match(env, /^FROM_CLI=cli value's$/m);
        assert.match(env, /^DIRVAR=fromdir$/m);
      },
    );

    await t.step(
      "variables defined in the image reach services; -e wins over them",
      () => {
        assert.match(env, /^APP_ENV=production$/m);
        assert.match(env, /^OVERRIDDEN=cli$/m);
      },
    );

    await t.step(
      "the variables are dumped to the directory, .sh and .json",
      async () => {
        const dir =
          (await c.exec(["cat", "/etc/container_environment/FROM_CLI"])).stdout;
        assert.equal(dir, "cli value's");
        const sh =
          (await c.exec(["cat", "/etc/container_environment.sh"])).stdout;
        assert.match(sh, /^export FROM_CLI=/m);
        assert.match(sh, /^export DIRVAR=/m);
        const json = JSON.parse(
          (await c.exec(["cat", "/etc/container_environment.json"])).stdout,
        );
        assert.equal(json.FROM_CLI, "cli value's");
        assert.equal(json.DIRVAR, "fromdir");
      },
    );

    await t.step(
      "a login shell sources container_environment.sh via /etc/profile.d",
      async () => {
        const r = await c.exec(
          ["bash", "-lc", 'echo "[$FROM_CLI] [$DIRVAR]"'],
          {},
        );
        assert.equal(r.stdout.trim(), "[cli value's] [fromdir]");
      },
    );
  });
});

Deno.test("startup scripts run in order, then /etc/rc.local, and see variables of earlier ones", async () => {
  await withDemo("startup-order", async ({ events }) => {
    assert.deepEqual((await events()).slice(0, 4), [
      "startup 50",
      "startup 60 DIRVAR=fromdir",
      "rc.local",
      "demo-svc run",
    ]);
  });
});

Deno.test("a failing startup script stops the boot: exit 1, later scripts and runit not run", async () => {
  const markers = await tempDir();
  try {
    const r = await runToEnd("startup-fail", [
      "--network=none",
      "-e",
      "FAIL_STARTUP=1",
      "-v",
      `${markers.path}:/markers`,
      TEST_IMAGE,
    ]);
    assert.equal(r.code, 1, r.logs);
    assert.match(r.logs, /50_maybe_fail: failing on purpose/);
    assert.match(r.logs, /\*\*\* .*50_maybe_fail/);
    const events = await readEvents(`${markers.path}/events`);
    assert.ok(
      !events.some((e) => e.startsWith("startup 60")),
      events.join("\n"),
    );
    assert.ok(!events.includes("demo-svc run"), events.join("\n"));
  } finally {
    await markers.cleanup();
  }
});

Deno.test("ENV_INIT_DIRECTORY elsewhere: my_init names it in one line, and the image's own startup scripts (syslog-ng) do not run", async () => {
  await withContainer("init-directory", [
    "--network=none",
    "-e",
    "ENV_INIT_DIRECTORY=/elsewhere",
    IMAGE,
  ], async (c) => {
    await c.waitUntilUp();
    const logs = await c.logs();
    assert.deepEqual(
      logs.split("\n").filter((l) => l.includes("startup scripts")),
      [
        "*** Running the startup scripts in /elsewhere (ENV_INIT_DIRECTORY), " +
        "not those in /etc/my_init.d...",
      ],
      logs,
    );
    assert.doesNotMatch(logs, /Running \/etc\/my_init\.d\//);
    const r = await c.sh(
      "pidof syslog-ng || echo none; test -S /dev/log || echo no-socket",
    );
    assert.equal(r.stdout, "none\nno-socket\n");
  });
});

Deno.test("daemon mode: orphans are reaped", async () => {
  await withContainer("zombies", ["--network=none", TEST_IMAGE], async (c) => {
    await c.waitUntilUp();
    // `exec`'d processes orphan to the container's PID 1 as well.
    await c.sh('for i in 1 2 3 4 5 6 7 8 9 10; do sh -c "sleep 0.3 &"; done');
    // Done when the sleeps (children of PID 1) are gone and no zombie is left.
    const reaped = await waitFor(async () => {
      const ps = (await c.exec(["ps", "-eo", "ppid=,stat=,comm="])).stdout;
      return !/^\s*\d+\s+Z/m.test(ps) && !/^\s*1\s+\S+\s+sleep$/m.test(ps);
    }, 10_000);
    assert.ok(
      reaped,
      (await c.exec(["ps", "-eo", "pid,ppid,stat,comm"])).stdout,
    );
  });
});

Deno.test("runit restarts a crashing service", async () => {
  await withContainer("crash", ["--network=none", TEST_IMAGE], async (c) => {
    await c.waitUntilUp();
    const add = await c.sh(
      "mkdir -p /etc/service/crasher && " +
        "printf '#!/bin/sh\\necho x >>/run/crasher.count\\nexit 1\\n' >/etc/service/crasher/run && " +
        "chmod +x /etc/service/crasher/run",
    );
    assert.equal(add.code, 0, add.stderr);
    // runsvdir scans every 5 s; runsv restarts a dead service after 1 s.
    const restarted = await waitFor(
      async () => {
        const n =
          (await c.sh("wc -l </run/crasher.count 2>/dev/null || echo 0")).stdout
            .trim();
        return Number(n) >= 3;
      },
      20_000,
      500,
    );
    assert.ok(restarted, (await c.sh("sv status /etc/service/*")).stdout);
  });
});

Deno.test("restart: a `down` file disables a service at the next boot; syslog works again after the restart", async () => {
  await withContainer("restart", ["--network=none", TEST_IMAGE], async (c) => {
    await c.waitUntilUp();
    assert.equal((await c.exec(["touch", "/etc/service/cron/down"])).code, 0);
    const restart = await engine(["restart", "-t", "10", c.name], {
      timeoutMs: 60_000,
    });
    assert.equal(restart.code, 0, restart.stderr);
    await c.waitUntilUp();
    const sv = (await c.sh("sv status /etc/service/cron")).stdout;
    assert.match(sv, /^down: \/etc\/service\/cron: /m);
    assert.ok(
      await loggedToSyslog(c, `after-restart-${crypto.randomUUID()}`),
      "syslog-ng does not work after a restart",
    );
  });
});

Deno.test("the README's example daemon (memcached) runs under runit as its own user, its output going to the container log", async () => {
  await withContainer(
    "memcached",
    ["--network=none", TEST_IMAGE],
    async (c) => {
      await c.waitUntilUp();
      const r = await c.sh(
        "sv status memcached; ps -o user=,comm= -C memcached",
      );
      assert.match(r.stdout, /^run: memcached: \(pid \d+\)/m);
      assert.match(r.stdout, /^memcache\s+memcached$/m);
      // Its stdout and stderr are my_init's stdout: the container's log.
      // (Only its own user may read its fds: the container's root has no
      // CAP_SYS_PTRACE.)
      const log = (await c.exec(["readlink", "/proc/1/fd/1"])).stdout;
      const fds = await c.exec([
        "sh",
        "-c",
        "readlink /proc/$(pidof memcached)/fd/1 /proc/$(pidof memcached)/fd/2",
      ], {
        user: "memcache",
      });
      assert.match(log, /^pipe:|^\/dev\//, log);
      assert.equal(fds.stdout, log + log, fds.stderr);
      const file = (await c.sh("ls /var/log/memcached.log 2>&1")).stdout;
      assert.match(file, /No such file/);
    },
  );
});

Deno.test("the health check: a crash-looping service and a failing check are not ready, and say why", async () => {
  await withContainer(
    "readiness",
    ["--network=none", TEST_IMAGE],
    async (c) => {
      await c.waitUntilUp();
      const add = await c.sh(
        "mkdir -p /etc/service/crasher /etc/service/probe && " +
          "printf '#!/bin/sh\\nexit 1\\n' >/etc/service/crasher/run && " +
          "printf '#!/bin/sh\\nexec sleep 1000\\n' >/etc/service/probe/run && " +
          "printf '#!/bin/sh\\nexit 1\\n' >/etc/service/probe/check && " +
          "chmod +x /etc/service/crasher/run /etc/service/probe/run /etc/service/probe/check",
      );
      assert.equal(add.code, 0, add.stderr);
      // runsvdir scans every 5 s; probe is up a second later, its check fails.
      let status = { code: 0, stdout: "" };
      const failing = await waitFor(
        async () => {
          status = await c.exec(["/sbin/my_init", "--status"]);
          return /^fail: probe: check exited 1$/m.test(status.stdout);
        },
        20_000,
        250,
      );
      assert.ok(failing, status.stdout);
      assert.equal(status.code, 1, status.stdout);
      assert.match(
        status.stdout,
        /^fail: crasher: (down|up 0\.\d s, not yet 1 s)$/m,
      );
      // runit's own view: crasher "run"s for a moment every second.
      assert.match(status.stdout, /^ok: cron: run$/m);

      // Fixed and disabled: healthy again.
      const fix = await c.sh(
        "printf '#!/bin/sh\\nexit 0\\n' >/etc/service/probe/check && " +
          "touch /etc/service/crasher/down && sv down /etc/service/crasher",
      );
      assert.equal(fix.code, 0, fix.stderr);
      await c.waitUntilUp(10_000);
    },
  );
});

Deno.test("one-shot --wait-for-services does not run the command while a service crash-loops", async () => {
  const svc = await tempDir();
  try {
    await Deno.writeTextFile(`${svc.path}/run`, "#!/bin/sh\nexit 1\n", {
      mode: 0o755,
    });
    await Deno.chmod(`${svc.path}/run`, 0o755);
    const r = await runToEnd("readiness-oneshot", [
      "--network=none",
      "-v",
      `${svc.path}:/etc/service/crasher`,
      TEST_IMAGE,
      "/sbin/my_init",
      "--wait-for-services=5",
      "--",
      "echo",
      "MAIN-RAN",
    ]);
    assert.equal(r.code, 1, r.logs);
    assert.doesNotMatch(r.logs, /MAIN-RAN/);
    assert.match(r.logs, /\*\*\* Services not up after 5 s: crasher$/m);
  } finally {
    await svc.cleanup();
  }
});
