// A Stryker checker that asks `deno check` whether a mutant compiles.
//
// Stryker's own TypeScript checker builds a tsconfig project and cannot
// resolve Deno's imports (`.ts` extensions, `npm:` specifiers, the `Deno`
// namespace), and the test runner cannot tell either: Stryker runs every
// mutant of a file from one instrumented copy marked `// @ts-nocheck`. So
// this checker writes each mutant as its own copy of the file into a mirror
// of the source folders (relative imports still resolve there) and runs
// `deno check` over a group of copies at once; a copy the compiler rejects
// is a CompileError with the compiler's message, not a survivor.
//
// Loaded by scripts/mutate.ts's Stryker configuration (`plugins`). It
// imports nothing of Stryker's (a plugin is a plain `{ kind, name,
// injectableClass }`, what @stryker-mutator/api's declareClassPlugin()
// returns), so that scripts/mutate_checker_test.ts can run it on Deno.

import { execFile } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";

// The folders a mutated module may import from, and the configuration
// (import map, compiler options) that `deno check` reads.
const MIRRORED = ["lib", "init", "setuser", "install_clean", "deno.json"];
// Copies per `deno check`: one process start for many mutants.
const GROUP_SIZE = 40;

// Offset in `text` of a 0-based line and column (Stryker's internal form).
function offsetOf(lineStarts, { line, column }) {
  return lineStarts[line] + column;
}

function lineStartsOf(text) {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\n") starts.push(i + 1);
  }
  return starts;
}

/** The source of `original` with `mutant` applied. */
export function applyMutant(original, mutant) {
  const starts = lineStartsOf(original);
  const from = offsetOf(starts, mutant.location.start);
  const to = offsetOf(starts, mutant.location.end);
  return original.slice(0, from) + mutant.replacement + original.slice(to);
}

/**
 * Splits `deno check`'s output (no colours) into one message per file:
 * each diagnostic ends with "at file:///PATH:LINE:COL".
 */
export function messagesByFile(output) {
  const byFile = new Map();
  let block = [];
  for (const line of output.split("\n")) {
    block.push(line);
    const at = /^\s+at file:\/\/(\/.*):\d+:\d+$/.exec(line);
    if (at) {
      const file = at[1];
      const text = block.join("\n").trim();
      byFile.set(
        file,
        byFile.has(file) ? `${byFile.get(file)}\n\n${text}` : text,
      );
      block = [];
    } else if (/^(Check|Found \d+ error|error: )/.test(line.trim())) {
      block = [];
    }
  }
  return byFile;
}

/** The checker: Stryker creates it in a worker whose cwd is the repository. */
export class DenoChecker {
  static inject = [];
  root = process.cwd();
  mirror = path.join(this.root, "results", "mutate", ".check");
  deno = path.join(this.root, "node_modules", ".bin", "deno");
  sources = new Map();

  /** For tests: another repository root, mirror and runtime. */
  static at(root, mirror, deno) {
    const checker = new DenoChecker();
    Object.assign(checker, { root, mirror, deno });
    return checker;
  }

  init() {
    rmSync(this.mirror, { recursive: true, force: true });
    mkdirSync(this.mirror, { recursive: true });
    for (const entry of MIRRORED) {
      cpSync(path.join(this.root, entry), path.join(this.mirror, entry), {
        recursive: true,
      });
    }
    return Promise.resolve();
  }

  group(mutants) {
    const byFile = new Map();
    for (const m of mutants) {
      const ids = byFile.get(m.fileName) ?? [];
      ids.push(m.id);
      byFile.set(m.fileName, ids);
    }
    const groups = [];
    for (const ids of byFile.values()) {
      for (let i = 0; i < ids.length; i += GROUP_SIZE) {
        groups.push(ids.slice(i, i + GROUP_SIZE));
      }
    }
    return Promise.resolve(groups);
  }

  original(fileName) {
    if (!this.sources.has(fileName)) {
      this.sources.set(fileName, readFileSync(fileName, "utf8"));
    }
    return this.sources.get(fileName);
  }

  async check(mutants) {
    const copies = new Map();
    for (const m of mutants) {
      const rel = path.relative(this.root, m.fileName);
      const copy = path.join(
        this.mirror,
        path.dirname(rel),
        `_mutant${m.id}_${path.basename(rel)}`,
      );
      writeFileSync(copy, applyMutant(this.original(m.fileName), m));
      copies.set(m.id, copy);
    }
    const output = await new Promise((resolve) => {
      execFile(
        this.deno,
        ["check", "--no-lock", ...copies.values()],
        {
          cwd: this.mirror,
          env: { ...process.env, NO_COLOR: "1", DENO_NO_PACKAGE_JSON: "1" },
          maxBuffer: 64 << 20,
        },
        (_error, stdout, stderr) => resolve(`${stdout}\n${stderr}`),
      );
    });
    const messages = messagesByFile(output);
    /** @type {Record<string, { status: string; reason?: string }>} */
    const results = {};
    for (const [id, copy] of copies) {
      const message = messages.get(copy);
      results[id] = message === undefined
        ? { status: "passed" }
        : { status: "compileError", reason: message };
      rmSync(copy, { force: true });
    }
    return results;
  }
}

export const strykerPlugins = [
  { kind: "Checker", name: "deno", injectableClass: DenoChecker },
];
