import assert from "node:assert/strict";
import {
  cstr,
  cstrArray,
  cstrArrayOfBytes,
  cstrOfBytes,
  readCString,
} from "./cstr.ts";

const bytes = (...b: number[]) => new Uint8Array(b);

/** The C strings the NULL-terminated pointer array points to. */
function strings(array: BigUint64Array): (string | undefined)[] {
  return [...array].map((p) =>
    readCString(p === 0n ? null : Deno.UnsafePointer.create(p))
  );
}

Deno.test("cstr() is the UTF-8 bytes and one NUL", () => {
  assert.deepEqual(cstr("é!"), bytes(0xc3, 0xa9, 0x21, 0));
  assert.deepEqual(cstr(""), bytes(0));
});

Deno.test("cstr() and cstrOfBytes() refuse an embedded NUL, naming the string", () => {
  assert.throws(() => cstr("a\0b"), {
    name: "TypeError",
    message: 'String contains a NUL byte: "a\\u0000b"',
  });
  assert.throws(() => cstrOfBytes(bytes(0x61, 0)), {
    name: "TypeError",
    message: "Bytes contain a NUL byte",
  });
});

Deno.test("cstrOfBytes() keeps bytes that are not UTF-8", () => {
  assert.deepEqual(cstrOfBytes(bytes(0xff, 0x61)), bytes(0xff, 0x61, 0));
});

Deno.test("cstrArray() points at each string in order and ends with NULL", () => {
  const argv = cstrArray(["ls", "-l", ""]);
  assert.equal(argv.array.length, 4);
  assert.equal(argv.keep.length, 3);
  assert.deepEqual(strings(argv.array), ["ls", "-l", "", undefined]);
  assert.equal(cstrArray([]).array.length, 1);
  assert.equal(cstrArray([]).array[0], 0n);
});

Deno.test("cstrArrayOfBytes() points at each byte string, NUL-terminated", () => {
  const env = cstrArrayOfBytes([bytes(0x41, 0x3d, 0x31), bytes(0x42, 0x3d)]);
  assert.deepEqual(strings(env.array), ["A=1", "B=", undefined]);
  assert.throws(() => cstrArrayOfBytes([bytes(0)]), TypeError);
});

Deno.test("readCString() reads up to the NUL, and NULL as undefined", () => {
  const buf = cstr("hello");
  assert.equal(readCString(Deno.UnsafePointer.of(buf)), "hello");
  assert.equal(readCString(null), undefined);
});
