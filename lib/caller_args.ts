/**
 * The arguments the caller gave the tool, byte-exact.
 *
 * The runtime hands arguments to JavaScript as text: in Deno.args a byte
 * that is not UTF-8 is already U+FFFD, so `my_init -- rm /tmp/$'caf\xe9'`
 * would remove `/tmp/caf\uFFFD`. The kernel keeps the bytes in
 * /proc/self/cmdline. The launcher (scripts/launcher.ts) execs the runtime
 * with the caller's arguments last, after its own (the runtime, `run` and
 * its flags, the bundle; or one compiled executable), and the runtime puts
 * exactly those in Deno.args: they are the last Deno.args.length entries of
 * the command line, however many the runtime's own are. Each is decoded as
 * lib/env_bytes.ts does (Python's surrogateescape, as phusion's tools saw
 * them), so option parsing works on plain text and encodeBytes() gives the
 * bytes back for execvp and posix_spawnp (lib/cstr.ts).
 *
 * @module
 */

import { decodeBytes } from "./env_bytes.ts";

const lossy = new TextDecoder();

/** The NUL-terminated entries of a /proc/PID/cmdline. */
export function cmdlineEntries(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      out.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  // A process may have rewritten its command line without the last NUL.
  if (start < bytes.length) out.push(bytes.subarray(start));
  return out;
}

/**
 * The caller's arguments from the command line's bytes: its last
 * `args.length` entries, decoded byte-exact. `args` is what the runtime
 * gave (Deno.args); undefined when the entries do not decode to it as the
 * runtime decodes (invalid bytes as U+FFFD), i.e. they are not the same
 * arguments, and the caller must keep `args`.
 */
export function callerArgsOf(
  cmdline: Uint8Array,
  args: readonly string[],
): string[] | undefined {
  const entries = cmdlineEntries(cmdline);
  if (entries.length < args.length) return undefined;
  const own = entries.slice(entries.length - args.length);
  if (own.some((bytes, i) => lossy.decode(bytes) !== args[i])) {
    return undefined;
  }
  return own.map(decodeBytes);
}

/**
 * The caller's arguments, byte-exact from /proc/self/cmdline; `args`
 * (Deno.args, lossy) without /proc or when the command line does not end
 * with them.
 */
export function readCallerArgs(args: readonly string[]): string[] {
  // Plain ASCII or valid UTF-8 has nothing to recover.
  if (!args.some((a) => a.includes("\uFFFD"))) return [...args];
  let cmdline: Uint8Array;
  try {
    cmdline = Deno.readFileSync("/proc/self/cmdline");
  } catch {
    return [...args];
  }
  return callerArgsOf(cmdline, args) ?? [...args];
}
