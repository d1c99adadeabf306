/**
 * A read-only root (`docker run --read-only`, Kubernetes'
 * `readOnlyRootFilesystem`), with a tmpfs where the README's "Read-only
 * root" says state lives: the image boots, its services come up, syslog
 * reaches the container log, the environment goes to /run with one warning,
 * and a stop is graceful. And on a writable root the boot writes nothing
 * under /etc but phusion's environment paths.
 */
import assert from "node:assert/strict";
import {
  Container,
  engine,
  IMAGE,
  runToEnd,
  SSHD_IMAGE,
  stopTimed,
  tempDir,
  waitFor,
  withContainer,
} from "./_engine.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The README's mounts: /run, /tmp and /var/log. */
const TMPFS = ["--tmpfs", "/run", "--tmpfs", "/tmp", "--tmpfs", "/var/log"];

/** The lines of a container log that speak of a read-only file system. */
const readOnlyLines = (logs: string) =>
  logs.split("\n").filter((l) => /read-only/i.test(l));

/** my_init's one line about the environment it writes under /run. */
const ENV_WARNING = "*** /etc/container_environment, " +
  "/etc/container_environment.sh and /etc/container_environment.json are " +
  "on a read-only file system: writing /run/container_environment, " +
  "/run/container_environment.sh and /run/container_environment.json instead";

/** Sends a logger line and waits for it in the container log. */
async function loggedToContainerLog(c: Container): Promise<boolean> {
  const msg = `readonly-${crypto.randomUUID()}`;
  assert.equal((await c.exec(["logger", "-t", "rotest", msg])).code, 0);
  return await waitFor(
    async () => (await c.logs()).includes(`rotest: ${msg}`),
    5_000,
  );
}

/** Stops `c`; its exit code. Fails unless the stop was quick. */
async function stopGracefully(c: Container): Promise<number> {
  const { code, elapsed, stopStatus } = await stopTimed(c);
  assert.equal(stopStatus.code, 0, stopStatus.stderr);
  assert.ok(elapsed < 8_000, `stop took ${elapsed} ms`);
  return code;
}

Deno.test("read-only root: with tmpfs on /run, /tmp and /var/log the image boots, runs its services, logs, and stops gracefully", async (t) => {
  await withContainer("readonly", [
    "--network=none",
    "--read-only",
    ...TMPFS,
    "-e",
    "FROM_CLI=given with -e",
    IMAGE,
  ], async (c) => {
    await c.waitUntilUp();

    await t.step("the root is read-only", async () => {
      const r = await c.sh("touch /etc/probe");
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Read-only file system/);
    });

    await t.step("every enabled service is up: my_init --status", async () => {
      const r = await c.exec(["/sbin/my_init", "--status"]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^ok: cron: run$/m);
      const ps = (await c.exec(["ps", "-eo", "comm"])).stdout;
      assert.match(ps, /^syslog-ng$/m);
    });

    await t.step(
      "a logger line reaches the container log and /var/log/syslog",
      async () => {
        assert.ok(await loggedToContainerLog(c), await c.logs());
        const syslog = await c.exec(["cat", "/var/log/syslog"]);
        assert.match(syslog.stdout, /rotest: readonly-/);
      },
    );

    await t.step(
      "one warning about the read-only root, and no flood of write errors",
      async () => {
        const logs = await c.logs();
        assert.deepEqual(readOnlyLines(logs), [ENV_WARNING], logs);
        assert.doesNotMatch(logs, /Unable to write/);
        assert.doesNotMatch(logs, /failed with status/);
      },
    );

    await t.step(
      "the environment is in /run, and /etc/container_environment.sh leads there",
      async () => {
        const r = await c.sh(
          '. /etc/container_environment.sh && printf \'%s|%s\\n\' "$FROM_CLI" "$LANG"; ' +
            "cat /run/container_environment/FROM_CLI; echo; " +
            "stat -c '%a %U:%G %n' /run/container_environment /run/container_environment.sh /run/container_environment.json",
        );
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(r.stdout.trim().split("\n"), [
          "given with -e|en_US.UTF-8",
          "given with -e",
          "700 root:root /run/container_environment",
          "640 root:docker_env /run/container_environment.sh",
          "640 root:docker_env /run/container_environment.json",
        ]);
      },
    );

    await t.step(
      "nothing under /etc changed since the container was made",
      async () => {
        // The engine writes /etc/hostname (and hosts, resolv.conf) when it
        // creates the container; the image's files are older.
        const r = await c.sh(
          "find /etc -newer /etc/hostname ! -path /etc/hostname ! -path /etc/hosts ! -path /etc/resolv.conf",
        );
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, "");
      },
    );

    await t.step("a stop is graceful: exit 0", async () => {
      assert.equal(await stopGracefully(c), 0, await c.logs());
      const logs = await c.logs();
      assert.match(logs, /syslog-ng shutting down/);
      assert.doesNotMatch(logs, /Forcing them to exit/);
    });
  });
});

