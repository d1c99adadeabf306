import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeBytes } from "../lib/env_bytes.ts";
import {
  DEFAULT_ENV_PATHS,
  DOCKER_ENV_GID,
  type EnvPaths,
  exportEnv,
  importEnvDir,
  linkEnvDir,
  RUN_ENV_PATHS,
} from "./env_dir.ts";
import { PAM_ENV_HEADER } from "./pam_env.ts";

const encode = (s: string) => new TextEncoder().encode(s);
const isRoot = Deno.uid() === 0;

/** "café" in latin-1: not UTF-8. */
const LATIN1_CAFE = [0x63, 0x61, 0x66, 0xe9];

/** Runs `fn` with a fresh temporary layout, removed afterwards. */
async function withEnvPaths(
  fn: (
    paths: EnvPaths,
    warnings: string[],
    warn: (msg: string) => void,
  ) => void | Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "env_dir_test" });
  const paths: EnvPaths = {
    dir: join(root, "container_environment"),
    shellDump: join(root, "container_environment.sh"),
    jsonDump: join(root, "container_environment.json"),
  };
  const warnings: string[] = [];
  try {
    await fn(paths, warnings, (msg) => warnings.push(msg));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

function writeVar(
  paths: EnvPaths,
  name: string,
  content: string | Uint8Array,
): void {
  Deno.mkdirSync(paths.dir, { recursive: true });
  Deno.writeFileSync(
    join(paths.dir, name),
    typeof content === "string" ? encode(content) : content,
  );
}

/** The bytes of strings (as UTF-8) and byte lists, one after the other. */
function concat(...parts: (string | number[])[]): Uint8Array {
  return new Uint8Array(
    parts.flatMap((p) => typeof p === "string" ? [...encode(p)] : p),
  );
}

const read = (path: string) => Deno.readTextFileSync(path);
const readBytes = (path: string) => Deno.readFileSync(path);
const modeOf = (path: string) => Deno.statSync(path).mode! & 0o7777;
const namesIn = (dir: string) =>
  [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("DEFAULT_ENV_PATHS are phusion's paths, and pam_env's file is in /run on either root", () => {
  assert.deepEqual(DEFAULT_ENV_PATHS, {
    dir: "/etc/container_environment",
    shellDump: "/etc/container_environment.sh",
    jsonDump: "/etc/container_environment.json",
    pamEnv: "/run/container_environment.pam_env",
  });
  assert.equal(RUN_ENV_PATHS.pamEnv, DEFAULT_ENV_PATHS.pamEnv);
  assert.equal(DOCKER_ENV_GID, 8377);
});

Deno.test("importEnvDir() returns a copy of the environment without a directory", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    const current = new Map([["ENV_DIR_TEST_A", "a"], ["HOME", "/root"]]);
    const env = importEnvDir(current, {
      paths,
      clear: true,
      override: true,
      warn,
    });
    assert.deepEqual(
      env,
      new Map([["ENV_DIR_TEST_A", "a"], ["HOME", "/root"]]),
    );
    // A copy: the caller may change it without changing `current`.
    assert.notEqual(env, current);
    env.set("ENV_DIR_TEST_B", "b");
    assert.equal(current.has("ENV_DIR_TEST_B"), false);
    assert.deepEqual(warnings, []);
  });
});

Deno.test("importEnvDir() at start adds variables but lets the given environment win", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    const current = new Map([
      ["ENV_DIR_TEST_GIVEN", "given"],
      ["PATH", "/bin"],
    ]);
    writeVar(paths, "ENV_DIR_TEST_GIVEN", "from file\n");
    writeVar(paths, "ENV_DIR_TEST_NEW", "new\n");
    writeVar(paths, "ENV_DIR_TEST_TWO_NL", "two\n\n");
    writeVar(paths, "env.dir-test", "dotted");
    const env = importEnvDir(current, {
      paths,
      clear: false,
      override: false,
      warn,
    });
    assert.deepEqual(
      env,
      new Map([
        ["ENV_DIR_TEST_GIVEN", "given"],
        ["PATH", "/bin"],
        ["ENV_DIR_TEST_NEW", "new"],
        ["ENV_DIR_TEST_TWO_NL", "two\n"],
        ["env.dir-test", "dotted"],
      ]),
    );
    assert.deepEqual(warnings, []);
  });
});

Deno.test("importEnvDir() with override lets the files win", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    const current = new Map([
      ["ENV_DIR_TEST_GIVEN", "given"],
      ["ENV_DIR_TEST_KEPT", "kept"],
    ]);
    writeVar(paths, "ENV_DIR_TEST_GIVEN", "from file");
    const env = importEnvDir(current, {
      paths,
      clear: false,
      override: true,
      warn,
    });
    assert.deepEqual(
      env,
      new Map([
        ["ENV_DIR_TEST_GIVEN", "from file"],
        ["ENV_DIR_TEST_KEPT", "kept"],
      ]),
    );
    assert.deepEqual(warnings, []);
  });
});

