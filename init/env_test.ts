import assert from "node:assert/strict";
import {
  ARGUMENTS_RESERVE,
  argumentsArea,
  compareByBytes,
  decodeEnvFile,
  encodeEnvFile,
  envBytes,
  envEntryBytes,
  envFileNameProblem,
  envFileReadProblem,
  envFileSizeProblem,
  envSpace,
  envSpaceProblem,
  isReadOnlyFsError,
  jsonDumpOmissions,
  MAX_ARG_STRLEN,
  mergeEnv,
  NEVER_EXPORTED,
  readOnlyWarning,
  renderJsonDump,
  renderShellDump,
  sanitizeShellName,
  shellDumpEntries,
  staleEnvFiles,
} from "./env.ts";
import { decodeBytes, encodeBytes } from "../lib/env_bytes.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("NEVER_EXPORTED lists the variables phusion never exports", () => {
  assert.deepEqual([...NEVER_EXPORTED].sort(), [
    "GID",
    "GROUP",
    "HOME",
    "SHELL",
    "UID",
    "USER",
  ]);
});

Deno.test("decodeEnvFile() strips exactly one trailing newline", () => {
  assert.deepEqual(decodeEnvFile("A", bytes("value\n")), {
    ok: true,
    value: "value",
  });
  assert.deepEqual(decodeEnvFile("A", bytes("value\n\n")), {
    ok: true,
    value: "value\n",
  });
  assert.deepEqual(decodeEnvFile("A", bytes("value")), {
    ok: true,
    value: "value",
  });
  assert.deepEqual(decodeEnvFile("A", bytes("\n")), { ok: true, value: "" });
  assert.deepEqual(decodeEnvFile("A", bytes("")), { ok: true, value: "" });
  assert.deepEqual(decodeEnvFile("A", bytes("a\nb\r\n")), {
    ok: true,
    value: "a\nb\r",
  });
});

Deno.test("decodeEnvFile() keeps a byte order mark and non-ASCII text", () => {
  assert.deepEqual(decodeEnvFile("A", bytes("\uFEFFé😀")), {
    ok: true,
    value: "\uFEFFé😀",
  });
});

Deno.test("decodeEnvFile() accepts names with dots and dashes", () => {
  assert.deepEqual(decodeEnvFile("a.b", bytes("1")), { ok: true, value: "1" });
  assert.deepEqual(decodeEnvFile("x-y", bytes("2")), { ok: true, value: "2" });
});

Deno.test("decodeEnvFile() rejects names no environment can hold", () => {
  assert.deepEqual(decodeEnvFile("A=B", bytes("v")), {
    ok: false,
    reason: 'the name contains "="',
  });
  assert.deepEqual(decodeEnvFile("", bytes("v")), {
    ok: false,
    reason: "the name is empty",
  });
  assert.deepEqual(decodeEnvFile("A\0B", bytes("v")), {
    ok: false,
    reason: "the name contains a NUL byte",
  });
});

Deno.test("decodeEnvFile() rejects a NUL byte in the value", () => {
  assert.deepEqual(decodeEnvFile("A", bytes("a\0b")), {
    ok: false,
    reason: "the value contains a NUL byte",
  });
});

Deno.test("decodeEnvFile() keeps bytes that are not UTF-8, one escape each", () => {
  const cases: [number[], string][] = [
    [[0x61, 0xff], "a\udcff"],
    [[0xff], "\udcff"],
    [[0x61, 0xc3], "a\udcc3"],
    [[0xed, 0xa0, 0x80], "\udced\udca0\udc80"],
    [[0xc0, 0xaf], "\udcc0\udcaf"],
    [[0x63, 0x61, 0x66, 0xe9], "caf\udce9"],
    // Valid UTF-8 around an invalid byte stays text.
    [[0xc3, 0xa9, 0x80, 0xc3, 0xa9], "\u00e9\udc80\u00e9"],
  ];
  for (const [raw, value] of cases) {
    const verdict = decodeEnvFile("A", new Uint8Array(raw));
    assert.deepEqual(verdict, { ok: true, value }, JSON.stringify(raw));
    assert.deepEqual(encodeBytes(value), new Uint8Array(raw));
  }
  // The trailing newline goes as for text.
  assert.deepEqual(decodeEnvFile("A", new Uint8Array([0x61, 0xff, 0x0a])), {
    ok: true,
    value: "a\udcff",
  });
});

