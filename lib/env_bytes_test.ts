import assert from "node:assert/strict";
import {
  decodeBytes,
  encodeBytes,
  envEntries,
  isText,
  parseEnvBlock,
} from "./env_bytes.ts";

const bytes = (...b: number[]) => new Uint8Array(b);

Deno.test("decodeBytes() keeps UTF-8 as text", () => {
  assert.equal(decodeBytes(new TextEncoder().encode("héllo ✓ 𝄞")), "héllo ✓ 𝄞");
  assert.ok(isText(decodeBytes(new TextEncoder().encode("héllo"))));
});

Deno.test("decodeBytes() escapes each byte that is not UTF-8 and encodeBytes() gives it back", () => {
  const cases = [
    bytes(0xff),
    bytes(0x61, 0xff, 0x62),
    bytes(0xc3), // a sequence cut short
    bytes(0xc3, 0xa9, 0xe9), // é in UTF-8, then é in latin-1
    bytes(0xed, 0xa0, 0x80), // an encoded surrogate is not UTF-8
    bytes(0xf4, 0x90, 0x80, 0x80), // above U+10FFFF
    bytes(0xc0, 0xaf), // overlong
    bytes(0xe2, 0x9c), // cut, then the end
  ];
  for (const b of cases) {
    const text = decodeBytes(b);
    assert.equal(isText(text), false, `${b}`);
    assert.deepEqual(encodeBytes(text), b, `${b}`);
  }
  assert.equal(decodeBytes(bytes(0x61, 0xff, 0x62)), "a\udcffb");
  assert.equal(decodeBytes(bytes(0xc3, 0xa9, 0xe9)), "é\udce9");
});

Deno.test("encodeBytes() turns other lone surrogates into U+FFFD", () => {
  assert.deepEqual(encodeBytes("\ud800"), bytes(0xef, 0xbf, 0xbd));
});

Deno.test("parseEnvBlock() splits at NUL and the first =", () => {
  const block = new Uint8Array([
    ...new TextEncoder().encode("A=1\0B=x=y\0EMPTY=\0NOEQ\0A=2\0"),
    ...[0x4c, 0x3d, 0xe9, 0], // L=\xe9
    ...new TextEncoder().encode("=lead\0LAST=z"),
  ]);
  const env = parseEnvBlock(block);
  assert.deepEqual([...env], [
    ["A", "1"],
    ["B", "x=y"],
    ["EMPTY", ""],
    ["L", "\udce9"],
    ["LAST", "z"],
  ]);
  assert.deepEqual(envEntries(env)[3], bytes(0x4c, 0x3d, 0xe9));
});

Deno.test("parseEnvBlock() of nothing is an empty environment", () => {
  assert.equal(parseEnvBlock(new Uint8Array()).size, 0);
});

Deno.test("decodeBytes() keeps valid sequences of every length and lead byte whole among bytes that are not UTF-8", () => {
  // The lowest and highest lead byte of each length: C2 DF, E0 EF, F0 F4.
  const texts = [
    "\u0080",
    "\u07ff",
    "\u0800",
    "\uffff",
    "\u{10000}",
    "\u{10ffff}",
  ];
  for (const text of texts) {
    const utf8 = new TextEncoder().encode(text);
    assert.equal(decodeBytes(bytes(0xff, ...utf8)), `\udcff${text}`, text);
    assert.equal(decodeBytes(bytes(...utf8, 0xff)), `${text}\udcff`, text);
  }
});

Deno.test("decodeBytes() keeps a leading byte order mark", () => {
  assert.equal(decodeBytes(bytes(0xef, 0xbb, 0xbf, 0x61)), "\ufeffa");
  assert.equal(decodeBytes(bytes(0xef, 0xbb, 0xbf, 0xff)), "\ufeff\udcff");
});

Deno.test("encodeBytes() turns a lone surrogate above the escapes into U+FFFD", () => {
  assert.deepEqual(encodeBytes("\udd00"), bytes(0xef, 0xbf, 0xbd));
  assert.deepEqual(encodeBytes("\udfff"), bytes(0xef, 0xbf, 0xbd));
});

Deno.test("parseEnvBlock() skips an empty entry at the start", () => {
  assert.deepEqual([...parseEnvBlock(bytes(0, 0x41, 0x3d, 0x31, 0))], [[
    "A",
    "1",
  ]]);
});