Deno.test("importEnvDir() with clear unsets variables whose file was deleted", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    const current = new Map([
      ["ENV_DIR_TEST_GONE", "x"],
      ["HOME", "/root"],
      ["USER", "root"],
      ["PATH", "/usr/bin"],
    ]);
    const given = new Map(current);
    writeVar(paths, "PATH", "/only/this");
    writeVar(paths, "ENV_DIR_TEST_STAYS", "y");
    const env = importEnvDir(current, {
      paths,
      clear: true,
      override: true,
      warn,
    });
    // NEVER_EXPORTED are never in the directory, so a clear must not lose them (phusion #490).
    assert.deepEqual(
      env,
      new Map([
        ["HOME", "/root"],
        ["USER", "root"],
        ["PATH", "/only/this"],
        ["ENV_DIR_TEST_STAYS", "y"],
      ]),
    );
    // The result is a new map: the one given is as it was.
    assert.deepEqual(current, given);
    assert.deepEqual(warnings, []);
  });
});

Deno.test("importEnvDir() with clear and an empty keep clears everything, as phusion", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    writeVar(paths, "ENV_DIR_TEST_ONLY", "1");
    const env = importEnvDir(new Map([["HOME", "/root"], ["PATH", "/bin"]]), {
      paths,
      clear: true,
      override: true,
      keep: new Set(),
      warn,
    });
    assert.deepEqual(env, new Map([["ENV_DIR_TEST_ONLY", "1"]]));
    assert.deepEqual(warnings, []);
  });
});

Deno.test("importEnvDir() warns about bad files, skips them and imports the rest", async () => {
  await withEnvPaths(async (paths, warnings, warn) => {
    const dir = paths.dir;
    writeVar(paths, "A=B", "v");
    writeVar(paths, "ENV_DIR_TEST_NUL", "a\0b");
    writeVar(paths, "ENV_DIR_TEST_HUGE", "x".repeat(200_000));
    writeVar(paths, "ENV_DIR_TEST_OK", "ok");
    Deno.mkdirSync(join(dir, "ENV_DIR_TEST_SUBDIR"));
    Deno.symlinkSync(
      join(dir, "ENV_DIR_TEST_OK"),
      join(dir, "ENV_DIR_TEST_LINK"),
    );
    Deno.symlinkSync(join(dir, "missing"), join(dir, "ENV_DIR_TEST_DANGLING"));
    const fifo = await new Deno.Command("mkfifo", {
      args: [join(dir, "ENV_DIR_TEST_FIFO")],
    }).output();
    assert.equal(fifo.code, 0);
    // A leftover of an interrupted export, never a variable.
    writeVar(paths, "=ENV_DIR_TEST_OK.new", "stale");

    const env = importEnvDir(new Map([["PATH", "/bin"]]), {
      paths,
      clear: false,
      override: true,
      warn,
    });

    assert.deepEqual(
      env,
      new Map([
        ["PATH", "/bin"],
        ["ENV_DIR_TEST_LINK", "ok"],
        ["ENV_DIR_TEST_OK", "ok"],
      ]),
    );
    assert.deepEqual(
      warnings.map((w) =>
        w.replace(/: unable to read it: .*/, ": unable to read it: ...")
      ),
      [
        `Ignoring ${dir}/A=B: the name contains "="`,
        `Ignoring ${dir}/ENV_DIR_TEST_DANGLING: unable to read it: ...`,
        `Ignoring ${dir}/ENV_DIR_TEST_FIFO: it is not a regular file`,
        `Ignoring ${dir}/ENV_DIR_TEST_HUGE: the file is 200000 bytes, over the kernel's limit ` +
        "of 131072 for a variable (MAX_ARG_STRLEN): every program started with it would fail with E2BIG",
        `Ignoring ${dir}/ENV_DIR_TEST_NUL: the value contains a NUL byte`,
        `Ignoring ${dir}/ENV_DIR_TEST_SUBDIR: it is not a regular file`,
      ],
    );
  });
});

Deno.test("importEnvDir() keeps the bytes of a latin-1 file, escaped, without a warning", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    writeVar(paths, "ENV_DIR_TEST_LATIN1", concat(LATIN1_CAFE, "\n"));
    writeVar(paths, "ENV_DIR_TEST_FF", new Uint8Array([0xff]));
    const env = importEnvDir(new Map(), {
      paths,
      clear: false,
      override: false,
      warn,
    });
    assert.deepEqual(
      env,
      new Map([
        ["ENV_DIR_TEST_FF", "\udcff"],
        ["ENV_DIR_TEST_LATIN1", "caf\udce9"],
      ]),
    );
    assert.deepEqual(
      encodeBytes(env.get("ENV_DIR_TEST_LATIN1")!),
      new Uint8Array(LATIN1_CAFE),
    );
    assert.deepEqual(warnings, []);
  });
});

