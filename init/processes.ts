/**
 * Reading the process tree from /proc: descendants for kill-all when my_init
 * is not PID 1 (`kill(-1)` there would hit every process of the user, the
 * host's included), and runsvdir's runsv children at shutdown.
 *
 * @module
 */

/** Parses the pid and ppid out of /proc/PID/stat (comm may hold spaces and parens). */
export function parseProcStat(
  text: string,
): { pid: number; ppid: number } | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const pid = parseInt(text, 10);
  const fields = text.slice(close + 2).split(" ");
  const ppid = parseInt(fields[1], 10);
  return Number.isNaN(pid) || Number.isNaN(ppid) ? undefined : { pid, ppid };
}

/** All descendants of `root` in a pid -> ppid table. */
export function descendantsOf(
  root: number,
  table: ReadonlyMap<number, number>,
): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of table) {
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    for (const c of children.get(stack.pop()!) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

/** Reads the pid -> ppid table of /proc (empty without /proc). */
export function readProcessTable(): Map<number, number> {
  const table = new Map<number, number>();
  let entries: Iterable<Deno.DirEntry>;
  try {
    entries = Deno.readDirSync("/proc");
  } catch {
    return table;
  }
  for (const e of entries) {
    if (!/^[0-9]+$/.test(e.name)) continue;
    try {
      const st = parseProcStat(Deno.readTextFileSync(`/proc/${e.name}/stat`));
      if (st) table.set(st.pid, st.ppid);
    } catch { /* exited meanwhile */ }
  }
  return table;
}

/**
 * The children of any of `parents` whose command name is one of `comms`
 * (none without /proc), zombies included.
 */
export function childrenNamed(
  parents: readonly number[],
  comms: readonly string[],
): number[] {
  const out: number[] = [];
  for (const [pid, parent] of readProcessTable()) {
    if (!parents.includes(parent)) continue;
    try {
      if (comms.includes(Deno.readTextFileSync(`/proc/${pid}/comm`).trim())) {
        out.push(pid);
      }
    } catch { /* exited meanwhile */ }
  }
  return out;
}

/**
 * The arguments of `pid` from /proc/PID/cmdline; empty for a zombie, or
 * once it is gone.
 */
export function commandLine(pid: number): string[] {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
    return text === "" ? [] : text.replace(/\0$/, "").split("\0");
  } catch {
    return [];
  }
}
