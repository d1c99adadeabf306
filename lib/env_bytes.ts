/**
 * Environment variables as the kernel holds them: bytes, not text.
 *
 * A variable may hold any bytes but NUL, and need not be UTF-8 (a latin-1
 * file name in a variable, a binary token). Tools that pass the environment
 * on must pass it byte-exact, as tini does with `environ`. JavaScript
 * strings hold text, so bytes that are not UTF-8 are carried as lone
 * surrogates U+DC80..U+DCFF, one per byte: Python's "surrogateescape"
 * (PEP 383), which is how phusion's my_init saw them. Decoding then
 * encoding gives back the same bytes, and valid UTF-8 stays plain text.
 *
 * @module
 */

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** Decodes bytes to a string, each invalid byte as U+DC80 + (byte - 0x80). */
export function decodeBytes(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    return decodeSlowly(bytes);
  }
}

/** Byte length of the UTF-8 sequence at `i`, or 0 when it is not valid. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i];
  const len = b < 0x80
    ? 1
    : b >= 0xc2 && b <= 0xdf
    ? 2
    : b >= 0xe0 && b <= 0xef
    ? 3
    : b >= 0xf0 && b <= 0xf4
    ? 4
    : 0;
  if (len <= 1 || i + len > bytes.length) return len === 1 ? 1 : 0;
  try {
    strict.decode(bytes.subarray(i, i + len));
    return len;
  } catch {
    return 0;
  }
}

function decodeSlowly(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    const len = sequenceLength(bytes, i);
    if (len === 0) {
      out += String.fromCharCode(0xdc00 + bytes[i]);
      i++;
    } else {
      out += strict.decode(bytes.subarray(i, i + len));
      i += len;
    }
  }
  return out;
}

/**
 * Encodes a string made by {@link decodeBytes} back to its bytes. Other
 * lone surrogates (no decoding makes them) become U+FFFD, as TextEncoder
 * does.
 */
export function encodeBytes(text: string): Uint8Array<ArrayBuffer> {
  if (text.isWellFormed()) return encoder.encode(text);
  const parts: number[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code >= 0xdc80 && code <= 0xdcff) parts.push(code - 0xdc00);
    else parts.push(...encoder.encode(ch));
  }
  return new Uint8Array(parts);
}

/** Whether `text` is plain text (no escaped byte): safe for JSON and logs. */
export function isText(text: string): boolean {
  return text.isWellFormed();
}

/**
 * Parses an environment block, `NAME=value` strings each ended by NUL (as
 * /proc/PID/environ and `env -0` give it). The first `=` ends the name. An
 * entry without `=` names no variable and is skipped, as getenv(3) skips
 * it; of a name given twice the first counts, as for getenv(3).
 */
export function parseEnvBlock(block: Uint8Array): Map<string, string> {
  const env = new Map<string, string>();
  let start = 0;
  while (start < block.length) {
    let end = block.indexOf(0, start);
    if (end < 0) end = block.length;
    const entry = block.subarray(start, end);
    const eq = entry.indexOf(0x3d);
    if (eq > 0) {
      const name = decodeBytes(entry.subarray(0, eq));
      if (!env.has(name)) env.set(name, decodeBytes(entry.subarray(eq + 1)));
    }
    start = end + 1;
  }
  return env;
}

/** The `NAME=value` strings of `env`, as bytes, for execve's envp. */
export function envEntries(env: ReadonlyMap<string, string>): Uint8Array[] {
  return [...env].map(([name, value]) => encodeBytes(`${name}=${value}`));
}
