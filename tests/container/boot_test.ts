/**
 * A container of the image as users start it: default services, syslog,
 * health, and the tools inside.
 */
import assert from "node:assert/strict";
import {
  ENGINE,
  engine,
  IMAGE,
  loggedToSyslog,
  runToEnd,
  waitFor,
  withContainer,
} from "./_engine.ts";
import { baseOf, baseSettings } from "./_base.ts";

Deno.test("boot: syslog-ng and cron run, sshd is down, logger reaches /var/log/syslog and the container log", async (t) => {
  await withContainer("boot", ["--network=none", IMAGE], async (c) => {
    await c.waitUntilUp();

    await t.step(
      "runit supervises only our services: cron up, sshd down",
      async () => {
        const r = await c.sh("sv status /etc/service/*");
        assert.match(r.stdout, /^run: \/etc\/service\/cron: \(pid \d+\)/m);
        assert.match(r.stdout, /^down: \/etc\/service\/sshd: /m);
        const names = (await c.sh("ls /etc/service")).stdout.split(/\s+/)
          .filter(Boolean);
        assert.deepEqual(names.sort(), ["cron", "sshd"]);
      },
    );

    await t.step(
      "syslog-ng (started by my_init.d) and cron run; no sshd",
      async () => {
        const ps = (await c.exec(["ps", "-eo", "pid,ppid,comm"])).stdout;
        assert.match(ps, /\ssyslog-ng\n/);
        assert.match(ps, /\scron\n/);
        assert.match(ps, /\srunsvdir\n/);
        assert.doesNotMatch(ps, /\ssshd\n/);
      },
    );

    await t.step("syslog-ng listens on /dev/log only", async () => {
      const r = await c.sh("test -S /dev/log && echo socket");
      assert.equal(r.stdout.trim(), "socket");
    });

    await t.step(
      "logger lines land in /var/log/syslog and in the container log",
      async () => {
        const msg = `hello-from-${crypto.randomUUID()}`;
        assert.equal((await c.exec(["logger", "-t", "boottest", msg])).code, 0);
        let syslog = "";
        for (let i = 0; i < 50 && !syslog.includes(msg); i++) {
          await new Promise((r) => setTimeout(r, 100));
          syslog = (await c.exec(["cat", "/var/log/syslog"])).stdout;
        }
        assert.match(syslog, new RegExp(`boottest: ${msg}`));
        let logs = "";
        for (let i = 0; i < 50 && !logs.includes(msg); i++) {
          logs = await c.logs();
          if (!logs.includes(msg)) await new Promise((r) => setTimeout(r, 100));
        }
        assert.match(logs, new RegExp(`boottest: ${msg}`));
      },
    );

    await t.step(
      "the README's System logging example prints what it shows, with the engine's CLI",
      async () => {
        assert.equal(
          (await engine(["exec", c.name, "logger", "-t", "myapp", "hello"]))
            .code,
          0,
        );
        // The README's pipelines, run as a user types them: what the
        // terminal shows, stdout and stderr.
        const shell = (line: string) =>
          new Deno.Command("sh", {
            args: ["-c", `exec 2>&1; ${line}`],
            env: { ENGINE, NAME: c.name },
            stdout: "piped",
            stderr: "piped",
          }).output().then((o) => new TextDecoder().decode(o.stdout));
        let syslog = "";
        let logs = "";
        await waitFor(async () => {
          syslog = await shell(
            '"$ENGINE" exec "$NAME" tail -n1 /var/log/syslog',
          );
          logs = await shell('"$ENGINE" logs "$NAME" 2>&1 | tail -n1');
          return syslog.endsWith(" myapp: hello\n") &&
            logs.endsWith(" myapp: hello\n");
        }, 5_000);
        assert.match(syslog, /^\S.* myapp: hello\n$/);
        assert.match(logs, /^\S.* myapp: hello\n$/);
      },
    );

    await t.step(
      "my_init --status is 0 while every enabled service is up, 1 when one is down",
      async () => {
        assert.equal((await c.exec(["/sbin/my_init", "--status"])).code, 0);
        assert.equal((await c.exec(["sv", "down", "cron"])).code, 0);
        assert.notEqual((await c.exec(["/sbin/my_init", "--status"])).code, 0);
        assert.equal((await c.exec(["sv", "up", "cron"])).code, 0);
        await c.waitUntilUp(10_000);
      },
    );

    await t.step(
      "the image declares the HEALTHCHECK and it turns healthy",
      async () => {
        const hc = await c.inspect("{{json .Config.Healthcheck}}");
        assert.match(hc, /\/sbin\/my_init/);
        assert.match(hc, /--status/);
        if (ENGINE === "podman") {
          // No systemd timers here: run the check by hand, as podman's timer would.
          const run = await engine(["healthcheck", "run", c.name]);
          assert.equal(run.code, 0, run.stdout + run.stderr);
          assert.equal(await c.inspect("{{.State.Health.Status}}"), "healthy");
        } else {
          // The docker CLI reads podman's status, which needs the same timers;
          // run the declared command the way the engine would.
          assert.equal((await c.exec(["/sbin/my_init", "--status"])).code, 0);
        }
      },
    );

    await t.step(
      "environment: LANG en_US.UTF-8 and a working locale, DEBIAN_FRONTEND=teletype",
      async () => {
        const r = await c.sh('echo "$LANG $DEBIAN_FRONTEND"; locale -a');
        assert.match(r.stdout, /^en_US\.UTF-8 teletype$/m);
        assert.match(r.stdout, /^en_US\.utf8$/m);
        assert.doesNotMatch(r.stderr, /Cannot set LC_/);
      },
    );

    await t.step(
      "the tools are at their paths; /sbin stays a link on merged-/usr bases",
      async () => {
        const r = await c.sh(
          "for p in /sbin/my_init /sbin/setuser /sbin/install_clean /usr/sbin/install_clean /usr/sbin/enable_insecure_key; do test -x $p || echo missing $p; done; " +
            "test -L /sbin && echo sbin-link; ls /usr/lib/baseimage-deno; command -v python3 || echo no-python; " +
            "find / -xdev -name deno -type f 2>/dev/null | wc -l",
        );
        assert.doesNotMatch(r.stdout, /missing/);
        assert.match(r.stdout, /sbin-link/);
        assert.match(r.stdout, /no-python/);
        assert.equal(
          r.stdout.trim().split("\n").pop(),
          "1",
          "exactly one Deno runtime",
        );
      },
    );

    await t.step(
      "utilities: curl, less, vim, psmisc, gpg-agent, dirmngr",
      async () => {
        const r = await c.sh(
          "for t in curl less vim pstree gpg-agent dirmngr; do command -v $t >/dev/null || echo missing $t; done",
        );
        assert.equal(r.stdout, "");
      },
    );

    await t.step("setuser nobody id: the README's output", async () => {
      const r = await c.exec(["setuser", "nobody", "id"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout,
        "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n",
      );
    });

    await t.step("setuser sets HOME, USER and LOGNAME", async () => {
      const r = await c.exec([
        "setuser",
        "nobody",
        "sh",
        "-c",
        'echo "$HOME $USER $LOGNAME"',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "/nonexistent nobody nobody\n");
    });

    await t.step(
      "members of docker_env can read container_environment.sh, others cannot",
      async () => {
        const add = await c.sh(
          "useradd -M -G docker_env envreader && useradd -M other",
        );
        assert.equal(add.code, 0, add.stderr);
        const ok = await c.exec([
          "setuser",
          "envreader",
          "cat",
          "/etc/container_environment.sh",
        ]);
        assert.equal(ok.code, 0, ok.stderr);
        assert.match(ok.stdout, /^export LANG=/m);
        const denied = await c.exec([
          "setuser",
          "other",
          "cat",
          "/etc/container_environment.sh",
        ]);
        assert.notEqual(denied.code, 0);
      },
    );

    await t.step(
      "container_environment: directory 0700, dumps 0640 root:docker_env; /run/container_environment leads to the directory",
      async () => {
        const r = await c.sh(
          "stat -c '%a %U:%G %n' /etc/container_environment /etc/container_environment.sh /etc/container_environment.json /run/container_environment.pam_env; getent group docker_env; readlink /run/container_environment",
        );
        assert.match(
          r.stdout,
          /^640 root:docker_env \/run\/container_environment\.pam_env$/m,
        );
        assert.match(r.stdout, /^\/etc\/container_environment$/m);
        assert.match(r.stdout, /^700 root:root \/etc\/container_environment$/m);
        assert.match(
          r.stdout,
          /^640 root:docker_env \/etc\/container_environment\.sh$/m,
        );
        assert.match(
          r.stdout,
          /^640 root:docker_env \/etc\/container_environment\.json$/m,
        );
        assert.match(r.stdout, /^docker_env:x:8377:/m);
      },
    );

    await t.step(
      "the image is clean: no apt lists or caches, no build files, no SSH host keys",
      async () => {
        const r = await c.sh(
          'echo "LISTS=[$(ls -A /var/lib/apt/lists)]"; ' +
            "ls -d /var/cache/apt/archives/*.deb /bd_build /etc/ssh/ssh_host_* " +
            "/etc/dpkg/dpkg.cfg.d/02apt-speedup 2>/dev/null; " +
            "grep -l 'baseimage-deno build only' /usr/sbin/policy-rc.d 2>/dev/null; true",
        );
        assert.equal(r.stdout, "LISTS=[]\n");
      },
    );

    await t.step(
      "the base's policy-rc.d, dpkg and docker-* apt settings and uid 1000 stay as the base has them",
      async () => {
        const base = await baseOf(IMAGE);
        const [ours, theirs] = await Promise.all([
          baseSettings(IMAGE),
          baseSettings(base),
        ]);
        assert.equal(ours, theirs, `${IMAGE} against its base ${base}`);
      },
    );

    await t.step(
      "apt fixes: initctl and ischroot diverted to true, INITRD=no",
      async () => {
        const r = await c.sh(
          "dpkg-divert --list | sort; ischroot && echo ischroot-true; cat /etc/container_environment/INITRD",
        );
        assert.match(
          r.stdout,
          /local diversion of \/sbin\/initctl to \/sbin\/initctl.distrib/,
        );
        assert.match(
          r.stdout,
          /local diversion of \/usr\/bin\/ischroot to \/usr\/bin\/ischroot.distrib/,
        );
        assert.match(r.stdout, /^ischroot-true$/m);
        assert.match(r.stdout, /^no$/m);
      },
    );

    await t.step(
      "cron: pam_loginuid disabled, noisy distro jobs removed",
      async () => {
        const r = await c.sh(
          "grep pam_loginuid /etc/pam.d/cron; ls /etc/cron.daily /etc/cron.weekly; stat -c %a /etc/crontab",
        );
        assert.doesNotMatch(r.stdout, /^\s*session\s+required\s+pam_loginuid/m);
        assert.doesNotMatch(r.stdout, /^(dpkg|standard|password|fstrim)$/m);
        assert.match(r.stdout, /^logrotate$/m);
        assert.match(r.stdout, /^600$/m);
      },
    );

    await t.step(
      "logrotate rotates /var/log/syslog and syslog-ng reopens it",
      async () => {
        const rot = await c.exec([
          "logrotate",
          "-f",
          "/etc/logrotate.d/syslog-ng",
        ]);
        assert.equal(rot.code, 0, rot.stderr);
        assert.equal(
          (await c.exec(["test", "-e", "/var/log/syslog.1"])).code,
          0,
        );
        assert.ok(
          await loggedToSyslog(c, `after-rotate-${crypto.randomUUID()}`),
          "the message did not reach the new /var/log/syslog",
        );
      },
    );
  });
});

Deno.test("boot: a non-root --user boots in non-root mode, says so first, and runs the command", async () => {
  const r = await runToEnd("user1000", [
    "--network=none",
    "--user",
    "1000",
    IMAGE,
    "/sbin/my_init",
    "--",
    "id",
    "-u",
  ]);
  // README, "Running without root".
  assert.equal(r.code, 0, r.logs);
  assert.doesNotMatch(r.logs, /Uncaught|panicked|stack backtrace/i);
  const first = r.logs.split("\n").find((l) => l.startsWith("*** ")) ?? "";
  assert.match(first, /^\*\*\* Non-root mode: running as uid 1000 /, r.logs);
  assert.match(r.logs, /^1000$/m, r.logs);
});

Deno.test("boot: with a terminal (-t), syslog still reaches the container log", async () => {
  await withContainer("tty", ["--network=none", "-t", IMAGE], async (c) => {
    await c.waitUntilUp();
    const conf = await c.exec(["cat", "/etc/syslog-ng/d_stdout.conf"]);
    assert.match(conf.stdout, /file\("\/dev\/stdout"\)/);
    const msg = `tty-${crypto.randomUUID()}`;
    await c.exec(["logger", msg]);
    assert.ok(await waitFor(async () => (await c.logs()).includes(msg), 5_000));
  });
});
