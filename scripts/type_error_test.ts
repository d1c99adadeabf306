/**
 * A type error fails the unit suite with the compiler's message: `deno
 * test`, as deno.json's test:unit task runs it, type-checks before it runs
 * anything (a mutation that only broke the types was once "caught" by no
 * test at all: the run stopped before the first one).
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;

/** The flags of deno.json's test:unit task (before the directories). */
async function unitTestFlags(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const command: string = config.tasks["test:unit"];
  const words = command.split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "test"], command);
  return words.slice(2).filter((w) => w.startsWith("-"));
}

Deno.test("deno test as test:unit runs it fails on a type error, with the compiler's message, and runs no test", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/mod.ts`,
      'export function twice(n: number): number {\n  return "2" * n;\n}\n',
    );
    await Deno.writeTextFile(
      `${dir}/mod_test.ts`,
      'import { twice } from "./mod.ts";\n' +
        'Deno.test("twice() doubles", () => {\n' +
        '  if (twice(2) !== 4) throw new Error("no");\n' +
        "});\n",
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "test",
        ...await unitTestFlags(),
        "--config",
        `${ROOT}deno.json`,
        `${dir}/mod_test.ts`,
      ],
      env: { NO_COLOR: "1", DENO_NO_PACKAGE_JSON: "1" },
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    assert.notEqual(out.code, 0, text);
    assert.match(
      text,
      /TS2362 \[ERROR\]: The left-hand side of an arithmetic operation must be of type 'any', 'number', 'bigint' or an enum type\./,
    );
    assert.match(text, /mod\.ts:2:10/);
    assert.doesNotMatch(text, /twice\(\) doubles/, "a test ran");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
