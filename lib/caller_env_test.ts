import assert from "node:assert/strict";
import { decodeLauncherText } from "./caller_env.ts";
import { parseEnvBlock } from "./env_bytes.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("decodeLauncherText() turns lines into entries and undoes the escapes", () => {
  const block = decodeLauncherText(bytes("A=1\nB=x\\ny\\\\n\\\\\nC=\n"));
  assert.deepEqual([...parseEnvBlock(block)], [
    ["A", "1"],
    ["B", "x\ny\\n\\"],
    ["C", ""],
  ]);
});

Deno.test("decodeLauncherText() keeps bytes that are not UTF-8", () => {
  const block = decodeLauncherText(
    new Uint8Array([0x4e, 0xff, 0x3d, 0xe9, 0x0a]),
  );
  assert.deepEqual(block, new Uint8Array([0x4e, 0xff, 0x3d, 0xe9, 0]));
});

Deno.test("decodeLauncherText() of an empty environment is empty", () => {
  assert.equal(parseEnvBlock(decodeLauncherText(bytes("\n"))).size, 0);
});