Deno.test("read-only root without /var/log: syslog goes to the container log only, and a startup script sets variables in /run/container_environment", async () => {
  const dir = await tempDir();
  try {
    await Deno.writeTextFile(`${dir.path}/50_set_env`, SET_ENV_SCRIPT);
    await Deno.chmod(`${dir.path}/50_set_env`, 0o755);
    await withContainer("readonly-nolog", [
      "--network=none",
      "--read-only",
      "--tmpfs",
      "/run",
      "--tmpfs",
      "/tmp",
      "-v",
      `${dir.path}/50_set_env:/etc/my_init.d/50_set_env:ro`,
      IMAGE,
    ], async (c) => {
      await c.waitUntilUp();
      assert.ok(await loggedToContainerLog(c), await c.logs());
      assert.notEqual(
        (await c.exec(["test", "-e", "/var/log/user.log"])).code,
        0,
      );

      const logs = await c.logs();
      assert.deepEqual(readOnlyLines(logs), [
        ENV_WARNING,
        "10_syslog-ng.init: warning: /var/log is read-only: syslog goes to " +
        "the container's log only (mount a tmpfs or a volume on /var/log for " +
        "/var/log/syslog and the other files)",
      ], logs);
      assert.doesNotMatch(logs, /Unable to write/);

      // The variable reached the services (cron's environment), the dump
      // in /run, and a shell with a clean environment that sources
      // /etc/container_environment.sh (the image's loader, which finds the
      // dump in /run: it is no longer a link to it).
      const r = await c.sh(
        "tr '\\0' '\\n' </proc/$(cat /run/crond.pid)/environ | grep ^FROM_SCRIPT=; " +
          "grep FROM_SCRIPT /run/container_environment.sh; " +
          `env -i sh -euc '. /etc/container_environment.sh; echo "sourced: $FROM_SCRIPT"'`,
      );
      assert.equal(
        r.stdout,
        "FROM_SCRIPT=set by a script\nexport FROM_SCRIPT='set by a script'\n" +
          "sourced: set by a script\n",
        r.stderr,
      );
      assert.equal(await stopGracefully(c), 0, await c.logs());
    });
  } finally {
    await dir.cleanup();
  }
});

/** The README's startup script for either root ("Read-only root"). */
const SET_ENV_SCRIPT = "#!/bin/sh\n" +
  'printf %s "set by a script" >/run/container_environment/FROM_SCRIPT\n';

/**
 * The README's run script for either root, under `env -i` so that what it
 * prints comes from the directory, not from the environment runsv gave it.
 */
const ENV_PROBE_RUN = "#!/bin/sh\n" +
  "exec env -i chpst -e /run/container_environment sh -c " +
  `'echo "envprobe: $FROM_SCRIPT|$FROM_CLI"; exec sleep 1000'\n`;

Deno.test("the README's recipe for either root: a startup script writes /run/container_environment, a run script reads it with chpst -e, on a writable and on a read-only root", async () => {
  const dir = await tempDir();
  try {
    const d = dir.path;
    await Deno.writeTextFile(`${d}/50_set_env`, SET_ENV_SCRIPT);
    await Deno.chmod(`${d}/50_set_env`, 0o755);
    await Deno.mkdir(`${d}/envprobe`);
    await Deno.chmod(`${d}/envprobe`, 0o755);
    await Deno.writeTextFile(`${d}/envprobe/run`, ENV_PROBE_RUN);
    await Deno.chmod(`${d}/envprobe/run`, 0o755);
    // As the README says a service needs on a read-only root.
    await Deno.symlink(
      "/run/runit/supervise/envprobe",
      `${d}/envprobe/supervise`,
    );
    const mounts = [
      "-v",
      `${d}/50_set_env:/etc/my_init.d/50_set_env:ro`,
      "-v",
      `${d}/envprobe:/etc/service/envprobe:ro`,
      "-e",
      "FROM_CLI=given with -e",
    ];
    const roots = {
      writable: [],
      "read-only": ["--read-only", "--tmpfs", "/run", "--tmpfs", "/tmp"],
    };
    await Promise.all(
      Object.entries(roots).map(([root, args]) =>
        withContainer(`recipe-${root}`, [
          "--network=none",
          ...args,
          ...mounts,
          IMAGE,
        ], async (c) => {
          await c.waitUntilUp();
          const logs = await c.logs();
          // Once: a run script that fails is restarted every second.
          assert.deepEqual(
            logs.split("\n").filter((l) => l.includes("envprobe")),
            ["envprobe: set by a script|given with -e"],
            `${root} root:\n${logs}`,
          );
          // The dump where my_init writes it on each root (phusion's path
          // on a writable one), and what a shell with a clean environment
          // gets from `. /etc/container_environment.sh` on both.
          const dump = root === "writable"
            ? "/etc/container_environment.sh"
            : "/run/container_environment.sh";
          const r = await c.sh(
            `grep FROM_SCRIPT ${dump}; ` +
              `env -i sh -euc '. /etc/container_environment.sh; echo "sourced: $FROM_SCRIPT"'; ` +
              `env -i bash -lc 'echo "login: $FROM_SCRIPT"'`,
          );
          assert.equal(
            r.stdout,
            "export FROM_SCRIPT='set by a script'\nsourced: set by a script\n" +
              "login: set by a script\n",
            `${root} root: ${r.stderr}`,
          );
        })
      ),
    );
  } finally {
    await dir.cleanup();
  }
});

