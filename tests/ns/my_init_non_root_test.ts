/**
 * Non-root mode: my_init started as uid 100123, gid 0 (no passwd entry, as
 * OpenShift and `docker run --user 100123:0` start it), with no capability
 * and no_new_privs (`--cap-drop ALL --security-opt no-new-privileges`), as
 * PID 1 of a sandbox whose /run is a root-owned tmpfs (as `--tmpfs /run`
 * gives): the boot line, startup and shutdown scripts, runit, readiness,
 * the environment's files, signals, reaping, kill-all and exit codes, and
 * setuser and install_clean refusing what needs root; the image's
 * /etc/container_environment imported when readable; the order of the
 * state directories (another user's is passed over; none writable).
 *
 * @module
 */

import assert from "node:assert/strict";
import { DIST, MY_INIT, script } from "./_sandbox.ts";
import { ignore, logLines, until, withSandbox } from "./_my_init.ts";

const UID = 100123;

/**
 * `argv` as uid 100123, gid 0, no groups, no capabilities (none inherited,
 * none in the bounding set) and no_new_privs. The sandbox's root comes out
 * mode 0700 (the fixture's temporary directory): opened first, as root.
 */
function asUser(argv: string[]): string[] {
  return [
    "/bin/sh",
    "-c",
    'chmod 0755 / && exec "$@"',
    "sh",
    "setpriv",
    `--reuid=${UID}`,
    "--regid=0",
    "--clear-groups",
    "--inh-caps=-all",
    "--bounding-set=-all",
    "--no-new-privs",
    ...argv,
  ];
}

/** Lines of a /shared file. */
const lines = (text: string) => text.split("\n").filter((l) => l !== "");

/**
 * A service that records each start (uid, FROM_CLI), crashes on its first
 * run, and records the TERM that stops it.
 */
const SERVICE = script(`trap 'echo "term $(id -u)" >> /shared/svc; exit 0' TERM
echo "up $(id -u) $FROM_CLI" >> /shared/svc
if [ ! -e /tmp/svc-crashed ]; then : > /tmp/svc-crashed; exit 1; fi
while :; do sleep 0.1; done`);

Deno.test({
  name:
    "my_init as a non-root uid boots in non-root mode: startup script, service up as that uid and restarted, stopped by TERM with exit 0",
  ignore,
  async fn() {
    const { out, result } = await withSandbox({
      command: asUser([MY_INIT]),
      env: { FROM_CLI: "from-cli" },
      files: {
        "/etc/my_init.d/10_startup": script(
          'echo "startup $(id -u):$(id -g)" >> /shared/order',
        ),
        "/etc/my_init.pre_shutdown.d/10_pre": script(
          'echo "pre $(id -u)" >> /shared/order',
        ),
        "/etc/my_init.post_shutdown.d/10_post": script(
          'echo "post $(id -u)" >> /shared/order',
        ),
        "/etc/service/svc/run": SERVICE,
      },
    }, async (box, done) => {
      await until(
        "the service restarted after its crash",
        async () => lines(await box.read("svc")).length >= 2,
        15000,
        () => box.read("svc"),
      );
      await box.kill("SIGTERM");
      await done;
      return { svc: await box.read("svc"), order: await box.read("order") };
    });
    assert.equal(out.code, 0, out.stderr);
    const log = logLines(out.stderr);
    assert.equal(
      log[0],
      `Non-root mode: running as uid ${UID} (no passwd entry), gid 0; ` +
        "state in /tmp; off: switching users (setuser), apt (install_clean), " +
        "signalling other users' processes, services that need root, " +
        "importing /etc/container_environment (root's)",
      out.stderr,
    );
    assert.equal(log.filter((l) => l.startsWith("Non-root")).length, 1);
    assert.deepEqual(
      lines(result.svc),
      [`up ${UID} from-cli`, `up ${UID} from-cli`, `term ${UID}`],
    );
    assert.deepEqual(lines(result.order), [
      `startup ${UID}:0`,
      `pre ${UID}`,
      `post ${UID}`,
    ]);
  },
});