Deno.test("importEnvDir() skips a file whose name is not UTF-8, with a warning", async () => {
  await withEnvPaths(async (paths, warnings, warn) => {
    writeVar(paths, "ENV_DIR_TEST_OK", "ok");
    // Deno cannot name such a file; the shell writes the byte 0xe9 itself.
    const made = await new Deno.Command("sh", {
      args: ["-c", `printf v > "$(printf 'caf\\351')"`],
      cwd: paths.dir,
    }).output();
    assert.equal(made.code, 0);
    assert.equal(namesIn(paths.dir).length, 2);
    const env = importEnvDir(new Map(), {
      paths,
      clear: false,
      override: false,
      warn,
    });
    // Deno reads the name as "caf\uFFFD": a variable of that name would be
    // a wrong one, so none is imported.
    assert.deepEqual(env, new Map([["ENV_DIR_TEST_OK", "ok"]]));
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(
      warnings[0],
      new RegExp(
        `^Ignoring ${paths.dir}/caf\uFFFD: the file name is not UTF-8 `,
        "u",
      ),
    );
  });
});

Deno.test("importEnvDir() takes a file in place of the directory for no directory", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    // A file where the directory should be reads as "no directory", as phusion.
    Deno.writeFileSync(paths.dir, encode("ENV_DIR_TEST_X"));
    const env = importEnvDir(new Map([["ENV_DIR_TEST_A", "a"]]), {
      paths,
      clear: true,
      override: true,
      warn,
    });
    assert.deepEqual(env, new Map([["ENV_DIR_TEST_A", "a"]]));
    assert.deepEqual(warnings, []);
  });
});

Deno.test("importEnvDir() and exportEnv() leave the runtime's Deno.env unchanged", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    assert.equal(Deno.env.get("ENV_DIR_TEST_FROM_FILE"), undefined);
    assert.equal(Deno.env.get("ENV_DIR_TEST_EXPORTED"), undefined);
    const before = Deno.env.toObject();
    writeVar(paths, "ENV_DIR_TEST_FROM_FILE", "file");
    writeVar(paths, "PATH", "/from/file");
    // clear and override: the old import emptied Deno.env and set the files.
    const env = importEnvDir(new Map([["ENV_DIR_TEST_GIVEN", "given"]]), {
      paths,
      clear: true,
      override: true,
      warn,
    });
    // The import did happen, into the map it returned.
    assert.deepEqual(
      env,
      new Map([["ENV_DIR_TEST_FROM_FILE", "file"], ["PATH", "/from/file"]]),
    );
    exportEnv(new Map([["ENV_DIR_TEST_EXPORTED", "x"]]), { paths, warn });
    // The export wrote the map given, not Deno.env.
    assert.equal(read(join(paths.dir, "ENV_DIR_TEST_EXPORTED")), "x");
    assert.deepEqual(JSON.parse(read(paths.jsonDump)), {
      ENV_DIR_TEST_EXPORTED: "x",
    });
    assert.deepEqual(Deno.env.toObject(), before);
    assert.deepEqual(warnings, []);
  });
});

Deno.test("exportEnv() writes a file per variable and both dumps", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    Deno.mkdirSync(paths.dir, { mode: 0o700 });
    const env = new Map([
      ["ENV_DIR_TEST_A", "line\n"],
      ["env.dir-test", "it's"],
      ["PATH", "/bin"],
      ["HOME", "/root"],
      ["SHELL", "/bin/bash"],
      ["USER", "root"],
      ["GROUP", "root"],
      ["UID", "0"],
      ["GID", "0"],
    ]);
    exportEnv(env, { paths, warn });

    // One newline more, which import takes off again: the value round-trips.
    assert.equal(read(join(paths.dir, "ENV_DIR_TEST_A")), "line\n\n");
    assert.equal(read(join(paths.dir, "env.dir-test")), "it's");
    assert.equal(read(join(paths.dir, "PATH")), "/bin");
    assert.equal(modeOf(join(paths.dir, "ENV_DIR_TEST_A")), 0o600);
    // No NEVER_EXPORTED and no temporary files.
    assert.deepEqual(namesIn(paths.dir), [
      "ENV_DIR_TEST_A",
      "PATH",
      "env.dir-test",
    ]);

    assert.equal(
      read(paths.shellDump),
      "export ENV_DIR_TEST_A='line\n'\nexport PATH='/bin'\n" +
        "export env_dir_test='it'\\''s'\n",
    );
    assert.deepEqual(JSON.parse(read(paths.jsonDump)), {
      ENV_DIR_TEST_A: "line\n",
      PATH: "/bin",
      "env.dir-test": "it's",
    });

    assert.deepEqual(namesIn(join(paths.dir, "..")), [
      "container_environment",
      "container_environment.json",
      "container_environment.sh",
    ]);
    assert.deepEqual(warnings, []);
  });
});

Deno.test({
  name: "exportEnv() gives the dumps mode 0640 and group docker_env (8377)",
  ignore: !isRoot,
  fn: async () => {
    await withEnvPaths((paths, warnings, warn) => {
      Deno.mkdirSync(paths.dir, { mode: 0o700 });
      exportEnv(new Map([["ENV_DIR_TEST_A", "a"]]), { paths, warn });
      for (const dump of [paths.shellDump, paths.jsonDump]) {
        const info = Deno.statSync(dump);
        assert.equal(info.mode! & 0o7777, 0o640, dump);
        assert.equal(info.gid, 8377, dump);
        assert.equal(info.uid, 0, dump);
      }
      assert.deepEqual(warnings, []);
    });
  },
});

