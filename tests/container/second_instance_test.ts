/**
 * `docker exec app /sbin/my_init -- cmd`, an easy mistake: the second
 * my_init must refuse with the message that says what to run instead, exit
 * 2, and leave the first one's container as it was (no startup script run
 * again, services up, syslog working, no environment written).
 */
import assert from "node:assert/strict";
import { IMAGE, loggedToSyslog, withContainer, withDemo } from "./_engine.ts";
import { secondInstanceMessage } from "../../init/instance_check.ts";

Deno.test("second instance: my_init run with exec in a running container refuses, exit 2, and changes nothing", async () => {
  await withDemo("second", async ({ c, events }) => {
    const before = await events();
    const root = await c.exec(["/sbin/my_init", "--", "true"]);
    assert.equal(root.code, 2, root.stderr);
    assert.equal(
      root.stderr.trim(),
      `*** ${secondInstanceMessage({ pid: 1, via: "pid1" }, ["true"])}`,
    );
    // Daemon mode, with a variable of its own, and as a user that is not root.
    const daemon = await c.sh("SECOND=1 exec /sbin/my_init");
    assert.equal(daemon.code, 2, daemon.stderr);
    assert.match(
      daemon.stderr,
      /^\*\*\* my_init is already running in this container as PID 1: /,
    );
    const user = await c.exec(["/sbin/my_init", "--", "true"], {
      user: "nobody",
    });
    assert.equal(user.code, 2, user.stderr);
    assert.match(user.stderr, /already running/);

    assert.deepEqual(await events(), before, "startup scripts ran again");
    const status = await c.exec(["/sbin/my_init", "--status"]);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.ok(await loggedToSyslog(c, "second-instance-probe"), "syslog broke");
    const env = await c.sh(
      "ls /etc/container_environment /run/container_environment 2>/dev/null",
    );
    assert.doesNotMatch(env.stdout, /SECOND/);
  });
});

Deno.test("second instance: under run --init (my_init not PID 1) the marker makes the second refuse too", async () => {
  await withContainer(
    "second-init",
    ["--network=none", "--init", IMAGE],
    async (c) => {
      await c.waitUntilUp();
      const marker = (await c.exec(["cat", "/run/my_init.pid"])).stdout.trim();
      assert.match(marker, /^[0-9]+$/, "no marker");
      assert.notEqual(marker, "1");
      const r = await c.exec(["/sbin/my_init", "--", "true"]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(
        r.stderr.trim(),
        `*** ${
          secondInstanceMessage({ pid: Number(marker), via: "marker" }, [
            "true",
          ])
        }`,
      );
      const status = await c.exec(["/sbin/my_init", "--status"]);
      assert.equal(status.code, 0, status.stdout + status.stderr);
    },
  );
});
