import assert from "node:assert/strict";
import { C, LAYOUT, libc, SYMBOLS } from "./libc.ts";

// The layouts and constants in libc.ts are written by hand; a C compiler
// knows them for certain. Skipped where no compiler is installed (the
// image), run wherever the tools are developed.
function findCompiler(): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    for (const name of ["cc", "gcc"]) {
      try {
        if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
      } catch {
        // not in this directory
      }
    }
  }
  return undefined;
}

const compiler = findCompiler();

// Every header a constant of C may come from; a constant from another one
// makes the test fail to compile: add its header here.
const HEADERS = [
  "errno.h",
  "fcntl.h",
  "grp.h",
  "poll.h",
  "pwd.h",
  "signal.h",
  "spawn.h",
  "stddef.h",
  "stdio.h",
  "sys/epoll.h",
  "sys/eventfd.h",
  "sys/inotify.h",
  "sys/ioctl.h",
  "sys/prctl.h",
  "sys/resource.h",
  "sys/signalfd.h",
  "sys/stat.h",
  "sys/types.h",
  "sys/wait.h",
  "termios.h",
  "unistd.h",
];

/** Compiles and runs `body` (statements printing JSON members), returns the object. */
async function askC(body: string[]): Promise<Record<string, number>> {
  const dir = await Deno.makeTempDir();
  try {
    const source = [
      "#define _GNU_SOURCE",
      ...HEADERS.map((h) => `#include <${h}>`),
      "int main(void) {",
      '  printf("{");',
      ...body.map((line, i) =>
        `  ${line}${i < body.length - 1 ? ' printf(",");' : ""}`
      ),
      '  printf("}\\n");',
      "  return 0;",
      "}",
    ].join("\n");
    await Deno.writeTextFile(`${dir}/layout.c`, source);
    const cc = await new Deno.Command(compiler!, {
      args: ["-o", `${dir}/layout`, `${dir}/layout.c`],
    }).output();
    assert.equal(cc.code, 0, new TextDecoder().decode(cc.stderr));
    const out = await new Deno.Command(`${dir}/layout`).output();
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function member(key: string, expr: string): string {
  return `printf("\\"${key}\\": %ld", (long)(${expr}));`;
}

Deno.test({
  name: "LAYOUT matches the C compiler's sizes and offsets",
  ignore: compiler === undefined,
  fn: async () => {
    const fields = (struct: string, layout: Record<string, number>) =>
      Object.keys(layout).map((f) =>
        f === "size"
          ? member(`${struct}.size`, `sizeof(struct ${struct})`)
          : member(`${struct}.${f}`, `offsetof(struct ${struct}, ${f})`)
      );
    const actual = await askC([
      member("sigset", "sizeof(sigset_t)"),
      member("spawnattr", "sizeof(posix_spawnattr_t)"),
      member("fileActions", "sizeof(posix_spawn_file_actions_t)"),
      ...fields("passwd", LAYOUT.passwd),
      ...fields("group", LAYOUT.group),
      ...fields("pollfd", LAYOUT.pollfd),
      ...fields("signalfd_siginfo", LAYOUT.signalfd_siginfo),
    ]);
    const expected: Record<string, number> = {
      sigset: LAYOUT.sigset,
      spawnattr: LAYOUT.spawnattr,
      fileActions: LAYOUT.fileActions,
    };
    for (
      const struct of ["passwd", "group", "pollfd", "signalfd_siginfo"] as const
    ) {
      for (const [f, v] of Object.entries(LAYOUT[struct])) {
        expected[`${struct}.${f}`] = v;
      }
    }
    assert.deepEqual(actual, expected);
  },
});

Deno.test({
  name: "C matches the values of the C headers",
  ignore: compiler === undefined,
  fn: async () => {
    const actual = await askC(Object.keys(C).map((name) => member(name, name)));
    assert.deepEqual(actual, { ...C });
  },
});

Deno.test("libc() binds every symbol of the table", () => {
  const symbols = libc();
  for (const [name, def] of Object.entries(SYMBOLS)) {
    const fn = symbols[name as keyof typeof SYMBOLS];
    if ("optional" in def && def.optional && fn === null) continue;
    assert.equal(typeof fn, "function", name);
  }
});