Deno.test("read-only root with a read-only /run: the boot stops and says why", async () => {
  const r = await runToEnd("readonly-norun", [
    "--network=none",
    "--read-only",
    "--tmpfs",
    "/run:ro",
    "--tmpfs",
    "/tmp",
    IMAGE,
  ]);
  assert.equal(r.code, 1, r.logs);
  assert.match(
    r.logs,
    /^\*\*\* .* are on a read-only file system: unable to write \/run\/container_environment, .* either \(Read-only file system/m,
  );
  assert.match(
    r.logs,
    /^00_runit_supervise.sh: fatal: \/run is read-only, .*: mount a tmpfs on \/run/m,
  );
  assert.doesNotMatch(r.logs, /Unable to write/);
});

Deno.test("read-only root with sshd enabled: host keys in /run/ssh_host_keys, ssh logs in", async () => {
  const dir = await tempDir();
  try {
    const key = `${dir.path}/authorized_keys`;
    await Deno.copyFile(
      `${ROOT}image/services/sshd/keys/insecure_key.pub`,
      key,
    );
    await Deno.chmod(key, 0o644);
    await withContainer("readonly-sshd", [
      "--network=none",
      "--read-only",
      ...TMPFS,
      "-v",
      `${key}:/root/.ssh/authorized_keys:ro`,
      SSHD_IMAGE,
    ], async (c) => {
      await c.waitUntilUp();
      const keys = await c.sh(
        "ls /run/ssh_host_keys; ls /etc/ssh/ssh_host_* 2>&1",
      );
      assert.match(keys.stdout, /^ssh_host_ed25519_key$/m);
      assert.match(keys.stdout, /No such file/);
      const ssh = "cp /etc/insecure_key /tmp/key && chmod 600 /tmp/key && " +
        "ssh -i /tmp/key -o BatchMode=yes -o StrictHostKeyChecking=no " +
        "-o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 -o LogLevel=ERROR " +
        "root@127.0.0.1 'echo ssh-ok; . /etc/container_environment.sh; echo \"$LANG\"'";
      let r = await c.sh(ssh);
      for (let i = 0; i < 20 && /Connection refused/.test(r.stderr); i++) {
        await new Promise((ok) => setTimeout(ok, 250));
        r = await c.sh(ssh);
      }
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "ssh-ok\nen_US.UTF-8\n");
      assert.equal(await stopGracefully(c), 0, await c.logs());
    });
  } finally {
    await dir.cleanup();
  }
});

Deno.test("writable root: the boot changes nothing under /etc or /var/lib but phusion's environment paths", async () => {
  await withContainer("writable-diff", ["--network=none", IMAGE], async (c) => {
    await c.waitUntilUp();
    assert.ok(await loggedToContainerLog(c), await c.logs());
    const diff = await engine(["diff", c.name]);
    assert.equal(diff.code, 0, diff.stderr);
    const changed = diff.stdout.split("\n")
      .map((l) => l.replace(/^[ACD] /, "").trim())
      .filter((p) => /^\/(etc|var\/lib)\//.test(p))
      .filter((p) =>
        !/^\/etc\/container_environment(\/.*|\.sh|\.json)?$/.test(p)
      );
    assert.deepEqual(changed, [], diff.stdout);
    // The dumps are files now, as phusion's.
    const r = await c.sh(
      "stat -c '%F' /etc/container_environment.sh /etc/container_environment.json",
    );
    assert.equal(r.stdout, "regular file\nregular file\n");
  });
});
