import assert from "node:assert/strict";
import {
  PAM_ENV_HEADER,
  PAM_ENV_MAX_LINE,
  pamEnvProblem,
  renderPamEnvFile,
} from "./pam_env.ts";
import { decodeBytes, encodeBytes } from "../lib/env_bytes.ts";

/**
 * What pam_env (Linux-PAM 1.5.2/1.5.3, no libeconf) makes of an env file,
 * as its documentation and source describe the reading: lines of at most
 * PAM_ENV_MAX_LINE bytes (a longer one ends the reading), `#` to the end of
 * the line dropped, a trailing backslash joining the next line, `export `
 * skipped, names of [A-Za-z0-9_], and a value that starts with a quote
 * losing it and a quote that ends it. The container test
 * (tests/container/cron_test.ts) checks the same values through the real
 * pam_env and cron.
 */
function pamEnvRead(text: string): Map<string, string> {
  const env = new Map<string, string>();
  const lines = encodeBytes(text);
  let start = 0;
  let pending = "";
  while (start < lines.length) {
    let end = lines.indexOf(0x0a, start);
    end = end < 0 ? lines.length : end + 1;
    if (end - start > PAM_ENV_MAX_LINE) break;
    let line = decodeBytes(lines.subarray(start, end));
    start = end;
    if (/^[ \t\n]*(#|$)/.test(line)) continue;
    line = line.replace(/^[ \t\n]*/, "");
    const hash = line.indexOf("#");
    if (hash >= 0) line = line.slice(0, hash);
    else if (/\\[ \t\n]*$/.test(line)) {
      pending += line.replace(/\\[ \t\n]*$/, "");
      continue;
    }
    line = (pending + line).replace(/\n$/, "");
    pending = "";
    if (line.startsWith("export ")) line = line.slice(7);
    const eq = line.indexOf("=");
    if (eq <= 0 || !/^[A-Za-z0-9_]+$/.test(line.slice(0, eq))) continue;
    let value = line.slice(eq + 1);
    if (value.startsWith('"') || value.startsWith("'")) {
      value = value.slice(1).replace(/["']$/, "");
    }
    env.set(line.slice(0, eq), value);
  }
  return env;
}

/** Values that a naive `NAME=VALUE` or a shell's quoting would get wrong. */
const HARD_VALUES: Record<string, string> = {
  PLAIN: "production",
  EMPTY: "",
  SPACES: "  two leading, two trailing  ",
  TAB: "a\tb",
  DQUOTED: '"quoted"',
  SQUOTED: "'quoted'",
  ENDS_IN_QUOTE: 'say "hi"',
  ONLY_QUOTE: '"',
  BACKSLASH_END: "C:\\dir\\",
  BACKSLASH_BLANK: "a\\  ",
  DOLLAR: "$HOME ${PATH} $(id) `id`",
  EQUALS: "a=b=c",
  PERCENT: "50%",
  UNICODE: "café ☕",
  LATIN1: decodeBytes(new Uint8Array([0x63, 0x61, 0x66, 0xe9])),
  CR: "a\rb",
};

Deno.test("renderPamEnvFile() writes values pam_env reads back byte-exact", () => {
  const { text, omitted } = renderPamEnvFile(HARD_VALUES);
  assert.deepEqual(omitted, []);
  const read = pamEnvRead(text);
  assert.deepEqual(Object.fromEntries(read), HARD_VALUES);
  for (const [name, value] of read) {
    assert.deepEqual(encodeBytes(value), encodeBytes(HARD_VALUES[name]));
  }
});

Deno.test("renderPamEnvFile() writes one quoted line per variable, by name, after a comment", () => {
  const { text } = renderPamEnvFile({ B: "2", A: 'x"y', LANG: "C.UTF-8" });
  assert.equal(
    text,
    PAM_ENV_HEADER + 'A="x"y"\nB="2"\nLANG="C.UTF-8"\n',
  );
  assert.match(PAM_ENV_HEADER, /^# [^\n]*\n$/);
});

Deno.test("renderPamEnvFile() leaves out HOME, USER and the others never exported", () => {
  const { text, omitted } = renderPamEnvFile({
    HOME: "/root",
    USER: "root",
    SHELL: "/bin/bash",
    KEEP: "1",
  });
  assert.equal(text, PAM_ENV_HEADER + 'KEEP="1"\n');
  assert.deepEqual(omitted, []);
});

Deno.test("renderPamEnvFile() leaves out what pam_env cannot read, saying why, and keeps the rest", () => {
  const long = "x".repeat(PAM_ENV_MAX_LINE);
  const { text, omitted } = renderPamEnvFile({
    A_HASH: "pass#word",
    B_NEWLINE: "two\nlines",
    "C.DOT": "1",
    D_LONG: long,
    E_AFTER: "kept",
  });
  assert.equal(text, PAM_ENV_HEADER + 'E_AFTER="kept"\n');
  assert.deepEqual(omitted, [
    {
      name: "A_HASH",
      reason: "cron jobs go without it: " +
        'pam_env reads "#" as the start of a comment, even in a value',
    },
    {
      name: "B_NEWLINE",
      reason: "cron jobs go without it: " +
        "pam_env cannot read a newline in a value",
    },
    {
      name: "C.DOT",
      reason: "cron jobs go without it: " +
        "pam_env takes only names of ASCII letters, digits and _",
    },
    {
      name: "D_LONG",
      reason: `cron jobs go without it: its line of ${
        PAM_ENV_MAX_LINE + 10
      } bytes is longer than the 8191 pam_env reads`,
    },
  ]);
  assert.deepEqual(Object.fromEntries(pamEnvRead(text)), { E_AFTER: "kept" });
});

Deno.test("pamEnvProblem() takes a line of exactly PAM_ENV_MAX_LINE bytes, not one more", () => {
  // `N="` + value + `"\n` is 5 bytes around the value.
  const fits = "x".repeat(PAM_ENV_MAX_LINE - 5);
  assert.equal(pamEnvProblem("N", fits), undefined);
  assert.match(pamEnvProblem("N", fits + "x") ?? "", /8192 bytes/);
  // Bytes, not characters: "é" is two.
  assert.match(pamEnvProblem("N", "é".repeat(4094)) ?? "", /8193 bytes/);
});