Deno.test("exportEnv() restores the dumps after they were deleted", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    Deno.mkdirSync(paths.dir, { mode: 0o700 });
    const env = new Map([["ENV_DIR_TEST_A", "a"]]);
    const umask = Deno.umask(0o022);
    try {
      exportEnv(env, { paths, warn, gid: Deno.gid() ?? undefined });
      Deno.removeSync(join(paths.dir, "ENV_DIR_TEST_A"));
      Deno.removeSync(paths.shellDump);
      Deno.removeSync(paths.jsonDump);
      // A umask that would take the dumps' group read away must not matter.
      Deno.umask(0o077);
      exportEnv(env, { paths, warn, gid: Deno.gid() ?? undefined });
    } finally {
      Deno.umask(umask);
    }
    assert.equal(read(join(paths.dir, "ENV_DIR_TEST_A")), "a");
    assert.equal(modeOf(paths.shellDump), 0o640);
    assert.equal(modeOf(paths.jsonDump), 0o640);
    assert.equal(read(paths.shellDump), "export ENV_DIR_TEST_A='a'\n");
    assert.deepEqual(JSON.parse(read(paths.jsonDump)), { ENV_DIR_TEST_A: "a" });
    assert.deepEqual(warnings, []);
  });
});

Deno.test("exportEnv() writes nothing without the directory, as phusion", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    exportEnv(new Map([["ENV_DIR_TEST_A", "a"]]), { paths, warn });
    assert.throws(() => Deno.statSync(paths.dir), Deno.errors.NotFound);
    assert.throws(() => Deno.statSync(paths.shellDump), Deno.errors.NotFound);
    assert.throws(() => Deno.statSync(paths.jsonDump), Deno.errors.NotFound);
    assert.deepEqual(warnings, []);
  });
});

Deno.test("exportEnv() replaces a dump with a wrong mode", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    Deno.mkdirSync(paths.dir, { mode: 0o700 });
    Deno.writeFileSync(paths.shellDump, encode("old"), { mode: 0o666 });
    Deno.chmodSync(paths.shellDump, 0o666);
    Deno.writeFileSync(`${paths.jsonDump}.new`, encode("stale leftover"), {
      mode: 0o666,
    });
    Deno.chmodSync(`${paths.jsonDump}.new`, 0o666);
    exportEnv(new Map([["ENV_DIR_TEST_A", "a"]]), {
      paths,
      warn,
      gid: Deno.gid() ?? undefined,
    });
    assert.equal(modeOf(paths.shellDump), 0o640);
    assert.equal(modeOf(paths.jsonDump), 0o640);
    assert.equal(read(paths.shellDump), "export ENV_DIR_TEST_A='a'\n");
    assert.throws(
      () => Deno.statSync(`${paths.jsonDump}.new`),
      Deno.errors.NotFound,
    );
    assert.deepEqual(warnings, []);
  });
});

Deno.test("exportEnv() without toDir writes only the dumps", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    Deno.mkdirSync(paths.dir, { mode: 0o700 });
    exportEnv(new Map([["ENV_DIR_TEST_A", "a"]]), {
      paths,
      warn,
      toDir: false,
    });
    assert.deepEqual(namesIn(paths.dir), []);
    assert.equal(read(paths.shellDump), "export ENV_DIR_TEST_A='a'\n");
    assert.deepEqual(warnings, []);
  });
});

Deno.test("exportEnv() keeps variables that cannot be file names in the dumps", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    Deno.mkdirSync(paths.dir, { mode: 0o700 });
    exportEnv(new Map([["a/b", "slash"], ["..", "dots"]]), { paths, warn });
    assert.deepEqual(warnings, [
      `Not writing .. to ${paths.dir}: ".." is not a usable file name`,
      `Not writing a/b to ${paths.dir}: a file name cannot contain "/"`,
    ]);
    assert.deepEqual(JSON.parse(read(paths.jsonDump)), {
      "..": "dots",
      "a/b": "slash",
    });
    assert.equal(
      read(paths.shellDump),
      "export __='dots'\nexport a_b='slash'\n",
    );
    assert.deepEqual(namesIn(paths.dir), []);
  });
});

Deno.test("exportEnv() warns about variables left out of the shell dump", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    Deno.mkdirSync(paths.dir, { mode: 0o700 });
    exportEnv(new Map([["1ENV_DIR_TEST", "digit"]]), { paths, warn });
    assert.deepEqual(warnings, [
      `Leaving 1ENV_DIR_TEST out of ${paths.shellDump}: a shell variable name cannot start with a digit`,
    ]);
    assert.equal(read(paths.shellDump), "");
    assert.equal(read(join(paths.dir, "1ENV_DIR_TEST")), "digit");
    assert.deepEqual(JSON.parse(read(paths.jsonDump)), {
      "1ENV_DIR_TEST": "digit",
    });
  });
});