Deno.test("decodeEnvFile() rejects a variable over MAX_ARG_STRLEN", () => {
  // "A=" + value + NUL must fit in 131072 bytes: the largest value is 131069.
  const largest = "x".repeat(MAX_ARG_STRLEN - 3);
  assert.deepEqual(decodeEnvFile("A", bytes(largest)), {
    ok: true,
    value: largest,
  });
  // The stripped newline does not count.
  assert.deepEqual(decodeEnvFile("A", bytes(largest + "\n")), {
    ok: true,
    value: largest,
  });
  assert.deepEqual(decodeEnvFile("A", bytes(largest + "x")), {
    ok: false,
    reason:
      "the variable needs 131073 bytes, over the kernel's limit of 131072 " +
      "(MAX_ARG_STRLEN): every program started with it would fail with E2BIG",
  });
  // Counted in bytes, not characters.
  assert.equal(decodeEnvFile("A", bytes("é".repeat(70000))).ok, false);
  // A byte that is not UTF-8 counts as the one byte it is.
  const largestRaw = new Uint8Array(MAX_ARG_STRLEN - 3).fill(0xff);
  assert.deepEqual(decodeEnvFile("A", largestRaw), {
    ok: true,
    value: "\udcff".repeat(MAX_ARG_STRLEN - 3),
  });
  assert.equal(
    decodeEnvFile("A", new Uint8Array(MAX_ARG_STRLEN - 2).fill(0xff)).ok,
    false,
  );
  assert.equal(decodeEnvFile("A", bytes("x".repeat(10_000_000))).ok, false);
});

Deno.test("envFileSizeProblem() refuses only files too big for any variable", () => {
  // Smaller files are read: whether their variable fits depends on the name
  // and the newline, which decodeEnvFile() decides exactly.
  assert.equal(envFileSizeProblem(0), undefined);
  assert.equal(envFileSizeProblem(MAX_ARG_STRLEN + 1), undefined);
  assert.equal(
    envFileSizeProblem(MAX_ARG_STRLEN + 2),
    "the file is 131074 bytes, over the kernel's limit of 131072 for a variable " +
      "(MAX_ARG_STRLEN): every program started with it would fail with E2BIG",
  );
});

Deno.test("encodeEnvFile() writes the value as is unless it ends in a newline", () => {
  assert.equal(encodeEnvFile("plain"), "plain");
  assert.equal(encodeEnvFile(""), "");
  assert.equal(encodeEnvFile("a\nb"), "a\nb");
  assert.equal(encodeEnvFile("one\n"), "one\n\n");
  assert.equal(encodeEnvFile("\n"), "\n\n");
});

Deno.test("decodeEnvFile() gives back every value encodeEnvFile() wrote", () => {
  const rand = prng(49);
  const values = ["", "\n", "\n\n", "a\n", "a\n\n", "\na", "a\r\n"];
  for (let i = 0; i < 500; i++) values.push(randomValue(rand));
  for (const value of values) {
    const verdict = decodeEnvFile("A", bytes(encodeEnvFile(value)));
    assert.deepEqual(verdict, { ok: true, value }, JSON.stringify(value));
  }
});

Deno.test("decodeEnvFile() gives back every byte value encodeEnvFile() wrote", () => {
  const rand = prng(8377);
  for (let i = 0; i < 500; i++) {
    const raw = randomBytes(rand);
    const value = decodeBytes(raw);
    const file = encodeBytes(encodeEnvFile(value));
    assert.deepEqual(
      decodeEnvFile("A", file),
      { ok: true, value },
      JSON.stringify([...raw]),
    );
    assert.deepEqual(encodeBytes(value), raw);
  }
});

Deno.test("sanitizeShellName() replaces every character outside [A-Za-z0-9_]", () => {
  assert.equal(sanitizeShellName("PATH"), "PATH");
  assert.equal(sanitizeShellName("a.b"), "a_b");
  assert.equal(sanitizeShellName("x-y"), "x_y");
  assert.equal(sanitizeShellName("my var!"), "my_var_");
  assert.equal(sanitizeShellName("é"), "_");
  assert.equal(sanitizeShellName("😀x"), "_x");
  assert.equal(sanitizeShellName("_9"), "_9");
});

