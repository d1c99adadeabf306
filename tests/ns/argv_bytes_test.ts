/**
 * Arguments that are not UTF-8 reach the command byte-exact through all
 * three tools, as they did through phusion's (Python's surrogateescape).
 * Each sandbox's PID 1 is a bash script that spells the bytes with $'...'
 * (a test cannot put them in an argv: Deno.Command takes text) and writes
 * what came out, in hex, to /shared.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DIST, runSandbox, script } from "./_sandbox.ts";
import { ignore } from "./_my_init.ts";

/** The hex of the bytes of `parts` (text as UTF-8, arrays as bytes). */
function hex(...parts: (string | number[])[]): string {
  return parts.flatMap((p) =>
    typeof p === "string" ? [...new TextEncoder().encode(p)] : p
  ).map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** `od` of FILE into /shared/NAME, as one line of hex. */
const odTo = (file: string, name: string) =>
  `od -An -tx1 -v ${file} | tr -d ' \\n' > /shared/${name}`;

// A file whose name is not UTF-8, made and then looked for by bash.
const CAFE = "/tmp/$'caf\\xe9'";
const CAFE_GONE =
  `if [ -e ${CAFE} ]; then echo left; else echo gone; fi > /shared/cafe`;

Deno.test({
  name: "my_init passes main command arguments that are not UTF-8 byte-exact",
  ignore,
  async fn() {
    const myInit = `${DIST}/my_init --skip-startup-files --skip-runit --`;
    const r = await runSandbox({
      command: [
        "bash",
        "-c",
        [
          `${myInit} printf '[%s]' $'\\xff\\xfe' > /tmp/out`,
          "echo $? > /shared/printf_rc",
          odTo("/tmp/out", "printf"),
          `: > ${CAFE}`,
          `${myInit} rm ${CAFE}`,
          "echo $? > /shared/rm_rc",
          CAFE_GONE,
        ].join("\n"),
      ],
    });
    assert.equal(r.shared.printf_rc, "0\n", r.stderr);
    assert.equal(r.shared.printf, hex("[", [0xff, 0xfe], "]"), r.stderr);
    assert.equal(r.shared.rm_rc, "0\n", r.stderr);
    assert.equal(r.shared.cafe, "gone\n", r.stderr);
  },
});

Deno.test({
  name: "setuser passes command arguments that are not UTF-8 byte-exact",
  ignore,
  async fn() {
    const setuser = `${DIST}/setuser nobody`;
    const r = await runSandbox({
      command: [
        "bash",
        "-c",
        [
          `${setuser} printf '[%s]' $'\\xff\\xfe' > /tmp/out`,
          "echo $? > /shared/printf_rc",
          odTo("/tmp/out", "printf"),
          `: > ${CAFE}`,
          `chown nobody ${CAFE}`,
          `${setuser} rm ${CAFE}`,
          "echo $? > /shared/rm_rc",
          CAFE_GONE,
        ].join("\n"),
      ],
    });
    assert.equal(r.shared.printf_rc, "0\n", r.stderr);
    assert.equal(r.shared.printf, hex("[", [0xff, 0xfe], "]"), r.stderr);
    assert.equal(r.shared.rm_rc, "0\n", r.stderr);
    assert.equal(r.shared.cafe, "gone\n", r.stderr);
  },
});

Deno.test({
  name:
    "install_clean passes apt-get arguments that are not UTF-8 byte-exact, options included",
  ignore,
  async fn() {
    // A stand-in apt-get first in PATH logs each call's arguments, each
    // ended by NUL. -t takes the next word as its value (cli.ts).
    const r = await runSandbox({
      files: {
        "/fake/apt-get": script(
          `[ "$1" = install ] && printf '%s\\0' "$@" > /tmp/install; exit 0`,
        ),
      },
      command: [
        "bash",
        "-c",
        [
          `PATH=/fake:$PATH ${DIST}/install_clean -t $'caf\\xe9' $'pkg\\xff'`,
          "echo $? > /shared/rc",
          odTo("/tmp/install", "install"),
        ].join("\n"),
      ],
    });
    assert.equal(r.shared.rc, "0\n", r.stderr);
    const nul = [0];
    assert.equal(
      r.shared.install,
      hex(
        ..."install -y --no-install-recommends -t".split(" ").flatMap((
          w,
        ) => [w, nul]),
        [0x63, 0x61, 0x66, 0xe9],
        nul,
        "pkg",
        [0xff],
        nul,
      ),
      r.stderr,
    );
  },
});
