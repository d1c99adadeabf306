/**
 * Process helpers of the harness: children that are always reaped and
 * killed (even when the harness is interrupted), bounded waits, and readers
 * of /proc.
 *
 * @module
 */

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A spawned child that the harness owns until it has exited. */
export interface Owned {
  readonly child: Deno.ChildProcess;
  readonly pid: number;
  /** performance.now() just before the spawn. */
  readonly spawnedAt: number;
  /** Resolves with the exit status and the time it was seen. */
  readonly exited: Promise<{ status: Deno.CommandStatus; at: number }>;
}

const live = new Set<Owned>();

/**
 * Spawns `argv` with stdio to /dev/null (or inherited stderr with
 * `BENCH_DEBUG=1`); the child is killed by {@linkcode killAll} if the
 * harness is interrupted.
 */
export function spawn(
  argv: readonly string[],
  env?: Record<string, string>,
): Owned {
  const debug = Deno.env.get("BENCH_DEBUG") === "1";
  const cmd = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    stdin: "null",
    stdout: debug ? "inherit" : "null",
    stderr: debug ? "inherit" : "null",
  });
  const spawnedAt = performance.now();
  const child = cmd.spawn();
  const exited = child.status.then((status) => {
    const at = performance.now();
    live.delete(owned);
    return { status, at };
  });
  const owned: Owned = { child, pid: child.pid, spawnedAt, exited };
  live.add(owned);
  return owned;
}

/**
 * Waits for `owned` to exit within `ms`; past the deadline calls
 * `beforeKill` (to record what hangs), sends KILL (the namespace's PID 1
 * dies with unshare through --kill-child) and returns undefined.
 */
export async function waitExit(
  owned: Owned,
  ms: number,
  beforeKill?: () => void,
): Promise<{ status: Deno.CommandStatus; at: number } | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  const result = await Promise.race([owned.exited, deadline]);
  clearTimeout(timer);
  if (result) return result;
  beforeKill?.();
  await stop(owned);
  return undefined;
}

/** Sends KILL to `owned` and waits (at most 5 s) for it to be reaped. */
export async function stop(owned: Owned): Promise<void> {
  try {
    owned.child.kill("SIGKILL");
  } catch { /* already gone */ }
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    owned.exited,
    new Promise((resolve) => timer = setTimeout(resolve, 5000)),
  ]);
  clearTimeout(timer);
}

/** Kills and reaps every child still owned: the harness's last step. */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map(stop));
}

/**
 * Polls `probe` (sync or async) every `intervalMs` (0: back to back) until
 * it returns a value other than undefined or `ms` pass (then undefined).
 * The probe runs once more at the deadline.
 */
export async function poll<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  ms: number,
  intervalMs = 1,
): Promise<T | undefined> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() >= end) return undefined;
    if (intervalMs > 0) await sleep(intervalMs);
  }
}

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** Host PIDs of the children of every thread of `pid` (zombies included). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: Iterable<Deno.DirEntry>;
  try {
    tasks = Deno.readDirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    const text = readText(`/proc/${pid}/task/${t.name}/children`);
    if (!text) continue;
    for (const w of text.split(" ")) if (w.trim()) out.push(Number(w));
  }
  return out;
}

/** State letter and process group of `pid` from /proc/PID/stat. */
export function procStat(
  pid: number,
): { state: string; pgrp: number } | undefined {
  const text = readText(`/proc/${pid}/stat`);
  if (!text) return undefined;
  // comm may hold spaces and parentheses: fields start after the last ')'.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: rest[0], pgrp: Number(rest[2]) };
}

/** Fields of /proc/PID/status as strings, e.g. `VmRSS` -> `"1234 kB"`. */
export function procStatus(pid: number): Record<string, string> | undefined {
  const text = readText(`/proc/${pid}/status`);
  if (!text) return undefined;
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** A `kB` field of /proc/PID/status in MB (MiB), or undefined. */
export function statusMB(
  status: Record<string, string>,
  field: string,
): number | undefined {
  const m = /^(\d+) kB$/.exec(status[field] ?? "");
  return m ? Number(m[1]) / 1024 : undefined;
}

/** Every PID in the PID namespace whose init has host PID `pid1`, pid1 included. */
export function namespacePids(pid1: number): number[] {
  const seen = new Set<number>([pid1]);
  const queue = [pid1];
  while (queue.length) {
    for (const c of childrenOf(queue.pop()!)) {
      if (!seen.has(c)) {
        seen.add(c);
        queue.push(c);
      }
    }
  }
  return [...seen];
}

/** How many processes of the namespace of `pid1` are zombies. */
export function zombiesIn(pid1: number): number {
  return namespacePids(pid1).filter((p) => procStat(p)?.state === "Z").length;
}

/** Runs `argv` to completion (10 s at most) and returns its stdout + stderr. */
export async function capture(argv: readonly string[]): Promise<string> {
  try {
    const cmd = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(10_000),
    });
    const { stdout, stderr } = await cmd.output();
    const dec = new TextDecoder();
    return (dec.decode(stdout) + dec.decode(stderr)).trim();
  } catch (e) {
    return `(${argv[0]}: ${e instanceof Error ? e.message : e})`;
  }
}