Deno.test("renderShellDump() exports sorted sanitised names and skips NEVER_EXPORTED", () => {
  const env = {
    PATH: "/bin",
    HOME: "/root",
    USER: "root",
    GROUP: "root",
    UID: "0",
    GID: "0",
    SHELL: "/bin/sh",
    "a.b": "dot",
    Z: "it's",
  };
  assert.equal(
    renderShellDump(env),
    "export PATH='/bin'\nexport Z='it'\\''s'\nexport a_b='dot'\n",
  );
  assert.equal(renderShellDump({}), "");
});

Deno.test("shellDumpEntries() leaves out names that would break sourcing", () => {
  const { entries, omitted } = shellDumpEntries({
    "1X": "a",
    PPID: "b",
    SHELLOPTS: "c",
    "a.b": "d",
    a_b: "e",
    "c-d": "f",
    "c.d": "g",
    OK: "h",
  });
  assert.deepEqual(entries.map((e) => [e.name, e.shellName, e.value]), [
    ["OK", "OK", "h"],
    ["a_b", "a_b", "e"],
    ["c-d", "c_d", "f"],
  ]);
  assert.deepEqual(omitted, [
    { name: "1X", reason: "a shell variable name cannot start with a digit" },
    { name: "PPID", reason: 'bash holds "PPID" read-only' },
    { name: "SHELLOPTS", reason: 'bash holds "SHELLOPTS" read-only' },
    { name: "a.b", reason: 'its shell name "a_b" is taken by "a_b"' },
    { name: "c.d", reason: 'its shell name "c_d" is taken by "c-d"' },
  ]);
});

Deno.test("renderJsonDump() round-trips and skips NEVER_EXPORTED", () => {
  const env = {
    PATH: "/bin",
    HOME: "/root",
    SHELL: "/bin/sh",
    "a.b": 'line\nbreak "quoted" \\ é 😀 \u0001',
    ["__proto__"]: "x",
  };
  const json = renderJsonDump(env);
  const parsed = JSON.parse(json);
  assert.deepEqual(Object.keys(parsed), ["PATH", "__proto__", "a.b"]);
  assert.equal(parsed.PATH, "/bin");
  assert.equal(parsed["a.b"], env["a.b"]);
  assert.equal(Object.hasOwn(parsed, "HOME"), false);
  assert.equal(Object.hasOwn(parsed, "SHELL"), false);
  assert.equal(renderJsonDump({}), "{}");
});

Deno.test("renderJsonDump() leaves out what is not UTF-8 and jsonDumpOmissions() lists it", () => {
  const env = {
    OK: "é",
    BAD_VALUE: "caf\udce9",
    ["caf\udce9"]: "good value, bad name",
    HOME: "\udcff",
  };
  assert.equal(renderJsonDump(env), '{"OK":"é"}');
  // HOME is never exported, so it is not an omission either.
  assert.deepEqual(jsonDumpOmissions(env), ["BAD_VALUE", "caf\udce9"]);
  assert.deepEqual(jsonDumpOmissions({ OK: "é", E: "" }), []);
});

Deno.test("renderShellDump() keeps a value that is not UTF-8, escaped, inside the quotes", () => {
  const dump = renderShellDump({ A: "caf\udce9", "b\udcff": "x" });
  assert.equal(dump, "export A='caf\udce9'\nexport b_='x'\n");
  assert.deepEqual(
    encodeBytes(dump),
    new Uint8Array([
      ...bytes("export A='caf"),
      0xe9,
      ...bytes("'\nexport b_='x'\n"),
    ]),
  );
});

Deno.test("compareByBytes() orders by code point, as UTF-8 bytes sort", () => {
  const names = ["b", "\uFFFF", "😀", "B", "a", "ab", "_"];
  assert.deepEqual(names.sort(compareByBytes), [
    "B",
    "_",
    "a",
    "ab",
    "b",
    "\uFFFF",
    "😀",
  ]);
});