Deno.test({
  name:
    "my_init as a non-root uid: --status 0, sv works, the environment in /tmp (0700/0600), HOME and USER, setuser and install_clean",
  ignore,
  async fn() {
    const probe = [
      `${MY_INIT} --status > /shared/status; echo "status $?" >> /shared/status`,
      'sv status svc > /shared/sv 2>&1; echo "SVDIR $SVDIR" >> /shared/sv',
      "stat -c '%a %u %n' /tmp/container_environment /tmp/container_environment/FROM_CLI /tmp/container_environment.sh /tmp/container_environment.json > /shared/env",
      "grep FROM_CLI /tmp/container_environment.sh >> /shared/env",
      'echo "HOME=$HOME USER=$USER" > /shared/user',
      // In place: the same pid before and after.
      `sh -c 'echo "pid $$"; exec ${DIST}/setuser ${UID} sh -c "echo \\"pid \\$\\$\\"; echo \\"self \\$(id -u) \\$USER \\$HOME\\""' > /shared/setuser 2>&1`,
      `${DIST}/setuser root id >> /shared/setuser 2>&1; echo "status $?" >> /shared/setuser`,
      `${DIST}/install_clean hello > /shared/install_clean 2>&1; echo "status $?" >> /shared/install_clean`,
      "exit 7",
    ].join("\n");
    const { out, result } = await withSandbox({
      command: asUser([
        MY_INIT,
        "--wait-for-services=15",
        "--",
        "sh",
        "-c",
        probe,
      ]),
      env: { FROM_CLI: "from-cli" },
      files: {
        "/etc/service/svc/run": script("exec sleep 1000"),
      },
    }, async (box, done) => {
      await done;
      const names = ["status", "sv", "env", "user", "setuser", "install_clean"];
      return Object.fromEntries(
        await Promise.all(names.map(async (n) => [n, await box.read(n)])),
      );
    });
    // The main command's exit code is the container's.
    assert.equal(out.code, 7, out.stderr);
    assert.equal(result.status, "ok: svc: run\nstatus 0\n", out.stderr);
    assert.match(result.sv, /^run: svc: \(pid \d+\) \d+s$/m);
    assert.match(result.sv, /^SVDIR \/tmp\/runit\/service$/m);
    assert.equal(
      result.env,
      `700 ${UID} /tmp/container_environment\n` +
        `600 ${UID} /tmp/container_environment/FROM_CLI\n` +
        `600 ${UID} /tmp/container_environment.sh\n` +
        `600 ${UID} /tmp/container_environment.json\n` +
        "export FROM_CLI='from-cli'\n",
    );
    assert.equal(result.user, `HOME=/ USER=${UID}\n`);
    const [before, after, ...rest] = result.setuser.split("\n");
    assert.match(before, /^pid \d+$/, result.setuser);
    assert.equal(after, before, result.setuser);
    assert.equal(
      rest.join("\n"),
      `self ${UID} ${UID} /\n` +
        `setuser: fatal: non-root mode cannot switch users: running as uid ${UID}, asked for "root"\n` +
        "status 1\n",
    );
    assert.equal(
      result.install_clean,
      `install_clean: fatal: apt needs root, and this runs as uid ${UID}: install packages in the Dockerfile, before USER\n` +
        "status 1\n",
    );
  },
});

/** What my_init says instead of running enable_insecure_key as non-root. */
const INSECURE_KEY_OFF =
  "Insecure SSH key: off in non-root mode: it is for root's login, and only root can write /root/.ssh and run sshd";

Deno.test({
  name:
    "my_init --enable-insecure-key as a non-root uid says in one line that the key is off, and boots on",
  ignore,
  async fn() {
    const { out, result } = await withSandbox({
      command: asUser([
        MY_INIT,
        "--enable-insecure-key",
        "--skip-runit",
        "--",
        "sh",
        "-c",
        "echo main > /shared/main",
      ]),
      files: {
        "/etc/my_init.d/10_startup": script("echo startup > /shared/startup"),
      },
    }, async (box, done) => {
      await done;
      return {
        startup: await box.read("startup"),
        main: await box.read("main"),
      };
    });
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(result, { startup: "startup\n", main: "main\n" });
    const log = logLines(out.stderr);
    assert.equal(
      log.filter((l) => /insecure/i.test(l)).join("\n"),
      INSECURE_KEY_OFF,
      out.stderr,
    );
  },
});

