/**
 * Helpers shared by the my_init_*_test.ts files: running many sandboxes a
 * few at a time, and looking at a sandbox's processes from the host.
 *
 * @module
 */

import { basename } from "node:path";
import {
  MY_INIT,
  MY_INIT_MISSING,
  Sandbox,
  type SandboxOptions,
  sleep,
  tail,
} from "./_sandbox.ts";

/**
 * The sandbox tests need root (unshare, mount): without it they are
 * ignored, which CI (.ci/run) counts and fails on. A missing dist/my_init is
 * not a reason to skip: the tests that run it fail with MY_INIT_MISSING
 * (Sandbox.start), and so does the test below.
 */
export const ignore = Deno.uid() !== 0;

// Registered once per test file that imports this module (each runs in an
// isolate of its own), so that every file's report names the cause.
Deno.test(`dist/my_init is built for ${basename(Deno.mainModule)}`, () => {
  try {
    Deno.statSync(MY_INIT);
  } catch {
    throw new Error(MY_INIT_MISSING);
  }
});

/**
 * Runs `fn` over `items` with at most `limit` running at once (the test
 * machine has two cores shared with other work); results in input order.
 */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, worker),
  );
  return out;
}

/** What a finished sandbox gave. */
export interface Outcome {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/**
 * Starts a sandbox (its output is collected from the start: a full stderr
 * pipe would block PID 1), runs `fn` on it, then waits for PID 1 to exit and
 * cleans up. After `ms` from the start the namespace is killed and the
 * outcome rejects, naming the timeout and the last stderr lines. `fn` gets
 * the sandbox and the promise of its outcome. When `fn` throws, the
 * namespace is killed and the error gets the sandbox's last stderr lines.
 */
export async function withSandbox<R>(
  options: SandboxOptions,
  fn: (box: Sandbox, done: Promise<Outcome>) => Promise<R>,
  ms = 60000,
): Promise<{ result: R; out: Outcome }> {
  const box = await Sandbox.start(options);
  const done = box.finished(ms);
  try {
    const result = await fn(box, done);
    return { result, out: await done };
  } catch (e) {
    await box.dispose();
    // A timeout's own message already quotes stderr.
    const timedOut = await done.then(() => false, () => true);
    if (e instanceof Error && !timedOut) {
      e.message += `\nlast lines of the sandbox's stderr:\n${
        tail(box.partial().stderr)
      }`;
    }
    throw e;
  } finally {
    await box.dispose();
  }
}

/** One process as the host's /proc/PID/stat shows it. */
export interface ProcStat {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
}

/** Reads /proc/PID/stat of the host; undefined once the process is gone. */
export async function procStat(pid: number): Promise<ProcStat | undefined> {
  try {
    const t = await Deno.readTextFile(`/proc/${pid}/stat`);
    const open = t.indexOf("(");
    const close = t.lastIndexOf(")");
    const rest = t.slice(close + 2).split(" ");
    return {
      pid,
      comm: t.slice(open + 1, close),
      state: rest[0],
      ppid: Number(rest[1]),
    };
  } catch {
    return undefined;
  }
}

/** The host's processes whose parent is `pid` (any thread of it). */
export async function childrenOf(pid: number): Promise<ProcStat[]> {
  const out: ProcStat[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const st = await procStat(Number(e.name));
    if (st && st.ppid === pid) out.push(st);
  }
  return out;
}

/**
 * Polls `check` every 50 ms until it returns true; throws with `what` (and
 * the last `detail()`) after `ms`.
 */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  ms = 20000,
  detail: () => Promise<string> | string = () => "",
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) {
      throw new Error(`${what}: not true after ${ms} ms ${await detail()}`);
    }
    await sleep(50);
  }
}

/** The `*** ` log lines of a stderr text, without the prefix. */
export function logLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("*** ")).map((l) =>
    l.slice(4)
  );
}

/** A bash script file for a fixture (mode 0755). */
export function bash(body: string): { text: string; mode: number } {
  return { text: `#!/bin/bash\n${body}\n`, mode: 0o755 };
}

/** Parses the output of `env -0` into a map. */
export function parseEnv0(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const entry of text.split("\0")) {
    if (entry === "") continue;
    const eq = entry.indexOf("=");
    env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}
