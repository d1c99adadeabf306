/**
 * The environment the caller gave the tool, byte-exact.
 *
 * The launcher (scripts/launcher.ts) starts the runtime with a clean
 * environment of its own, so that nothing the caller set (DENO_V8_FLAGS,
 * DENO_COVERAGE_DIR, RUST_LOG, OTEL_*, ...) configures the runtime of PID 1,
 * and hands the caller's environment over on a file descriptor named by
 * {@link ENV_FD_VARIABLE}: the entries of its /proc/PID/environ, one a line,
 * with backslash and newline escaped (a shell cannot hold NUL bytes). The
 * tools read that, never Deno.env, and pass it on to their children as it
 * came, names and values that are not UTF-8 included (lib/env_bytes.ts).
 *
 * @module
 */

import { errorMessage } from "./error_message.ts";
import { errno, libc, strerror } from "./libc.ts";
import { parseEnvBlock } from "./env_bytes.ts";

/** The runtime's variable naming the descriptor that carries the caller's environment. */
export const ENV_FD_VARIABLE = "BASEIMAGE_ENV_FD";

/** The caller's environment, and what went wrong reading it, if anything. */
export interface CallerEnv {
  env: Map<string, string>;
  /** Set when the launcher's descriptor could not be read (a fallback was used). */
  problem?: string;
}

/** Reads all of `fd` to its end with read(2), then closes it. */
function readAllAndClose(fd: number): Uint8Array {
  const c = libc();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const buf = new Uint8Array(65536);
      const n = Number(c.read(fd, buf, BigInt(buf.length)));
      if (n === 0) break;
      if (n < 0) {
        throw new Error(`unable to read fd ${fd}: ${strerror(errno())}`);
      }
      chunks.push(buf.subarray(0, n));
      total += n;
    }
  } finally {
    // Children must not inherit it (a heredoc's descriptor is not close-on-exec).
    c.close(fd);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * Turns the launcher's text (an entry a line; `\\` for a backslash, `\n`
 * for a newline) into an environment block (entries ended by NUL).
 */
export function decodeLauncherText(text: Uint8Array): Uint8Array {
  const out = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const b = text[i];
    if (b === 0x0a) {
      out[n++] = 0;
    } else if (b === 0x5c && i + 1 < text.length) {
      const next = text[++i];
      out[n++] = next === 0x6e ? 0x0a : next;
    } else {
      out[n++] = b;
    }
  }
  return out.subarray(0, n);
}

/**
 * The caller's environment: from the launcher's descriptor when there is
 * one; otherwise (the tool run with `deno run` in development) the
 * runtime's own, from /proc/self/environ, or Deno.env without /proc.
 */
export function readCallerEnv(): CallerEnv {
  const fdText = Deno.env.get(ENV_FD_VARIABLE);
  if (fdText !== undefined) {
    try {
      if (!/^[0-9]+$/.test(fdText)) {
        throw new Error(`not a descriptor: "${fdText}"`);
      }
      return {
        env: parseEnvBlock(decodeLauncherText(readAllAndClose(Number(fdText)))),
      };
    } catch (e) {
      return {
        env: ownEnv(),
        problem: `unable to read the caller's environment from fd ${fdText} (${
          errorMessage(e)
        }); using the runtime's own`,
      };
    }
  }
  return { env: ownEnv() };
}

function ownEnv(): Map<string, string> {
  try {
    return parseEnvBlock(Deno.readFileSync("/proc/self/environ"));
  } catch {
    return new Map(Object.entries(Deno.env.toObject()));
  }
}
