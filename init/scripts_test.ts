import assert from "node:assert/strict";
import {
  describeFailure,
  listScripts,
  startupDirectoryLine,
} from "./scripts.ts";

Deno.test("listScripts() returns executable regular files in byte order", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (
      const [name, mode] of [["b", 0o755], ["a", 0o700], ["B", 0o755], [
        "noexec",
        0o644,
      ]] as const
    ) {
      await Deno.writeTextFile(`${dir}/${name}`, "#!/bin/sh\n");
      await Deno.chmod(`${dir}/${name}`, mode);
    }
    await Deno.mkdir(`${dir}/subdir`);
    await Deno.chmod(`${dir}/subdir`, 0o755);
    await Deno.symlink(`${dir}/a`, `${dir}/c-link`);
    await Deno.symlink(`${dir}/missing`, `${dir}/d-dangling`);
    assert.deepEqual(listScripts(dir), [
      `${dir}/B`,
      `${dir}/a`,
      `${dir}/b`,
      `${dir}/c-link`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("listScripts() of a missing directory is empty", () => {
  assert.deepEqual(listScripts("/nonexistent/my_init.d"), []);
});

Deno.test("describeFailure() names the script, its status and the signal", () => {
  assert.equal(
    describeFailure("/etc/my_init.d/x", { kind: "exited", code: 3 }),
    "/etc/my_init.d/x failed with status 3",
  );
  assert.equal(
    describeFailure("/etc/rc.local", { kind: "signaled", signal: 9 }),
    "/etc/rc.local failed with status 137 (killed by SIGKILL)",
  );
});

Deno.test("startupDirectoryLine() names the directory, and the default one when another replaces it", () => {
  assert.equal(
    startupDirectoryLine("/etc/my_init.d", "/etc/my_init.d"),
    "Running the startup scripts in /etc/my_init.d...",
  );
  assert.equal(
    startupDirectoryLine("/opt/init.d", "/etc/my_init.d"),
    "Running the startup scripts in /opt/init.d (ENV_INIT_DIRECTORY), " +
      "not those in /etc/my_init.d...",
  );
});
