import assert from "node:assert/strict";
import { libc } from "./libc.ts";
import { decodeWaitStatus } from "./exit_status.ts";
import {
  describeSpawnFailure,
  spawn,
  SpawnError,
  spawnFailureExitCode,
} from "./spawn.ts";

function wait(pid: number) {
  const status = new Int32Array(1);
  assert.equal(libc().waitpid(pid, new Uint8Array(status.buffer), 0), pid);
  return decodeWaitStatus(status[0]);
}

Deno.test("spawn() starts a child from PATH with the given argv and environment", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pid = spawn(
      ["sh", "-c", 'printf %s "$1:$X" > "$0/out"; exit 3', dir, "a b"],
      { env: { PATH: "/usr/bin:/bin", X: "y" } },
    );
    assert.deepEqual(wait(pid), { kind: "exited", code: 3 });
    assert.equal(await Deno.readTextFile(`${dir}/out`), "a b:y");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spawn() gives children default dispositions and an empty mask", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The runtime ignores SIGPIPE; the child must not inherit that.
    const pid = spawn([
      "sh",
      "-c",
      `grep -E '^Sig(Ign|Blk)' /proc/self/status > ${dir}/status`,
    ]);
    assert.deepEqual(wait(pid), { kind: "exited", code: 0 });
    const text = await Deno.readTextFile(`${dir}/status`);
    const ign = BigInt("0x" + /SigIgn:\s*([0-9a-f]+)/.exec(text)![1]);
    const blk = BigInt("0x" + /SigBlk:\s*([0-9a-f]+)/.exec(text)![1]);
    assert.equal(ign & (1n << 12n), 0n, "SIGPIPE ignored in the child");
    assert.equal(blk, 0n);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spawn() reports a missing or non-executable program synchronously", async () => {
  assert.throws(
    () => spawn(["/nonexistent/prog"]),
    (e: unknown) =>
      e instanceof SpawnError && e.code === 2 && e.file === "/nonexistent/prog",
  );
  const file = await Deno.makeTempFile();
  try {
    assert.throws(
      () => spawn([file]),
      (e: unknown) => e instanceof SpawnError && e.code === 13,
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("describeSpawnFailure() and spawnFailureExitCode() follow the shells", () => {
  assert.equal(describeSpawnFailure("x", 2), "x: command not found");
  assert.equal(
    describeSpawnFailure("x", 13),
    "x: permission denied (not executable)",
  );
  assert.equal(spawnFailureExitCode(2), 127);
  assert.equal(spawnFailureExitCode(13), 126);
  assert.equal(spawnFailureExitCode(8), 126);
});
