import assert from "node:assert/strict";
import { launcherScript, RUNTIME_ENV } from "./launcher.ts";
import { decodeLauncherText } from "../lib/caller_env.ts";
import { parseEnvBlock } from "../lib/env_bytes.ts";

/** Writes the launcher of `command` to `dir/tool`; its path. */
async function writeLauncher(dir: string, command: string[]): Promise<string> {
  const script = `${dir}/tool`;
  await Deno.writeTextFile(
    script,
    launcherScript("tool", { command, cache: "/c" }),
    { mode: 0o755 },
  );
  return script;
}

/** What the stand-in runtime saw. */
interface Seen {
  env: Map<string, string>;
  fd9: Map<string, string>;
  args: string[];
}

/**
 * Runs a launcher whose "runtime" is a shell script that reports its own
 * environment, what fd 9 carries and its arguments.
 */
async function runLauncher(env: Record<string, string>): Promise<Seen> {
  const dir = await Deno.makeTempDir();
  try {
    const fake = `${dir}/runtime`;
    await Deno.writeTextFile(
      fake,
      [
        "#!/bin/sh",
        `cat /proc/$$/environ > ${dir}/env`,
        `cat <&9 > ${dir}/fd9`,
        `printf '%s\\n' "$@" > ${dir}/args`,
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const script = await writeLauncher(dir, [fake, "run", "b.js"]);
    const out = await new Deno.Command(script, {
      args: ["a b", "c"],
      env: { PATH: "/usr/bin:/bin", ...env },
      clearEnv: true,
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return {
      env: parseEnvBlock(await Deno.readFile(`${dir}/env`)),
      fd9: parseEnvBlock(decodeLauncherText(await Deno.readFile(`${dir}/fd9`))),
      args: (await Deno.readTextFile(`${dir}/args`)).trimEnd().split("\n"),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("launcherScript() gives the runtime its own environment only", async () => {
  const seen = await runLauncher({
    DENO_V8_FLAGS: "--no-such-flag",
    DENO_COVERAGE_DIR: "/tmp/cov",
    RUST_LOG: "trace",
    OTEL_DENO: "true",
    NO_COLOR: "",
    DENO_DIR: "/data",
  });
  assert.deepEqual(
    Object.fromEntries(seen.env),
    { DENO_DIR: "/c", ...RUNTIME_ENV, BASEIMAGE_ENV_FD: "9" },
  );
});

Deno.test("launcherScript() hands the caller's environment over on fd 9, as it was", async () => {
  const seen = await runLauncher({
    DENO_V8_FLAGS: "--no-such-flag",
    "a.b": "dotted",
    MULTI: "line 1\nline 2\n",
    QUOTES: `'"$(x)\``,
  });
  assert.deepEqual(Object.fromEntries(seen.fd9), {
    PATH: "/usr/bin:/bin",
    DENO_V8_FLAGS: "--no-such-flag",
    "a.b": "dotted",
    MULTI: "line 1\nline 2\n",
    QUOTES: `'"$(x)\``,
  });
});

Deno.test("launcherScript() hands over bytes that are not UTF-8, backslashes and newlines exactly", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = await writeLauncher(dir, [
      "/bin/sh",
      "-c",
      "cat <&9 > $0",
      `${dir}/fd9`,
    ]);
    // A shell sets bytes a JS string cannot hold, then runs the launcher.
    const out = await new Deno.Command("/bin/sh", {
      args: [
        "-c",
        `exec env -i "V=$(printf 'a\\377\\\\n\\nb')" "$(printf 'N\\351')=x" ${script}`,
      ],
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const block = decodeLauncherText(await Deno.readFile(`${dir}/fd9`));
    assert.deepEqual(
      block,
      new Uint8Array([
        ...[0x56, 0x3d, 0x61, 0xff, 0x5c, 0x6e, 0x0a, 0x62, 0],
        ...[0x4e, 0xe9, 0x3d, 0x78, 0],
      ]),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("launcherScript() ignores BASH_ENV and exported functions of the caller", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bash_env`, `touch ${dir}/ran\n`);
    const script = await writeLauncher(dir, ["/bin/true"]);
    const out = await new Deno.Command(script, {
      env: {
        BASH_ENV: `${dir}/bash_env`,
        "BASH_FUNC_mapfile%%": `() { touch ${dir}/ran; }`,
      },
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal(
      await Deno.stat(`${dir}/ran`).then(() => true, () => false),
      false,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("launcherScript() carries a large environment whole", async () => {
  const big = "x".repeat(100_000);
  const seen = await runLauncher({ BIG: big });
  assert.equal(seen.fd9.get("BIG"), big);
});

Deno.test("launcherScript() starts the runtime with every signal blocked but glibc's 32 and 33", async () => {
  // The "runtime" is grep itself: a shell would clear its mask at start.
  const dir = await Deno.makeTempDir();
  try {
    const script = await writeLauncher(dir, [
      "/bin/grep",
      "SigBlk",
      "/proc/self/status",
    ]);
    const out = await new Deno.Command(script, { args: [] }).output();
    // Bits N-1 of the mask: 1..31 and 34..64, but KILL (9) and STOP (19),
    // which the kernel never blocks.
    assert.match(
      new TextDecoder().decode(out.stdout),
      /SigBlk:\s*fffffffe7ffbfeff\n/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("launcherScript() passes the arguments on, one by one", async () => {
  assert.deepEqual((await runLauncher({})).args, ["run", "b.js", "a b", "c"]);
});

Deno.test("launcherScript() has every signal blocked from the script's first instruction", async () => {
  // A probe put first in the script, bash builtins only (a child of the
  // shell would show its own mask): the launcher's interpreter line alone
  // decides the mask its shell starts with, so a signal sent while the
  // shell runs waits for the tool's signalfd instead of killing the shell.
  const dir = await Deno.makeTempDir();
  try {
    const script = launcherScript("tool", {
      command: ["/bin/true"],
      cache: "/c",
    });
    const lines = script.split("\n");
    lines.splice(
      1,
      0,
      'while read -r l; do [[ $l == SigBlk* ]] && echo "$l"; done </proc/$$/status; exit 0',
    );
    await Deno.writeTextFile(`${dir}/tool`, lines.join("\n"), { mode: 0o755 });
    const out = await new Deno.Command(`${dir}/tool`).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    // As for the runtime (previous test), but CHLD (17): bash 5.2
    // unblocks it for itself at start (the final `env --block-signal`
    // blocks it again for the runtime), and other versions may not.
    const line = new TextDecoder().decode(out.stdout);
    const mask = BigInt(`0x${/^SigBlk:\s*([0-9a-f]{16})\n$/.exec(line)?.[1]}`);
    const unblocked = [];
    for (let signo = 1; signo <= 64; signo++) {
      if ([9, 17, 19, 32, 33].includes(signo)) continue;
      if ((mask & (1n << BigInt(signo - 1))) === 0n) unblocked.push(signo);
    }
    assert.deepEqual(unblocked, [], line);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
