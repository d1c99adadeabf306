import assert from "node:assert/strict";
import { join } from "node:path";
import { NEVER_EXPORTED } from "./env.ts";
import {
  DEFAULT_ENV_PATHS,
  DOCKER_ENV_GID,
  type EnvPaths,
  exportEnv,
  importEnvDir,
} from "./env_dir.ts";

const encode = (s: string) => new TextEncoder().encode(s);
const isRoot = Deno.uid() === 0;

/**
 * Runs `fn` with a fresh temporary layout and a copy of Deno.env that is put
 * back afterwards, since import changes the process environment.
 */
async function withEnvDir(
  fn: (
    paths: EnvPaths,
    warnings: string[],
    warn: (msg: string) => void,
  ) => void | Promise<void>,
): Promise<void> {
  const saved = Deno.env.toObject();
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
    for (const name of Object.keys(Deno.env.toObject())) {
      if (!Object.hasOwn(saved, name)) Deno.env.delete(name);
    }
    for (const [name, value] of Object.entries(saved)) {
      Deno.env.set(name, value);
    }
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

const read = (path: string) => Deno.readTextFileSync(path);
const modeOf = (path: string) => Deno.statSync(path).mode! & 0o7777;

Deno.test("DEFAULT_ENV_PATHS are phusion's paths", () => {
  assert.deepEqual(DEFAULT_ENV_PATHS, {
    dir: "/etc/container_environment",
    shellDump: "/etc/container_environment.sh",
    jsonDump: "/etc/container_environment.json",
  });
  assert.equal(DOCKER_ENV_GID, 8377);
});

Deno.test("importEnvDir() does nothing without a directory", async () => {
  await withEnvDir((paths, warnings, warn) => {
    const before = Deno.env.toObject();
    importEnvDir({ paths, clear: true, override: true, warn });
    assert.deepEqual(Deno.env.toObject(), before);
    assert.deepEqual(warnings, []);
  });
});

Deno.test("importEnvDir() at start adds variables but lets the given environment win", async () => {
  await withEnvDir((paths, warnings, warn) => {
    Deno.env.set("ENV_DIR_TEST_GIVEN", "given");
    writeVar(paths, "ENV_DIR_TEST_GIVEN", "from file\n");
    writeVar(paths, "ENV_DIR_TEST_NEW", "new\n");
    writeVar(paths, "ENV_DIR_TEST_TWO_NL", "two\n\n");
    writeVar(paths, "env.dir-test", "dotted");
    importEnvDir({ paths, clear: false, override: false, warn });
    assert.equal(Deno.env.get("ENV_DIR_TEST_GIVEN"), "given");
    assert.equal(Deno.env.get("ENV_DIR_TEST_NEW"), "new");
    assert.equal(Deno.env.get("ENV_DIR_TEST_TWO_NL"), "two\n");
    assert.equal(Deno.env.get("env.dir-test"), "dotted");
    assert.equal(Deno.env.get("PATH") !== undefined, true);
    assert.deepEqual(warnings, []);
  });
});

Deno.test("importEnvDir() with override lets the files win", async () => {
  await withEnvDir((paths, warnings, warn) => {
    Deno.env.set("ENV_DIR_TEST_GIVEN", "given");
    Deno.env.set("ENV_DIR_TEST_KEPT", "kept");
    writeVar(paths, "ENV_DIR_TEST_GIVEN", "from file");
    importEnvDir({ paths, clear: false, override: true, warn });
    assert.equal(Deno.env.get("ENV_DIR_TEST_GIVEN"), "from file");
    assert.equal(Deno.env.get("ENV_DIR_TEST_KEPT"), "kept");
    assert.deepEqual(warnings, []);
  });
});

Deno.test("importEnvDir() with clear unsets variables whose file was deleted", async () => {
  await withEnvDir((paths, warnings, warn) => {
    Deno.env.set("ENV_DIR_TEST_GONE", "x");
    Deno.env.set("HOME", "/root");
    writeVar(paths, "PATH", "/only/this");
    writeVar(paths, "ENV_DIR_TEST_STAYS", "y");
    const kept = pick(Deno.env.toObject(), [...NEVER_EXPORTED]);
    importEnvDir({ paths, clear: true, override: true, warn });
    // NEVER_EXPORTED are never in the directory, so a clear must not lose them (phusion #490).
    assert.deepEqual({ ...Deno.env.toObject() }, {
      ...kept,
      PATH: "/only/this",
      ENV_DIR_TEST_STAYS: "y",
    });
    assert.equal(Deno.env.get("ENV_DIR_TEST_GONE"), undefined);
    assert.equal(Deno.env.get("PATH"), "/only/this");
    assert.equal(Deno.env.get("ENV_DIR_TEST_STAYS"), "y");
    assert.equal(Deno.env.get("HOME"), "/root");
    assert.deepEqual(warnings, []);
  });
});

function pick(
  env: Record<string, string>,
  names: string[],
): Record<string, string> {
  return Object.fromEntries(
    names.filter((n) => Object.hasOwn(env, n)).map((n) => [n, env[n]]),
  );
}

Deno.test("importEnvDir() with clear and an empty keep clears everything, as phusion", async () => {
  await withEnvDir((paths, warnings, warn) => {
    Deno.env.set("HOME", "/root");
    writeVar(paths, "ENV_DIR_TEST_ONLY", "1");
    importEnvDir({ paths, clear: true, override: true, keep: new Set(), warn });
    assert.deepEqual({ ...Deno.env.toObject() }, { ENV_DIR_TEST_ONLY: "1" });
    assert.deepEqual(warnings, []);
  });
});

Deno.test("importEnvDir() warns about bad files, skips them and imports the rest", async () => {
  await withEnvDir(async (paths, warnings, warn) => {
    const dir = paths.dir;
    writeVar(paths, "A=B", "v");
    writeVar(paths, "ENV_DIR_TEST_NUL", "a\0b");
    writeVar(
      paths,
      "ENV_DIR_TEST_LATIN1",
      new Uint8Array([0x63, 0x61, 0x66, 0xe9]),
    );
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

    importEnvDir({ paths, clear: false, override: true, warn });

    assert.equal(Deno.env.get("ENV_DIR_TEST_OK"), "ok");
    assert.equal(Deno.env.get("ENV_DIR_TEST_LINK"), "ok");
    for (
      const name of ["NUL", "LATIN1", "HUGE", "SUBDIR", "DANGLING", "FIFO"]
    ) {
      assert.equal(Deno.env.get(`ENV_DIR_TEST_${name}`), undefined, name);
    }
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
        `Ignoring ${dir}/ENV_DIR_TEST_LATIN1: the value is not valid UTF-8`,
        `Ignoring ${dir}/ENV_DIR_TEST_NUL: the value contains a NUL byte`,
        `Ignoring ${dir}/ENV_DIR_TEST_SUBDIR: it is not a regular file`,
      ],
    );
  });
});

