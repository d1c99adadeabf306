/**
 * Writing text to stdout or stderr in full: `writeSync` may write only part
 * of a buffer (a pipe that is nearly full), and a usage text or log line cut
 * short is a lie.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Writes all of `text` to `stream` (Deno.stdout, Deno.stderr). */
export function writeAll(
  stream: { writeSync(p: Uint8Array): number },
  text: string,
): void {
  const bytes = encoder.encode(text);
  let done = 0;
  while (done < bytes.length) done += stream.writeSync(bytes.subarray(done));
}
