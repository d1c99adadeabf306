import assert from "node:assert/strict";
import {
  applyMutant,
  DenoChecker,
  messagesByFile,
} from "../mutate/deno_checker.mjs";

const at = (line: number, column: number) => ({ line, column });

Deno.test("applyMutant() replaces the span between 0-based positions", () => {
  const text = "const a = 1;\nreturn a + b;\n";
  assert.equal(
    applyMutant(text, {
      location: { start: at(1, 7), end: at(1, 12) },
      replacement: "a - b",
    }),
    "const a = 1;\nreturn a - b;\n",
  );
  assert.equal(
    applyMutant(text, {
      location: { start: at(0, 10), end: at(1, 6) },
      replacement: "2;",
    }),
    "const a = 2; a + b;\n",
  );
});

Deno.test("messagesByFile() gives each file its diagnostics", () => {
  const output = [
    "Check /m/_mutant1_a.ts",
    "Check /m/_mutant2_a.ts",
    "TS2322 [ERROR]: Type 'string' is not assignable to type 'number'.",
    '  return "x";',
    "  ~~~~~~",
    "    at file:///m/_mutant1_a.ts:2:3",
    "",
    "TS2304 [ERROR]: Cannot find name 'y'.",
    "  return y;",
    "    at file:///m/_mutant1_a.ts:3:10",
    "",
    "Found 2 errors.",
    "",
    "error: Type checking failed.",
  ].join("\n");
  const byFile = messagesByFile(output);
  assert.deepEqual([...byFile.keys()], ["/m/_mutant1_a.ts"]);
  assert.equal(
    byFile.get("/m/_mutant1_a.ts"),
    "TS2322 [ERROR]: Type 'string' is not assignable to type 'number'.\n" +
      '  return "x";\n  ~~~~~~\n    at file:///m/_mutant1_a.ts:2:3\n\n' +
      "TS2304 [ERROR]: Cannot find name 'y'.\n  return y;\n" +
      "    at file:///m/_mutant1_a.ts:3:10",
  );
});

Deno.test("DenoChecker reports a mutant the compiler rejects as a compile error with its message, and passes the others", async () => {
  const root = await Deno.makeTempDir();
  try {
    for (const dir of ["lib", "init", "setuser", "install_clean"]) {
      await Deno.mkdir(`${root}/${dir}`);
    }
    await Deno.writeTextFile(`${root}/deno.json`, "{}\n");
    await Deno.writeTextFile(`${root}/lib/util.ts`, "export const one = 1;\n");
    await Deno.writeTextFile(
      `${root}/lib/f.ts`,
      'import { one } from "./util.ts";\n' +
        "export function f(n: number): number {\n  return n + one;\n}\n",
    );
    const checker = DenoChecker.at(root, `${root}/.mirror`, Deno.execPath());
    await checker.init();
    const mutant = (id: string, replacement: string) => ({
      id,
      fileName: `${root}/lib/f.ts`,
      mutatorName: "M",
      replacement,
      location: { start: at(2, 9), end: at(2, 16) },
    });
    const mutants = [mutant("1", '"x"'), mutant("2", "n - one")];
    assert.deepEqual(await checker.group(mutants), [["1", "2"]]);
    const results = await checker.check(mutants);
    assert.deepEqual(results["2"], { status: "passed" });
    assert.equal(results["1"].status, "compileError");
    assert.match(
      results["1"].reason ?? "",
      /^TS2322 \[ERROR\]: Type 'string' is not assignable to type 'number'\.\n {2}return "x";\n/,
    );
    // The copies are gone; the original is untouched.
    assert.deepEqual(
      [...Deno.readDirSync(`${root}/.mirror/lib`)].map((e) => e.name).sort(),
      ["f.ts", "util.ts"],
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
