import assert from "node:assert/strict";
import { C, libc } from "./libc.ts";
import { decodeWaitStatus } from "./exit_status.ts";
import { decodeBytes } from "./env_bytes.ts";
import { sigsetOf } from "./signals.ts";
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

const PATH_ONLY = new Map([["PATH", "/usr/bin:/bin"]]);

Deno.test("spawn() starts a child from PATH with the given argv and environment", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pid = spawn(
      ["sh", "-c", 'printf %s "$1:$X" > "$0/out"; exit 3', dir, "a b"],
      { env: new Map([["PATH", "/usr/bin:/bin"], ["X", "y"]]) },
    );
    assert.deepEqual(wait(pid), { kind: "exited", code: 3 });
    assert.equal(await Deno.readTextFile(`${dir}/out`), "a b:y");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spawn() passes names and values that are not UTF-8 byte-exact", async () => {
  const value = decodeBytes(new Uint8Array([0x61, 0xff, 0xe9, 0x0a, 0x62]));
  const name = decodeBytes(new Uint8Array([0x4e, 0xe9]));
  const pid = spawn(["sleep", "30"], {
    env: new Map([["PATH", "/usr/bin:/bin"], ["V", value], [name, "x"]]),
  });
  try {
    // posix_spawnp returns once the child has its new memory, which the
    // kernel fills a moment later: /proc/PID/environ reads empty until then.
    let got = new Uint8Array();
    for (let i = 0; i < 200 && got.length === 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 10));
      got = await Deno.readFile(`/proc/${pid}/environ`);
    }
    const want = new Uint8Array([
      ...new TextEncoder().encode("PATH=/usr/bin:/bin\0V=a"),
      ...[0xff, 0xe9, 0x0a, 0x62, 0],
      ...[0x4e, 0xe9, 0x3d, 0x78, 0],
    ]);
    assert.deepEqual(got, want);
  } finally {
    libc().kill(pid, 9);
    wait(pid);
  }
});

Deno.test("spawn() gives children every signal at default, glibc's 32 and 33 included, and an empty mask", async () => {
  const dir = await Deno.makeTempDir();
  const usr1 = sigsetOf([10]);
  libc().pthread_sigmask(C.SIG_BLOCK, usr1, null);
  try {
    // The runtime ignores SIGPIPE and this thread blocks SIGUSR1 now; the
    // child must inherit neither.
    const pid = spawn([
      "sh",
      "-c",
      `grep -E '^Sig(Ign|Blk)' /proc/self/status > ${dir}/status`,
    ], { env: PATH_ONLY });
    assert.deepEqual(wait(pid), { kind: "exited", code: 0 });
    const text = await Deno.readTextFile(`${dir}/status`);
    assert.match(text, /SigIgn:\s*0{16}\n/);
    assert.match(text, /SigBlk:\s*0{16}\n/);
  } finally {
    libc().pthread_sigmask(C.SIG_UNBLOCK, usr1, null);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spawn() searches the PATH of the environment it is given", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/only-here`, "#!/bin/sh\nexit 7\n", {
      mode: 0o755,
    });
    const env = new Map([["PATH", dir]]);
    assert.deepEqual(wait(spawn(["only-here"], { env })), {
      kind: "exited",
      code: 7,
    });
    assert.throws(
      () => spawn(["only-here"], { env: PATH_ONLY }),
      (e: unknown) => e instanceof SpawnError && e.code === C.ENOENT,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spawn() reports a missing or non-executable program synchronously", async () => {
  assert.throws(
    () => spawn(["/nonexistent/prog"], { env: PATH_ONLY }),
    (e: unknown) =>
      e instanceof SpawnError && e.code === 2 && e.file === "/nonexistent/prog",
  );
  const file = await Deno.makeTempFile();
  try {
    assert.throws(
      () => spawn([file], { env: PATH_ONLY }),
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
  assert.equal(
    describeSpawnFailure("x", 7),
    "x: cannot execute: the arguments and environment are over the kernel's limit (E2BIG)",
  );
  assert.equal(
    describeSpawnFailure("x", 40),
    "x: cannot execute: Too many levels of symbolic links (ELOOP)",
  );
  assert.equal(spawnFailureExitCode(2), 127);
  assert.equal(spawnFailureExitCode(13), 126);
  assert.equal(spawnFailureExitCode(8), 126);
});

Deno.test("spawn() starts the child in the directory it is given, and leaves ours alone", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    const before = Deno.cwd();
    const pid = spawn(["sh", "-c", "pwd > here"], { env: PATH_ONLY, cwd: dir });
    assert.deepEqual(wait(pid), { kind: "exited", code: 0 });
    assert.equal(await Deno.readTextFile(`${dir}/here`), `${dir}\n`);
    assert.equal(Deno.cwd(), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