Deno.test("mergeEnv() without clear or override keeps the given environment", () => {
  const merged = mergeEnv(
    { A: "env", B: "env" },
    new Map([["B", "dir"], ["C", "dir"]]),
    { clear: false, override: false },
  );
  assert.deepEqual(Object.fromEntries(merged.env), {
    A: "env",
    B: "env",
    C: "dir",
  });
});

Deno.test("mergeEnv() with override lets the directory win", () => {
  const merged = mergeEnv(
    { A: "env", B: "env" },
    new Map([["B", "dir"]]),
    { clear: false, override: true },
  );
  assert.deepEqual(Object.fromEntries(merged.env), { A: "env", B: "dir" });
});

Deno.test("mergeEnv() with clear drops variables without a file but keeps NEVER_EXPORTED", () => {
  const merged = mergeEnv(
    { A: "env", B: "env", HOME: "/root", USER: "root" },
    new Map([["B", "dir"], ["HOME", "/home/x"]]),
    { clear: true, override: true },
  );
  assert.deepEqual(Object.fromEntries(merged.env), {
    B: "dir",
    HOME: "/home/x",
    USER: "root",
  });
});

Deno.test("mergeEnv() with clear and an empty keep clears everything, as phusion", () => {
  const merged = mergeEnv(
    { A: "env", HOME: "/root" },
    new Map([["B", "dir"]]),
    { clear: true, override: false, keep: new Set() },
  );
  assert.deepEqual(Object.fromEntries(merged.env), { B: "dir" });
});

Deno.test("envEntryBytes() counts NAME=value, its NUL and its envp pointer, in bytes", () => {
  assert.equal(envEntryBytes("A", "b"), 4 + 8);
  assert.equal(envEntryBytes("A", ""), 3 + 8);
  // Bytes, not UTF-16 units: é is two bytes, a stray byte (0xff) one.
  assert.equal(envEntryBytes("É", "é"), 6 + 8);
  assert.equal(envEntryBytes("X", decodeBytes(new Uint8Array([0xff]))), 4 + 8);
  // envp's ending NULL.
  assert.equal(envBytes(new Map()), 8);
  assert.equal(envBytes(new Map([["A", "b"], ["C", "d"]])), 8 + 2 * 12);
});

Deno.test("argumentsArea() and envSpace() follow the kernel's bounds on sysconf(_SC_ARG_MAX)", () => {
  // A stack limit of 8 MiB: a quarter.
  assert.equal(argumentsArea(2 * 1024 * 1024), 2 * 1024 * 1024);
  assert.equal(envSpace(2 * 1024 * 1024), 2 * 1024 * 1024 - 128 * 1024);
  assert.equal(ARGUMENTS_RESERVE, 131072);
  // An unlimited stack: 3/4 of _STK_LIM at most.
  assert.equal(argumentsArea(2 ** 62), 6 * 1024 * 1024);
  // A tiny stack, or no answer: the 32 pages the kernel always allows.
  assert.equal(argumentsArea(4096), 131072);
  assert.equal(argumentsArea(-1), 131072);
  assert.equal(argumentsArea(NaN), 131072);
  assert.equal(envSpace(-1), 0);
});

Deno.test("mergeEnv() imports, in order, only what fits in spaceBytes", () => {
  const big = "x".repeat(100);
  const each = envEntryBytes("B1", big); // 112
  const current = { A: "env" };
  const base = envBytes(new Map([["A", "env"]])); // 8 + 14
  const fromDir = new Map([
    ["B1", big],
    ["B2", big],
    ["B3", big],
    ["c", "small"],
  ]);
  const merged = mergeEnv(current, fromDir, {
    clear: false,
    override: false,
    spaceBytes: base + 2 * each + envEntryBytes("c", "small"),
  });
  assert.deepEqual([...merged.env.keys()], ["A", "B1", "B2", "c"]);
  assert.deepEqual(merged.omitted, [{ name: "B3", bytes: each }]);
  // Exactly full fits; one byte less does not.
  const exact = mergeEnv(current, new Map([["B1", big]]), {
    clear: false,
    override: false,
    spaceBytes: base + each,
  });
  assert.deepEqual(exact.omitted, []);
  const short = mergeEnv(current, new Map([["B1", big]]), {
    clear: false,
    override: false,
    spaceBytes: base + each - 1,
  });
  assert.deepEqual([...short.env.keys()], ["A"]);
  assert.deepEqual(short.omitted, [{ name: "B1", bytes: each }]);
});