Deno.test("exportEnv() writes a value that is not UTF-8 as its bytes and leaves it out of the JSON dump", async () => {
  await withEnvPaths(async (paths, warnings, warn) => {
    Deno.mkdirSync(paths.dir, { mode: 0o700 });
    const env = new Map([
      ["ENV_DIR_TEST_LATIN1", "caf\udce9"],
      ["ENV_DIR_TEST_NL", "\udcff\n"],
      ["ENV_DIR_TEST_OK", "ok"],
    ]);
    exportEnv(env, { paths, warn });

    assert.deepEqual(
      readBytes(join(paths.dir, "ENV_DIR_TEST_LATIN1")),
      concat(LATIN1_CAFE),
    );
    // The extra newline of encodeEnvFile() applies to bytes too.
    assert.deepEqual(
      readBytes(join(paths.dir, "ENV_DIR_TEST_NL")),
      concat([0xff], "\n\n"),
    );
    assert.deepEqual(
      readBytes(paths.shellDump),
      concat(
        "export ENV_DIR_TEST_LATIN1='",
        LATIN1_CAFE,
        "'\nexport ENV_DIR_TEST_NL='",
        [0xff],
        "\n'\nexport ENV_DIR_TEST_OK='ok'\n",
      ),
    );
    // Valid UTF-8, with only the variable that is text.
    const json = new TextDecoder("utf-8", { fatal: true }).decode(
      readBytes(paths.jsonDump),
    );
    assert.deepEqual(JSON.parse(json), { ENV_DIR_TEST_OK: "ok" });
    assert.deepEqual(warnings, [
      `Leaving ENV_DIR_TEST_LATIN1 out of ${paths.jsonDump}: it is not UTF-8, which JSON cannot hold`,
      `Leaving ENV_DIR_TEST_NL out of ${paths.jsonDump}: it is not UTF-8, which JSON cannot hold`,
    ]);

    // Sourcing the shell dump gives the very bytes.
    for (const shell of ["bash", "dash"]) {
      const out = await new Deno.Command(shell, {
        args: [
          "-c",
          `. '${paths.shellDump}' && printf '%s\\000' "$ENV_DIR_TEST_LATIN1" "$ENV_DIR_TEST_NL"`,
        ],
        clearEnv: true,
        env: { PATH: "/usr/bin:/bin" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.deepEqual(
        out.stdout,
        concat(LATIN1_CAFE, [0], [0xff], "\n", [0]),
        shell,
      );
    }

    // And importing the directory gives back the same strings.
    const back = importEnvDir(new Map(), {
      paths,
      clear: true,
      override: true,
      warn,
    });
    assert.deepEqual(back, env);
    assert.equal(warnings.length, 2);
  });
});

Deno.test("exportEnv() does not write a variable whose name is not UTF-8 to the directory", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    Deno.mkdirSync(paths.dir, { mode: 0o700 });
    exportEnv(new Map([["caf\udce9", "v"], ["ENV_DIR_TEST_OK", "ok"]]), {
      paths,
      warn,
    });
    assert.deepEqual(warnings, [
      `Not writing caf\udce9 to ${paths.dir}: the name is not UTF-8`,
      `Leaving caf\udce9 out of ${paths.jsonDump}: it is not UTF-8, which JSON cannot hold`,
    ]);
    assert.deepEqual(namesIn(paths.dir), ["ENV_DIR_TEST_OK"]);
    // The shell dump keeps it under its sanitised name, as phusion's \W rule.
    assert.equal(
      read(paths.shellDump),
      "export ENV_DIR_TEST_OK='ok'\nexport caf_='v'\n",
    );
    assert.deepEqual(JSON.parse(read(paths.jsonDump)), {
      ENV_DIR_TEST_OK: "ok",
    });
  });
});

Deno.test("exportEnv() warns instead of throwing when nothing can be written", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    // A directory without write permission does not stop root; a file in
    // place of the dumps' directory does.
    Deno.mkdirSync(paths.dir, { recursive: true });
    const blocked = join(paths.dir, "..", "blocked");
    Deno.writeTextFileSync(blocked, "");
    const bad: EnvPaths = {
      dir: paths.dir,
      shellDump: join(blocked, "container_environment.sh"),
      jsonDump: join(blocked, "container_environment.json"),
    };
    exportEnv(new Map([["ENV_DIR_TEST_A", "a"]]), { paths: bad, warn });
    assert.equal(warnings.length, 2);
    assert.match(
      warnings[0],
      /^Unable to write .*\/container_environment\.sh: /,
    );
    assert.match(
      warnings[1],
      /^Unable to write .*\/container_environment\.json: /,
    );
    // The directory was still written.
    assert.equal(read(join(paths.dir, "ENV_DIR_TEST_A")), "a");
  });
});

