/**
 * Helpers shared by the my_init_*_test.ts files: running many sandboxes a
 * few at a time, and looking at a sandbox's processes from the host.
 *
 * @module
 */

import { MY_INIT, Sandbox, type SandboxOptions, sleep } from "./_sandbox.ts";

/** The sandbox tests need root (unshare, mount) and a built my_init. */
export const ignore = Deno.uid() !== 0 || !exists(MY_INIT);

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

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
 * Starts a sandbox, starts collecting its output at once (a full stderr
 * pipe would block PID 1), runs `fn` on it, then waits for PID 1 to exit
 * (killing it after `ms`) and cleans up. `fn` gets the sandbox and the
 * promise of its outcome.
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
