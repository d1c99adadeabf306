/**
 * C string and `char *const[]` helpers for the FFI calls in `libc.ts`.
 *
 * @module
 */

import { encodeBytes } from "./env_bytes.ts";

/**
 * Encodes `s` as a NUL-terminated buffer: UTF-8, and each byte that
 * lib/env_bytes.ts escaped (an argument or file name that is not UTF-8)
 * as that byte again. Throws on an embedded NUL.
 */
export function cstr(s: string): Uint8Array<ArrayBuffer> {
  if (s.includes("\0")) {
    throw new TypeError(`String contains a NUL byte: ${JSON.stringify(s)}`);
  }
  return cstrOfBytes(encodeBytes(s));
}

/** `bytes` plus a terminating NUL. Throws on an embedded NUL. */
export function cstrOfBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (bytes.includes(0)) throw new TypeError("Bytes contain a NUL byte");
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/**
 * A NULL-terminated array of C strings (`char *const argv[]`). The pointer
 * array only points into `keep`; hold on to the whole value until the call
 * that uses it has returned, or the garbage collector may free the strings.
 */
export interface CStringArray {
  /** The pointer array to pass as `char *const[]`. */
  readonly array: BigUint64Array<ArrayBuffer>;
  /** The string buffers the pointers point into. */
  readonly keep: Uint8Array[];
}

function pointerArray(keep: Uint8Array[]): CStringArray {
  const array = new BigUint64Array(keep.length + 1);
  keep.forEach((buf, i) => {
    array[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
  });
  return { array, keep };
}

/** Builds a `char *const[]` from `items`. */
export function cstrArray(items: readonly string[]): CStringArray {
  return pointerArray(items.map(cstr));
}

/** Builds a `char *const[]` from byte strings (an environment, see env_bytes.ts). */
export function cstrArrayOfBytes(items: readonly Uint8Array[]): CStringArray {
  return pointerArray(items.map(cstrOfBytes));
}

/** Reads a C string at `p`, or returns undefined for NULL. */
export function readCString(p: Deno.PointerValue): string | undefined {
  return p === null ? undefined : Deno.UnsafePointerView.getCString(p);
}