Deno.test("mergeEnv() counts the given environment first and a replaced value once", () => {
  const space = envBytes(new Map([["A", "1234"]]));
  // The container's own A is over the space already: nothing larger joins it.
  const full = mergeEnv({ A: "123456" }, new Map([["B", "1"]]), {
    clear: false,
    override: false,
    spaceBytes: space,
  });
  assert.deepEqual(Object.fromEntries(full.env), { A: "123456" });
  assert.deepEqual(full.omitted, [{
    name: "B",
    bytes: envEntryBytes("B", "1"),
  }]);
  // Replacing A by a shorter value frees room: it is taken.
  const shorter = mergeEnv({ A: "123456" }, new Map([["A", "12"]]), {
    clear: false,
    override: true,
    spaceBytes: space,
  });
  assert.deepEqual(Object.fromEntries(shorter.env), { A: "12" });
  // A longer one that does not fit leaves the old value in place.
  const longer = mergeEnv({ A: "1234" }, new Map([["A", "123456"]]), {
    clear: false,
    override: true,
    spaceBytes: space,
  });
  assert.deepEqual(Object.fromEntries(longer.env), { A: "1234" });
  assert.equal(longer.omitted[0].name, "A");
  // Without spaceBytes there is no limit.
  const free = mergeEnv({}, new Map([["A", "x".repeat(10_000)]]), {
    clear: false,
    override: false,
  });
  assert.deepEqual(free.omitted, []);
});

Deno.test("envSpaceProblem() names the sizes and the E2BIG it prevents", () => {
  assert.equal(
    envSpaceProblem(120016, 1966080),
    "the environment has no room for its 120016 bytes: it would go over " +
      "the 1966080 bytes left of the kernel's limit (sysconf(_SC_ARG_MAX), " +
      "less 131072 for arguments), and every program started would fail " +
      "with E2BIG",
  );
});

Deno.test("envFileNameProblem() refuses names that are not file names", () => {
  assert.equal(envFileNameProblem("a.b"), undefined);
  assert.equal(envFileNameProblem("."), '"." is not a usable file name');
  assert.equal(envFileNameProblem(".."), '".." is not a usable file name');
  assert.equal(envFileNameProblem("a/b"), 'a file name cannot contain "/"');
  assert.equal(envFileNameProblem("x".repeat(255)), undefined);
  assert.equal(
    envFileNameProblem("x".repeat(251), 5),
    "the name is too long for a file name",
  );
  assert.equal(envFileNameProblem("café"), undefined);
  assert.equal(envFileNameProblem("caf\udce9"), "the name is not UTF-8");
});

// --- The shell dump round trip, under the shells that source it. ---

/** mulberry32: small, seeded, so a failure names the case that reproduces it. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY = [
  ..."'\"\\$`\n\r\t !*?[]{}~#&;|<>()%=-.,:@^\u0001\u007f\u00a0\u2028",
];

/** A random valid string without NUL: quotes, control characters, any plane. */
function randomValue(rand: () => number): string {
  const length = Math.floor(rand() * 24);
  let s = "";
  for (let i = 0; i < length; i++) {
    const kind = rand();
    let cp: number;
    if (kind < 0.35) {
      cp = NASTY[Math.floor(rand() * NASTY.length)].codePointAt(0)!;
    } else if (kind < 0.55) cp = 1 + Math.floor(rand() * 31); // C0 controls but NUL
    else if (kind < 0.75) cp = 0x20 + Math.floor(rand() * 0x60);
    else if (kind < 0.85) cp = 0x80 + Math.floor(rand() * 0x780);
    else if (kind < 0.95) {
      do cp = 0x800 + Math.floor(rand() * 0xf800); while (
        cp >= 0xd800 && cp <= 0xdfff
      );
    } else cp = 0x10000 + Math.floor(rand() * 0x100000);
    s += String.fromCodePoint(cp);
  }
  return s;
}