Deno.test("exportEnv() then importEnvDir() with clear gives back the same environment", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    Deno.mkdirSync(paths.dir, { mode: 0o700 });
    const env = new Map([
      ["HOME", "/root"],
      ["ENV_DIR_TEST_NL", "two\n\n"],
      ["ENV_DIR_TEST_ONE_NL", "one\n"],
      ["ENV_DIR_TEST_ONLY_NL", "\n"],
      ["ENV_DIR_TEST_EMPTY", ""],
      ["ENV_DIR_TEST_UNICODE", "é😀\u0001'\"$`\\"],
    ]);
    exportEnv(env, { paths, warn });
    // Only HOME (never exported, so kept by clear) comes from `current`.
    const back = importEnvDir(
      new Map([["HOME", "/root"], ["ENV_DIR_TEST_STALE", "x"]]),
      { paths, clear: true, override: true, warn },
    );
    assert.deepEqual(back, env);
    assert.deepEqual(warnings, []);
  });
});

const NOBODY = 65534;

/**
 * Runs `call` (a call of the module's functions, with `paths` and `warn` in
 * scope) as user nobody in a fresh Deno, as my_init under `docker run
 * --user`; returns the warnings. The temporary root is given to nobody.
 */
async function warningsAsNobody(
  paths: EnvPaths,
  call: string,
): Promise<string[]> {
  const root = join(paths.dir, "..");
  Deno.chownSync(root, NOBODY, NOBODY);
  const denoDir = join(root, "deno_dir");
  Deno.mkdirSync(denoDir);
  Deno.chownSync(denoDir, NOBODY, NOBODY);
  const module = new URL("./env_dir.ts", import.meta.url).href;
  const script = [
    `import { exportEnv, importEnvDir } from ${JSON.stringify(module)};`,
    `const paths = ${JSON.stringify(paths)};`,
    "const warnings = [];",
    "const warn = (msg) => warnings.push(msg);",
    `${call};`,
    "console.log(JSON.stringify(warnings));",
  ].join("\n");
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-lock", script],
    uid: NOBODY,
    gid: NOBODY,
    clearEnv: true,
    env: { PATH: "/usr/bin:/bin", DENO_DIR: denoDir, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test({
  name:
    "exportEnv() as a user outside docker_env warns once about the group and carries on",
  ignore: !isRoot,
  fn: async () => {
    await withEnvPaths(async (paths) => {
      Deno.mkdirSync(paths.dir, { mode: 0o700 });
      Deno.chownSync(paths.dir, NOBODY, null);
      const warnings = await warningsAsNobody(
        paths,
        'exportEnv(new Map([["ENV_DIR_TEST_A", "a"]]), { paths, warn })',
      );
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(
        warnings[0],
        new RegExp(`^Unable to give ${paths.shellDump} to group 8377: `),
      );
      assert.equal(read(join(paths.dir, "ENV_DIR_TEST_A")), "a");
      for (const dump of [paths.shellDump, paths.jsonDump]) {
        assert.equal(modeOf(dump), 0o640);
        assert.equal(Deno.statSync(dump).uid, NOBODY);
      }
    });
  },
});

Deno.test({
  name: "importEnvDir() as a user who cannot read the directory warns",
  ignore: !isRoot,
  fn: async () => {
    await withEnvPaths(async (paths) => {
      writeVar(paths, "ENV_DIR_TEST_A", "a");
      Deno.chmodSync(paths.dir, 0o700);
      const warnings = await warningsAsNobody(
        paths,
        "importEnvDir(new Map(), { paths, clear: true, override: true, warn })",
      );
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(
        warnings[0],
        new RegExp(`^Unable to read ${paths.dir}: Permission denied`),
      );
    });
  },
});

Deno.test("exportEnv() replaces a dump that is a symbolic link with the file, as the image's links are on a writable root", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    Deno.mkdirSync(paths.dir, { mode: 0o700 });
    const target = join(paths.dir, "..", "elsewhere.sh");
    Deno.symlinkSync(target, paths.shellDump);
    const targets = exportEnv(new Map([["ENV_DIR_TEST_A", "a"]]), {
      paths,
      warn,
      gid: Deno.gid() ?? undefined,
    });
    assert.deepEqual(targets, paths);
    assert.equal(Deno.lstatSync(paths.shellDump).isFile, true);
    assert.equal(read(paths.shellDump), "export ENV_DIR_TEST_A='a'\n");
    assert.throws(() => Deno.statSync(target), Deno.errors.NotFound);
    assert.deepEqual(warnings, []);
  });
});

Deno.test("exportEnv() writes pam_env's file as the dumps, 0640, and warns about what it leaves out", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    Deno.mkdirSync(paths.dir, { mode: 0o700 });
    const pamEnv = join(paths.dir, "..", "container_environment.pam_env");
    const env = new Map([
      ["ENV_DIR_TEST_A", "'a' b"],
      ["ENV_DIR_TEST_HASH", "a#b"],
      ["HOME", "/root"],
    ]);
    const targets = exportEnv(env, {
      paths: { ...paths, pamEnv },
      warn,
      gid: Deno.gid() ?? undefined,
    });
    assert.equal(targets.pamEnv, pamEnv);
    assert.equal(read(pamEnv), PAM_ENV_HEADER + `ENV_DIR_TEST_A="'a' b"\n`);
    assert.equal(modeOf(pamEnv), 0o640);
    assert.deepEqual(warnings, [
      `Leaving ENV_DIR_TEST_HASH out of ${pamEnv}: cron jobs go without ` +
      'it: pam_env reads "#" as the start of a comment, even in a value',
    ]);
    // Without its path (as the tests' layouts), no such file.
    warnings.length = 0;
    Deno.removeSync(pamEnv);
    exportEnv(env, { paths, warn, gid: Deno.gid() ?? undefined });
    assert.throws(() => Deno.statSync(pamEnv), Deno.errors.NotFound);
  });
});

