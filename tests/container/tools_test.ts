/**
 * The host tools in image/tools/: docker-bash and docker-ssh, with the
 * engine under test (ENGINE is passed through to them).
 */
import assert from "node:assert/strict";
import {
  DEFAULT_BRIDGE,
  ENGINE,
  SSHD_IMAGE,
  TEST_IMAGE,
  withContainer,
} from "./_engine.ts";

const TOOLS = new URL("../../image/tools/", import.meta.url).pathname;

async function tool(name: string, args: string[]) {
  const out = await new Deno.Command(`${TOOLS}${name}`, {
    args,
    env: { ENGINE },
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

Deno.test("docker-bash CONTAINER COMMAND runs COMMAND in a login shell with the container's environment", async () => {
  await withContainer("docker-bash", [
    "--network=none",
    "-e",
    "FROM_CLI=x y",
    TEST_IMAGE,
  ], async (c) => {
    await c.waitUntilUp();
    const r = await tool("docker-bash", [
      c.name,
      'echo "[$FROM_CLI] [$DIRVAR]"; exit 4',
    ]);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, "[x y] [fromdir]\n");
  });
});

// docker-ssh connects to the container's address on the engine's default
// bridge. The Docker Engine of the tests (image/engine.sh) has none, so
// that the host's network stays as it is: there, its answer to a container
// without an address is tested instead; podman's half, and a Docker with a
// bridge (CI's), run the logins.
if (DEFAULT_BRIDGE) {
  Deno.test("docker-ssh CONTAINER COMMAND logs in with the insecure key", async () => {
    // A network with an address: the host's default bridge.
    await withContainer("docker-ssh", [
      SSHD_IMAGE,
      "/sbin/my_init",
      "--enable-insecure-key",
    ], async (c) => {
      await c.waitUntilUp();
      let r = await tool("docker-ssh", [c.name, "echo ssh-ok; hostname"]);
      // sshd may not listen yet right after boot.
      for (
        let i = 0;
        i < 20 && r.code === 255 && /Connection refused/.test(r.stderr);
        i++
      ) {
        await new Promise((ok) => setTimeout(ok, 250));
        r = await tool("docker-ssh", [c.name, "echo ssh-ok; hostname"]);
      }
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^ssh-ok\n/);
    });
  });

  Deno.test("docker-ssh explains a failed login", async () => {
    await withContainer("docker-ssh-fail", [TEST_IMAGE], async (c) => {
      await c.waitUntilUp();
      const r = await tool("docker-ssh", [c.name, "true"]);
      assert.equal(r.code, 255);
      assert.match(r.stderr, /sshd is not enabled/);
    });
  });
} else {
  Deno.test("docker-ssh says so when the container has no IP address (an engine without a default bridge)", async () => {
    await withContainer("docker-ssh-noip", [SSHD_IMAGE], async (c) => {
      await c.waitUntilUp();
      const r = await tool("docker-ssh", [c.name, "true"]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(
        r.stderr,
        `docker-ssh: fatal: container ${c.name} has no IP address (--network=none or host?)\n`,
      );
    });
  });
}