const CUTTABLE = ["é", "€", "😀", "\u2028"];

/** Random bytes but NUL, often not UTF-8: a latin-1 word, a cut character, binary. */
function randomBytes(rand: () => number): Uint8Array {
  const length = Math.floor(rand() * 24);
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    const kind = rand();
    if (kind < 0.3) out.push(0x80 + Math.floor(rand() * 0x80));
    else if (kind < 0.4) {
      // A character, whole or cut short.
      const ch = bytes(CUTTABLE[Math.floor(rand() * CUTTABLE.length)]);
      out.push(...ch.subarray(0, 1 + Math.floor(rand() * ch.length)));
    } else if (kind < 0.5) out.push(0x0a);
    else if (kind < 0.6) out.push(0x27); // '
    else out.push(1 + Math.floor(rand() * 0x7f));
  }
  return new Uint8Array(out);
}

async function sourceAndPrint(
  shell: string,
  dump: string,
  names: string[],
): Promise<string[]> {
  const file = await Deno.makeTempFile({ suffix: ".sh" });
  try {
    await Deno.writeFile(file, encodeBytes(dump));
    // printf's %s with a NUL after each value: values cannot hold NUL, and a
    // command substitution would eat trailing newlines.
    const script = `. '${file}' || exit 99\nprintf '%s\\000' ${
      names.map((n) => `"$${n}"`).join(" ")
    }\n`;
    const out = await new Deno.Command(shell, {
      args: ["-c", script],
      clearEnv: true,
      env: { PATH: "/usr/bin:/bin" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(
      out.code,
      0,
      `${shell}: ${new TextDecoder().decode(out.stderr)}`,
    );
    assert.equal(
      new TextDecoder().decode(out.stderr),
      "",
      `${shell} wrote to stderr`,
    );
    // decodeBytes, so that a value with bytes that are not UTF-8 compares.
    const text = decodeBytes(out.stdout);
    const values = text.split("\0");
    assert.equal(values.pop(), "");
    return values;
  } finally {
    await Deno.remove(file);
  }
}

const SHELLS = ["bash", "dash"];

Deno.test("renderShellDump() round-trips random values under bash and dash", async () => {
  // Three seeds of 300 values: six shell runs in all.
  for (const seed of [20261123, 49, 8377]) {
    const rand = prng(seed);
    const env: Record<string, string> = {};
    const names: string[] = [];
    for (let i = 0; i < 300; i++) {
      names.push(`V${i}`);
      env[`V${i}`] = randomValue(rand);
    }
    const dump = renderShellDump(env);
    for (const shell of SHELLS) {
      const values = await sourceAndPrint(shell, dump, names);
      assert.equal(values.length, names.length, shell);
      for (let i = 0; i < names.length; i++) {
        assert.equal(
          values[i],
          env[names[i]],
          `${shell}, seed ${seed}, case ${names[i]}: ${
            JSON.stringify(env[names[i]])
          }`,
        );
      }
    }
  }
});

Deno.test("renderShellDump() round-trips random bytes that are not UTF-8 under bash and dash", async () => {
  const rand = prng(383);
  const env: Record<string, string> = {};
  const names: string[] = [];
  for (let i = 0; i < 300; i++) {
    names.push(`V${i}`);
    env[`V${i}`] = decodeBytes(randomBytes(rand));
  }
  // Most values hold a byte that is not UTF-8: the case under test.
  assert.ok(Object.values(env).filter((v) => !v.isWellFormed()).length > 200);
  const dump = renderShellDump(env);
  for (const shell of SHELLS) {
    const values = await sourceAndPrint(shell, dump, names);
    assert.equal(values.length, names.length, shell);
    for (let i = 0; i < names.length; i++) {
      assert.deepEqual(
        encodeBytes(values[i]),
        encodeBytes(env[names[i]]),
        `${shell}, case ${names[i]}: ${JSON.stringify(env[names[i]])}`,
      );
    }
  }
});

Deno.test("renderShellDump() output is sourceable with awkward names under bash, bash --posix and dash", async () => {
  const env = {
    "a.b": "dot",
    "x-y": "dash's",
    a_b: "real",
    "1X": "digit",
    PPID: "1",
    SHELLOPTS: "x",
    HOME: "/nowhere",
    LAST: "",
  };
  for (const shell of [...SHELLS, "bash --posix"]) {
    const [cmd, ...flags] = shell.split(" ");
    const file = await Deno.makeTempFile({ suffix: ".sh" });
    try {
      await Deno.writeFile(
        file,
        new TextEncoder().encode(renderShellDump(env)),
      );
      const out = await new Deno.Command(cmd, {
        args: [
          ...flags,
          "-c",
          `set -e; . '${file}'; printf '%s|' "$a_b" "$x_y" "\${LAST-unset}" "\${HOME-unset}"`,
        ],
        clearEnv: true,
        env: { PATH: "/usr/bin:/bin" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `${shell}: ${stderr}`);
      assert.equal(stderr, "", shell);
      assert.equal(
        new TextDecoder().decode(out.stdout),
        "real|dash's||unset|",
        shell,
      );
    } finally {
      await Deno.remove(file);
    }
  }
});

Deno.test("isReadOnlyFsError() knows EROFS by its code, and nothing else", () => {
  const erofs = Object.assign(
    new Error("Read-only file system (os error 30): writefile '/etc/x'"),
    { code: "EROFS" },
  );
  assert.equal(isReadOnlyFsError(erofs), true);
  assert.equal(
    isReadOnlyFsError(
      Object.assign(new Deno.errors.PermissionDenied("denied"), {
        code: "EACCES",
      }),
    ),
    false,
  );
  assert.equal(isReadOnlyFsError(new Error("Read-only file system")), false);
  assert.equal(isReadOnlyFsError({ code: "EROFS" }), false);
  assert.equal(isReadOnlyFsError(undefined), false);
});

const ETC = {
  dir: "/etc/container_environment",
  shellDump: "/etc/container_environment.sh",
  jsonDump: "/etc/container_environment.json",
};
const RUN = {
  dir: "/run/container_environment",
  shellDump: "/run/container_environment.sh",
  jsonDump: "/run/container_environment.json",
};

Deno.test("readOnlyWarning() says in one line what moved where", () => {
  assert.equal(readOnlyWarning([]), undefined);
  assert.equal(
    readOnlyWarning([
      { from: ETC.dir, to: RUN.dir },
      { from: ETC.shellDump, to: RUN.shellDump },
      { from: ETC.jsonDump, to: RUN.jsonDump },
    ]),
    "/etc/container_environment, /etc/container_environment.sh and " +
      "/etc/container_environment.json are on a read-only file system: " +
      "writing /run/container_environment, /run/container_environment.sh and " +
      "/run/container_environment.json instead",
  );
  // After a startup script only the dumps are written.
  assert.equal(
    readOnlyWarning([{ from: ETC.shellDump, to: RUN.shellDump }]),
    "/etc/container_environment.sh is on a read-only file system: " +
      "writing /run/container_environment.sh instead",
  );
});

Deno.test("readOnlyWarning() names a fallback that failed too, with the first error, and a part without one", () => {
  const error = "Read-only file system (os error 30): mkdir '/run/x'";
  assert.equal(
    readOnlyWarning([
      { from: ETC.dir, to: RUN.dir, error },
      { from: ETC.shellDump, to: RUN.shellDump, error: "other" },
    ]),
    "/etc/container_environment and /etc/container_environment.sh are on a " +
      "read-only file system: unable to write /run/container_environment and " +
      `/run/container_environment.sh either (${error})`,
  );
  assert.equal(
    readOnlyWarning([
      { from: ETC.dir, to: RUN.dir },
      { from: ETC.shellDump, to: RUN.shellDump, error },
      { from: ETC.jsonDump },
    ]),
    "/etc/container_environment, /etc/container_environment.sh and " +
      "/etc/container_environment.json are on a read-only file system: " +
      "writing /run/container_environment instead; unable to write " +
      `/run/container_environment.sh either (${error}); not written`,
  );
});

Deno.test("staleEnvFiles() lists every entry but the variables written, in byte order", () => {
  assert.deepEqual(
    staleEnvFiles(
      ["PATH", "OLD", "=PATH.new", "A", "LANG"],
      new Set(["PATH", "LANG", "NEW"]),
    ),
    ["=PATH.new", "A", "OLD"],
  );
  assert.deepEqual(staleEnvFiles([], new Set(["A"])), []);
});

Deno.test("envFileReadProblem() names a listed name that is not UTF-8 instead of ENOENT", () => {
  assert.equal(
    envFileReadProblem("caf\uFFFD", "No such file or directory", true),
    "the file name is not UTF-8 (shown with U+FFFD for its bad bytes), " +
      "which a variable's name must be here: rename the file",
  );
  // A file gone since the listing, or any other error.
  assert.equal(
    envFileReadProblem("X", "No such file or directory", true),
    "unable to read it: No such file or directory",
  );
  assert.equal(
    envFileReadProblem("caf\uFFFD", "Permission denied", false),
    "unable to read it: Permission denied",
  );
});

Deno.test("compareByBytes() puts a prefix first and compares past an equal start", () => {
  assert.ok(compareByBytes("a", "ab") < 0);
  assert.ok(compareByBytes("ab", "a") > 0);
  assert.ok(compareByBytes("ab", "ac") < 0);
  assert.ok(compareByBytes("ac", "ab") > 0);
  assert.equal(compareByBytes("ab", "ab"), 0);
});

Deno.test("shellDumpEntries() leaves out every variable bash holds read-only", () => {
  // UID is never exported at all (NEVER_EXPORTED), and no other name
  // becomes it.
  const { entries, omitted } = shellDumpEntries({
    BASHOPTS: "x",
    BASH_VERSINFO: "x",
    EUID: "x",
    PPID: "x",
    SHELLOPTS: "x",
    UID: "x",
    OK: "x",
  });
  assert.deepEqual(entries.map((e) => e.name), ["OK"]);
  assert.deepEqual(omitted, [
    { name: "BASHOPTS", reason: 'bash holds "BASHOPTS" read-only' },
    { name: "BASH_VERSINFO", reason: 'bash holds "BASH_VERSINFO" read-only' },
    { name: "EUID", reason: 'bash holds "EUID" read-only' },
    { name: "PPID", reason: 'bash holds "PPID" read-only' },
    { name: "SHELLOPTS", reason: 'bash holds "SHELLOPTS" read-only' },
  ]);
});

Deno.test("shellDumpEntries() sorts renamed entries and name clashes in with the rest", () => {
  // "a.b" becomes a_b, decided after the names kept as they are; "-a"
  // would become _a, which is taken, and is left out after "9z" was.
  const { entries, omitted } = shellDumpEntries({
    b: "1",
    "a.b": "2",
    "9z": "3",
    _a: "4",
    "-a": "5",
  });
  assert.deepEqual(entries.map((e) => e.shellName), ["_a", "a_b", "b"]);
  assert.deepEqual(omitted.map((o) => o.name), ["-a", "9z"]);
});

Deno.test("mergeEnv() over the space takes a replacement no larger than the old value", () => {
  const space = envBytes(new Map([["A", "1234"]]));
  // Shorter, though still over the space: it frees room, so it is taken.
  const shorter = mergeEnv({ A: "12345678" }, new Map([["A", "123456"]]), {
    clear: false,
    override: true,
    spaceBytes: space,
  });
  assert.deepEqual(Object.fromEntries(shorter.env), { A: "123456" });
  assert.deepEqual(shorter.omitted, []);
  // As long: it takes no more room.
  const same = mergeEnv({ A: "123456" }, new Map([["A", "654321"]]), {
    clear: false,
    override: true,
    spaceBytes: space,
  });
  assert.deepEqual(Object.fromEntries(same.env), { A: "654321" });
  assert.deepEqual(same.omitted, []);
});

Deno.test("argumentsArea() of an infinite answer is the floor, as of no answer", () => {
  assert.equal(argumentsArea(Infinity), 131072);
});

Deno.test("readOnlyWarning() says a part without a fallback was not written, error or not", () => {
  assert.equal(
    readOnlyWarning([{ from: "/etc/x", error: "EROFS" }]),
    "/etc/x is on a read-only file system: not written",
  );
});