Deno.test("importEnvDir() takes a file in place of the directory for no directory", async () => {
  await withEnvDir((paths, warnings, warn) => {
    const before = Deno.env.toObject();
    // A file where the directory should be reads as "no directory", as phusion.
    Deno.writeFileSync(paths.dir, encode(""));
    importEnvDir({ paths, clear: true, override: true, warn });
    assert.deepEqual(Deno.env.toObject(), before);
    assert.deepEqual(warnings, []);
  });
});

Deno.test("exportEnv() writes a file per variable and both dumps", async () => {
  await withEnvDir((paths, warnings, warn) => {
    Deno.mkdirSync(paths.dir, { mode: 0o700 });
    Deno.env.set("ENV_DIR_TEST_A", "line\n");
    Deno.env.set("env.dir-test", "it's");
    Deno.env.set("HOME", "/root");
    Deno.env.set("SHELL", "/bin/bash");
    exportEnv({ paths, warn });

    // One newline more, which import takes off again: the value round-trips.
    assert.equal(read(join(paths.dir, "ENV_DIR_TEST_A")), "line\n\n");
    assert.equal(read(join(paths.dir, "env.dir-test")), "it's");
    assert.equal(
      Deno.statSync(join(paths.dir, "ENV_DIR_TEST_A")).mode! & 0o777,
      0o600,
    );
    for (const never of ["HOME", "SHELL"]) {
      assert.throws(
        () => Deno.statSync(join(paths.dir, never)),
        Deno.errors.NotFound,
      );
    }

    const sh = read(paths.shellDump);
    assert.match(sh, /^export ENV_DIR_TEST_A='line\n'$/m);
    assert.match(sh, /^export env_dir_test='it'\\''s'$/m);
    assert.doesNotMatch(sh, /HOME|SHELL=/);
    const json = JSON.parse(read(paths.jsonDump));
    assert.equal(json["ENV_DIR_TEST_A"], "line\n");
    assert.equal(json["env.dir-test"], "it's");
    assert.equal(Object.hasOwn(json, "HOME"), false);
    const everything = { ...Deno.env.toObject() };
    delete everything.HOME;
    delete everything.SHELL;
    for (const n of ["USER", "GROUP", "UID", "GID"]) delete everything[n];
    assert.deepEqual(json, everything);

    // No temporary files are left behind.
    const names = [...Deno.readDirSync(paths.dir)].map((e) => e.name);
    assert.deepEqual(names.filter((n) => n.includes(".new")), []);
    assert.deepEqual(
      [...Deno.readDirSync(join(paths.dir, ".."))].map((e) => e.name).sort(),
      [
        "container_environment",
        "container_environment.json",
        "container_environment.sh",
      ],
    );
    assert.deepEqual(warnings, []);
  });
});

Deno.test({
  name: "exportEnv() gives the dumps mode 0640 and group docker_env (8377)",
  ignore: !isRoot,
  fn: async () => {
    await withEnvDir((paths, warnings, warn) => {
      Deno.mkdirSync(paths.dir, { mode: 0o700 });
      Deno.env.set("ENV_DIR_TEST_A", "a");
      exportEnv({ paths, warn });
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
  await withEnvDir((paths, warnings, warn) => {
    Deno.mkdirSync(paths.dir, { mode: 0o700 });
    Deno.env.set("ENV_DIR_TEST_A", "a");
    const umask = Deno.umask(0o022);
    try {
      exportEnv({ paths, warn, gid: Deno.gid() ?? undefined });
      Deno.removeSync(join(paths.dir, "ENV_DIR_TEST_A"));
      Deno.removeSync(paths.shellDump);
      Deno.removeSync(paths.jsonDump);
      // A umask that would take the dumps' group read away must not matter.
      Deno.umask(0o077);
      exportEnv({ paths, warn, gid: Deno.gid() ?? undefined });
    } finally {
      Deno.umask(umask);
    }
    assert.equal(read(join(paths.dir, "ENV_DIR_TEST_A")), "a");
    assert.equal(modeOf(paths.shellDump), 0o640);
    assert.equal(modeOf(paths.jsonDump), 0o640);
    assert.match(read(paths.shellDump), /^export ENV_DIR_TEST_A='a'$/m);
    assert.equal(JSON.parse(read(paths.jsonDump)).ENV_DIR_TEST_A, "a");
    assert.deepEqual(warnings, []);
  });
});

Deno.test("exportEnv() writes nothing without the directory, as phusion", async () => {
  await withEnvDir((paths, warnings, warn) => {
    Deno.env.set("ENV_DIR_TEST_A", "a");
    exportEnv({ paths, warn });
    assert.throws(() => Deno.statSync(paths.dir), Deno.errors.NotFound);
    assert.throws(() => Deno.statSync(paths.shellDump), Deno.errors.NotFound);
    assert.throws(() => Deno.statSync(paths.jsonDump), Deno.errors.NotFound);
    assert.deepEqual(warnings, []);
  });
});

Deno.test("exportEnv() replaces a dump with a wrong mode", async () => {
  await withEnvDir((paths, warnings, warn) => {
    Deno.mkdirSync(paths.dir, { mode: 0o700 });
    Deno.writeFileSync(paths.shellDump, encode("old"), { mode: 0o666 });
    Deno.chmodSync(paths.shellDump, 0o666);
    Deno.writeFileSync(`${paths.jsonDump}.new`, encode("stale leftover"), {
      mode: 0o666,
    });
    Deno.chmodSync(`${paths.jsonDump}.new`, 0o666);
    exportEnv({ paths, warn, gid: Deno.gid() ?? undefined });
    assert.equal(modeOf(paths.shellDump), 0o640);
    assert.equal(modeOf(paths.jsonDump), 0o640);
    assert.notEqual(read(paths.shellDump), "old");
    assert.throws(
      () => Deno.statSync(`${paths.jsonDump}.new`),
      Deno.errors.NotFound,
    );
    assert.deepEqual(warnings, []);
  });
});

Deno.test("exportEnv() without toDir writes only the dumps", async () => {
  await withEnvDir((paths, warnings, warn) => {
    Deno.mkdirSync(paths.dir, { mode: 0o700 });
    Deno.env.set("ENV_DIR_TEST_A", "a");
    exportEnv({ paths, warn, toDir: false });
    assert.deepEqual([...Deno.readDirSync(paths.dir)], []);
    assert.match(read(paths.shellDump), /^export ENV_DIR_TEST_A='a'$/m);
    assert.deepEqual(warnings, []);
  });
});

Deno.test("exportEnv() keeps variables that cannot be file names in the dumps", async () => {
  await withEnvDir((paths, warnings, warn) => {
    Deno.mkdirSync(paths.dir, { mode: 0o700 });
    Deno.env.set("a/b", "slash");
    Deno.env.set("..", "dots");
    exportEnv({ paths, warn });
    assert.deepEqual(warnings, [
      `Not writing .. to ${paths.dir}: ".." is not a usable file name`,
      `Not writing a/b to ${paths.dir}: a file name cannot contain "/"`,
    ]);
    const json = JSON.parse(read(paths.jsonDump));
    assert.equal(json["a/b"], "slash");
    assert.equal(json[".."], "dots");
    assert.match(read(paths.shellDump), /^export __='dots'$/m);
    assert.match(read(paths.shellDump), /^export a_b='slash'$/m);
    assert.throws(
      () => Deno.statSync(join(paths.dir, "a")),
      Deno.errors.NotFound,
    );
  });
});

Deno.test("exportEnv() warns about variables left out of the shell dump", async () => {
  await withEnvDir((paths, warnings, warn) => {
    Deno.mkdirSync(paths.dir, { mode: 0o700 });
    Deno.env.set("1ENV_DIR_TEST", "digit");
    exportEnv({ paths, warn });
    assert.deepEqual(warnings, [
      `Leaving 1ENV_DIR_TEST out of ${paths.shellDump}: a shell variable name cannot start with a digit`,
    ]);
    assert.equal(read(join(paths.dir, "1ENV_DIR_TEST")), "digit");
    assert.equal(JSON.parse(read(paths.jsonDump))["1ENV_DIR_TEST"], "digit");
  });
});

Deno.test("exportEnv() warns instead of throwing when nothing can be written", async () => {
  await withEnvDir((paths, warnings, warn) => {
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
    exportEnv({ paths: bad, warn });
    assert.equal(warnings.length, 2);
    assert.match(
      warnings[0],
      /^Unable to write .*\/container_environment\.sh: /,
    );
    assert.match(
      warnings[1],
      /^Unable to write .*\/container_environment\.json: /,
    );
  });
});

Deno.test("exportEnv() then importEnvDir() with clear gives back the same environment", async () => {
  await withEnvDir((paths, warnings, warn) => {
    Deno.env.set("ENV_DIR_TEST_NL", "two\n\n");
    Deno.env.set("ENV_DIR_TEST_ONE_NL", "one\n");
    Deno.env.set("ENV_DIR_TEST_ONLY_NL", "\n");
    Deno.env.set("ENV_DIR_TEST_EMPTY", "");
    Deno.env.set("ENV_DIR_TEST_UNICODE", "é😀\u0001'\"$`\\");
    const before = Deno.env.toObject();
    exportEnv({ paths, warn });
    importEnvDir({ paths, clear: true, override: true, warn });
    assert.deepEqual(Deno.env.toObject(), before);
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
  env: Record<string, string> = {},
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
    env: { PATH: "/usr/bin:/bin", DENO_DIR: denoDir, NO_COLOR: "1", ...env },
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
    await withEnvDir(async (paths) => {
      Deno.mkdirSync(paths.dir, { mode: 0o700 });
      Deno.chownSync(paths.dir, NOBODY, null);
      const warnings = await warningsAsNobody(
        paths,
        "exportEnv({ paths, warn })",
        { ENV_DIR_TEST_A: "a" },
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
    await withEnvDir(async (paths) => {
      writeVar(paths, "ENV_DIR_TEST_A", "a");
      Deno.chmodSync(paths.dir, 0o700);
      const warnings = await warningsAsNobody(
        paths,
        "importEnvDir({ paths, clear: true, override: true, warn })",
      );
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(
        warnings[0],
        new RegExp(`^Unable to read ${paths.dir}: Permission denied`),
      );
    });
  },
});