Deno.test("linkEnvDir() makes the link, keeps a right one, replaces a wrong one, and leaves anything else alone with a warning", async () => {
  await withEnvPaths((paths, warnings, warn) => {
    Deno.mkdirSync(paths.dir, { mode: 0o700 });
    Deno.writeTextFileSync(join(paths.dir, "A"), "a");
    const link = join(paths.dir, "..", "run_environment");
    linkEnvDir(link, paths.dir, warn);
    assert.equal(Deno.readLinkSync(link), paths.dir);
    assert.equal(read(join(link, "A")), "a");
    const before = Deno.lstatSync(link).mtime;
    linkEnvDir(link, paths.dir, warn);
    assert.deepEqual(Deno.lstatSync(link).mtime, before);

    Deno.removeSync(link);
    Deno.symlinkSync("/elsewhere", link);
    linkEnvDir(link, paths.dir, warn);
    assert.equal(Deno.readLinkSync(link), paths.dir);
    assert.deepEqual(warnings, []);

    Deno.removeSync(link);
    Deno.mkdirSync(link);
    linkEnvDir(link, paths.dir, warn);
    assert.equal(Deno.lstatSync(link).isDirectory, true);
    assert.deepEqual(warnings, [
      `Unable to link ${link} to ${paths.dir}: something else is there`,
    ]);
  });
});

/** The image's layout under `root`: etc/ and run/, as DEFAULT_ENV_PATHS and RUN_ENV_PATHS. */
function layout(root: string): { etc: EnvPaths; run: EnvPaths } {
  const at = (dir: string): EnvPaths => ({
    dir: join(root, dir, "container_environment"),
    shellDump: join(root, dir, "container_environment.sh"),
    jsonDump: join(root, dir, "container_environment.json"),
  });
  Deno.mkdirSync(join(root, "etc", "container_environment"), {
    recursive: true,
    mode: 0o700,
  });
  Deno.mkdirSync(join(root, "run"));
  return { etc: at("etc"), run: at("run") };
}

/**
 * Runs `script` (with the module's exports, `etc`, `run` and `warn` in
 * scope; it sets `result`) in a fresh Deno in a mount namespace of its own
 * where the directories `readOnly` are read-only, as a `--read-only`
 * container's root; returns its warnings and result.
 */
