/**
 * sshd: off by default; enabled as the README says, with the insecure key,
 * `ssh root@127.0.0.1` from inside the container logs in.
 */
import assert from "node:assert/strict";
import {
  Container,
  IMAGE,
  type Result,
  SSHD_IMAGE,
  withContainer,
} from "./_engine.ts";

const SSH = "cp /etc/insecure_key /tmp/key && chmod 600 /tmp/key && " +
  "ssh -i /tmp/key -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null " +
  "-o ConnectTimeout=5 -o LogLevel=ERROR root@127.0.0.1";

/** Runs `ssh ... root@127.0.0.1 COMMAND` in `c`, retrying for 5 s while sshd does not listen yet. */
async function sshWhenListening(
  c: Container,
  command: string,
): Promise<Result> {
  let r = await c.sh(`${SSH} ${command}`);
  for (
    let i = 0;
    i < 20 && r.code === 255 && /Connection refused/.test(r.stderr);
    i++
  ) {
    await new Promise((ok) => setTimeout(ok, 250));
    r = await c.sh(`${SSH} ${command}`);
  }
  return r;
}

Deno.test("sshd: enabled image + --enable-insecure-key: ssh root@127.0.0.1 works, passwords do not", async (t) => {
  await withContainer(
    "sshd",
    ["--network=none", SSHD_IMAGE, "/sbin/my_init", "--enable-insecure-key"],
    async (c) => {
      await c.waitUntilUp();

      await t.step(
        "host keys were made at boot",
        async () => {
          const r = await c.sh("ls /etc/ssh/ssh_host_*_key");
          assert.match(r.stdout, /ssh_host_ed25519_key/);
        },
      );

      await t.step(
        "ssh with the insecure key runs a command as root",
        async () => {
          const r = await sshWhenListening(c, "'echo ssh-ok; id -un'");
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout, "ssh-ok\nroot\n");
        },
      );

      await t.step("password logins are refused", async () => {
        const r = await c.sh(
          "ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null " +
            "-o PreferredAuthentications=password -o PubkeyAuthentication=no root@127.0.0.1 true",
        );
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /Permission denied/);
      });

      await t.step("sshd logs to syslog", async () => {
        const r = await c.exec(["cat", "/var/log/auth.log"]);
        assert.match(r.stdout, /sshd\[\d+\]: Accepted publickey for root/);
      });
    },
  );
});

Deno.test("sshd: enable_insecure_key at runtime and `sv up sshd` in the default image", async () => {
  await withContainer("sshd-runtime", ["--network=none", IMAGE], async (c) => {
    await c.waitUntilUp();
    // The image has no host keys, and a disabled sshd gets none at boot.
    assert.notEqual((await c.sh("ls /etc/ssh/ssh_host_*")).code, 0);
    const en = await c.sh(
      "/usr/sbin/enable_insecure_key && rm -f /etc/service/sshd/down && sv up sshd",
    );
    assert.equal(en.code, 0, en.stderr);
    await c.waitUntilUp();
    // sshd makes its host keys first.
    const r = await sshWhenListening(c, "echo ssh-ok");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "ssh-ok");
  });
});