Deno.test({
  name:
    "my_init as a non-root uid reaps orphans, kills its leftover processes at exit, and passes on 128+N",
  ignore,
  async fn() {
    const main = [
      // A leftover that stops gracefully on the kill-all's TERM.
      `sh -c 'trap "echo left-term >> /shared/left; exit 0" TERM; while :; do sleep 0.1; done' &`,
      // An orphan for PID 1 to reap.
      "(sleep 0.1 &)",
      "sleep 0.5",
      "kill -USR1 $$",
    ].join("\n");
    const { out, result } = await withSandbox({
      command: asUser([MY_INIT, "-v", "--skip-runit", "--", "sh", "-c", main]),
    }, async (box, done) => {
      await done;
      return await box.read("left");
    });
    assert.equal(out.code, 128 + 10, out.stderr);
    assert.equal(result, "left-term\n", out.stderr);
    const log = logLines(out.stderr);
    assert.ok(log.some((l) => /^Reaped orphan PID \d+/.test(l)), out.stderr);
    assert.ok(log.includes("Killing all processes..."), out.stderr);
  },
});

Deno.test({
  name:
    "my_init as a non-root uid imports /etc/container_environment when it can read it",
  ignore,
  async fn() {
    const { out, result } = await withSandbox({
      command: [
        "/bin/sh",
        "-c",
        // The image's directory made readable, as the README says to.
        'chmod 0755 /etc/container_environment && exec "$@"',
        "sh",
        ...asUser([
          MY_INIT,
          "--skip-runit",
          "--",
          "sh",
          "-c",
          'echo "$FROM_DIR" > /shared/from_dir',
        ]),
      ],
      files: {
        "/etc/container_environment/FROM_DIR": "from-dir",
      },
    }, async (box, done) => {
      await done;
      return await box.read("from_dir");
    });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(result, "from-dir\n");
    assert.doesNotMatch(logLines(out.stderr)[0], /importing/, out.stderr);
  },
});

Deno.test({
  name:
    "my_init as a non-root uid with nowhere to write says so, runs a --skip-runit command, and exits 1 without one",
  ignore,
  async fn() {
    // /run is root's already; /tmp and /dev/shm too, here (this sandbox's
    // own overlay and mounts). /tmp by its mode, not a mount over it: the
    // repository under test may live below /tmp (CI's clone did).
    const closed = (argv: string[]) => [
      "/bin/sh",
      "-c",
      "chmod 0755 /tmp && " +
      'mount -t tmpfs -o mode=0755 tmpfs /dev/shm && exec "$@"',
      "sh",
      ...asUser(argv),
    ];
    const line =
      `Non-root mode: running as uid ${UID} (no passwd entry), gid 0; ` +
      "no state directory (none of /run, /tmp, /dev/shm is writable); ";
    const oneShot = await withSandbox({
      command: closed([MY_INIT, "--skip-runit", "--", "sh", "-c", "exit 3"]),
    }, async () => {});
    assert.equal(oneShot.out.code, 3, oneShot.out.stderr);
    assert.ok(
      logLines(oneShot.out.stderr)[0].startsWith(line),
      oneShot.out.stderr,
    );
    const daemon = await withSandbox({
      command: closed([MY_INIT]),
      files: { "/etc/service/svc/run": script("exec sleep 1000") },
    }, async () => {});
    assert.equal(daemon.out.code, 1, daemon.out.stderr);
    assert.ok(
      logLines(daemon.out.stderr).includes(
        `Cannot start runit: uid ${UID} can write none of the directories where runit keeps its state`,
      ),
      daemon.out.stderr,
    );
  },
});

Deno.test({
  name:
    "my_init as a non-root uid passes over a state directory of another user in /tmp and takes /dev/shm",
  ignore,
  async fn() {
    const { out, result } = await withSandbox({
      command: [
        "/bin/sh",
        "-c",
        // /dev/shm as every engine has it, in this sandbox only; /tmp/runit
        // made first, by root, as another user could in a shared /tmp.
        "mount -t tmpfs -o mode=1777 tmpfs /dev/shm && mkdir -p /tmp/runit && " +
        'exec "$@"',
        "sh",
        ...asUser([
          MY_INIT,
          "--wait-for-services=10",
          "--",
          "sh",
          "-c",
          "echo \"$SVDIR\" > /shared/svdir; stat -c '%u %n' /dev/shm/container_environment.sh >> /shared/svdir",
        ]),
      ],
      files: { "/etc/service/svc/run": script("exec sleep 1000") },
    }, async (box, done) => {
      await done;
      return await box.read("svdir");
    });
    assert.equal(out.code, 0, out.stderr);
    assert.match(logLines(out.stderr)[0], /; state in \/dev\/shm; /);
    assert.equal(
      result,
      `/dev/shm/runit/service\n${UID} /dev/shm/container_environment.sh\n`,
    );
  },
});