async function inReadOnlyNamespace(
  dirs: { etc: EnvPaths; run: EnvPaths },
  readOnly: string[],
  script: string,
): Promise<{ warnings: string[]; result: unknown }> {
  const module = new URL("./env_dir.ts", import.meta.url).href;
  const code = [
    `import * as m from ${JSON.stringify(module)};`,
    "const { exportEnv, importEnvDir } = m;",
    `const { etc, run } = ${JSON.stringify(dirs)};`,
    "const warnings = [];",
    "const warn = (msg) => warnings.push(msg);",
    "let result;",
    script,
    "console.log(JSON.stringify({ warnings, result }));",
  ].join("\n");
  const mounts = 'for d; do mount --bind "$d" "$d" && ' +
    'mount -o remount,bind,ro "$d" "$d" || exit 97; done; ' +
    'exec "$DENO" eval --no-lock "$CODE"';
  const out = await new Deno.Command("unshare", {
    args: ["--mount", "--propagation", "private", "sh", "-c", mounts, "sh"]
      .concat(readOnly),
    env: { DENO: Deno.execPath(), CODE: code, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test({
  name:
    "exportEnv() writes what a read-only file system keeps from its paths to the fallback, with one warning",
  ignore: !isRoot,
  fn: async () => {
    await withEnvPaths(async (paths) => {
      const root = join(paths.dir, "..");
      const { etc, run } = layout(root);
      writeVar(etc, "ENV_DIR_TEST_IMAGE", "from the image");
      // The image's links: readers of the /etc dumps get the /run ones.
      Deno.symlinkSync(run.shellDump, etc.shellDump);
      Deno.symlinkSync(run.jsonDump, etc.jsonDump);
      const { warnings, result } = await inReadOnlyNamespace(
        { etc, run },
        [join(root, "etc")],
        `const env = importEnvDir(new Map([["ENV_DIR_TEST_A", "a"], ["HOME", "/root"]]),
           { paths: etc, clear: false, override: false, warn });
         const targets = exportEnv(env, { paths: etc, fallback: run, warn });
         // A startup script changes a variable where the directory went;
         // the export after it writes the dumps there, without a warning.
         Deno.writeTextFileSync(targets.dir + "/ENV_DIR_TEST_A", "changed");
         const after = importEnvDir(env, { paths: { ...etc, dir: targets.dir },
           clear: true, override: true, warn });
         exportEnv(after, { paths: targets, warn, toDir: false });
         result = targets;`,
      );
      assert.deepEqual(result, run);
      assert.deepEqual(warnings, [
        `${etc.dir}, ${etc.shellDump} and ${etc.jsonDump} are on a read-only ` +
        `file system: writing ${run.dir}, ${run.shellDump} and ${run.jsonDump} instead`,
      ]);
      assert.deepEqual(namesIn(run.dir), [
        "ENV_DIR_TEST_A",
        "ENV_DIR_TEST_IMAGE",
      ]);
      assert.equal(modeOf(run.dir), 0o700);
      assert.equal(modeOf(join(run.dir, "ENV_DIR_TEST_IMAGE")), 0o600);
      for (const dump of [run.shellDump, run.jsonDump]) {
        assert.equal(modeOf(dump), 0o640, dump);
        assert.equal(Deno.statSync(dump).gid, DOCKER_ENV_GID, dump);
      }
      assert.equal(
        read(etc.shellDump),
        "export ENV_DIR_TEST_A='changed'\n" +
          "export ENV_DIR_TEST_IMAGE='from the image'\n",
      );
      assert.deepEqual(JSON.parse(read(etc.jsonDump)), {
        ENV_DIR_TEST_A: "changed",
        ENV_DIR_TEST_IMAGE: "from the image",
      });
      // /etc kept its own files and links, and nothing else.
      assert.deepEqual(namesIn(etc.dir), ["ENV_DIR_TEST_IMAGE"]);
      assert.equal(Deno.lstatSync(etc.shellDump).isSymlink, true);
      assert.equal(Deno.lstatSync(etc.jsonDump).isSymlink, true);
    });
  },
});

Deno.test({
  name:
    "exportEnv() empties the fallback directory of what an earlier boot left",
  ignore: !isRoot,
  fn: async () => {
    await withEnvPaths(async (paths) => {
      const root = join(paths.dir, "..");
      const { etc, run } = layout(root);
      Deno.mkdirSync(run.dir, { mode: 0o755 });
      writeVar(run, "ENV_DIR_TEST_OLD", "gone with the last boot");
      writeVar(run, "=ENV_DIR_TEST_A.new", "leftover");
      writeVar(run, "ENV_DIR_TEST_A", "old value");
      const { warnings } = await inReadOnlyNamespace(
        { etc, run },
        [join(root, "etc")],
        `exportEnv(new Map([["ENV_DIR_TEST_A", "a"]]), { paths: etc, fallback: run, warn });`,
      );
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.deepEqual(namesIn(run.dir), ["ENV_DIR_TEST_A"]);
      assert.equal(read(join(run.dir, "ENV_DIR_TEST_A")), "a");
      assert.equal(modeOf(run.dir), 0o700);
    });
  },
});

Deno.test({
  name:
    "exportEnv() with the fallback read-only too warns once, writes nothing, and the next export stays quiet",
  ignore: !isRoot,
  fn: async () => {
    await withEnvPaths(async (paths) => {
      const root = join(paths.dir, "..");
      const { etc, run } = layout(root);
      const { warnings, result } = await inReadOnlyNamespace(
        { etc, run },
        [join(root, "etc"), join(root, "run")],
        `const env = new Map([["ENV_DIR_TEST_A", "a"]]);
         const targets = exportEnv(env, { paths: etc, fallback: run, warn });
         exportEnv(env, { paths: targets, warn, toDir: false });
         result = targets;`,
      );
      // Every part written nowhere: the next exports skip them all.
      assert.deepEqual(JSON.parse(JSON.stringify(result)), {});
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(
        warnings[0],
        new RegExp(
          `^${etc.dir}, ${etc.shellDump} and ${etc.jsonDump} are on a read-only file system: ` +
            `unable to write ${run.dir}, ${run.shellDump} and ${run.jsonDump} either \\(Read-only file system `,
        ),
      );
      assert.deepEqual(namesIn(run.dir.replace(/\/[^/]*$/, "")), []);
    });
  },
});

Deno.test({
  name:
    "exportEnv() without a fallback says in one line what a read-only file system kept it from writing",
  ignore: !isRoot,
  fn: async () => {
    await withEnvPaths(async (paths) => {
      const root = join(paths.dir, "..");
      const { etc, run } = layout(root);
      const { warnings, result } = await inReadOnlyNamespace(
        { etc, run },
        [join(root, "etc")],
        `result = exportEnv(new Map([["ENV_DIR_TEST_A", "a"], ["ENV_DIR_TEST_B", "b"]]),
           { paths: etc, warn });`,
      );
      assert.deepEqual(JSON.parse(JSON.stringify(result)), {});
      assert.deepEqual(warnings, [
        `${etc.dir}, ${etc.shellDump} and ${etc.jsonDump} are on a read-only ` +
        "file system: not written",
      ]);
    });
  },
});
