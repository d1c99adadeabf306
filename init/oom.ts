/**
 * Keeping PID 1 out of the OOM killer's way: every child my_init starts
 * gets an oom_score_adj just high enough that, within the container's
 * memory limit, the kernel picks any child before PID 1, whose death
 * would end the container.
 *
 * Why children up rather than PID 1 down: lowering a score needs
 * CAP_SYS_RESOURCE, which neither Docker nor podman grants by default;
 * any process may raise a score, its children's included. Why just enough
 * rather than 1000: the score also ranks the container's processes against
 * every other process of the host in a global OOM (Kubernetes sets it per
 * QoS class), so the shift is the smallest that orders PID 1 last.
 *
 * The kernel's badness (mm/oom_kill.c) is rss + swap + page tables, in
 * pages, plus oom_score_adj * totalpages / 1000, totalpages being the
 * memory cgroup's limit in a container OOM (the machine's memory in a
 * global one, a larger number, so a smaller shift). A child, however
 * small, outranks PID 1 when its extra adj * totalpages / 1000 exceeds
 * PID 1's own pages.
 *
 * @module
 */

import * as log from "./log.ts";

/**
 * Headroom over PID 1's current size: the shift holds while PID 1's
 * resident memory stays under twice what it is at the child's start.
 */
export const OOM_HEADROOM = 2;

/**
 * The oom_score_adj for a child of a process whose own score is `own` and
 * whose resident size is `rssBytes`, under a memory limit of
 * `limitBytes`: `own` raised by the smallest whole step that makes
 * {@link OOM_HEADROOM} times `rssBytes` count for less than the shift, at
 * most 1000 (the kernel's maximum, where no shift is left to give).
 */
export function childOomScoreAdj(
  own: number,
  rssBytes: number,
  limitBytes: number,
): number {
  if (!(limitBytes > 0) || !(rssBytes >= 0)) return own;
  const shift = Math.floor(1000 * OOM_HEADROOM * rssBytes / limitBytes) + 1;
  return Math.max(own, Math.min(1000, own + shift));
}

/**
 * The memory limit that the OOM killer of this process's cgroup measures
 * against: the cgroup's (v2 `memory.max`, v1 `memory.limit_in_bytes`)
 * or, without one, the machine's memory (`MemTotal`).
 */
export function parseMemoryLimit(
  cgroupLimit: string | undefined,
  meminfo: string | undefined,
): number | undefined {
  const total = meminfo?.match(/^MemTotal:\s+(\d+) kB$/m);
  const machine = total ? Number(total[1]) * 1024 : undefined;
  const limit = cgroupLimit === undefined || cgroupLimit.trim() === "max"
    ? undefined
    : Number(cgroupLimit.trim());
  if (limit === undefined || !Number.isFinite(limit) || limit <= 0) {
    return machine;
  }
  // cgroup v1 reports "no limit" as a huge number.
  return machine === undefined ? limit : Math.min(limit, machine);
}

/** VmRSS of /proc/PID/status, in bytes. */
export function parseVmRss(status: string): number | undefined {
  const m = status.match(/^VmRSS:\s+(\d+) kB$/m);
  return m ? Number(m[1]) * 1024 : undefined;
}

function read(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

let restoreFails = false;
let limitRead: { bytes: number | undefined } | undefined;

/**
 * The container's memory limit, read at the first spawn only instead of at
 * every one: it is set when the container starts (a `docker update
 * --memory` later is not seen; the shift was computed for the old limit).
 */
function memoryLimit(): number | undefined {
  limitRead ??= {
    bytes: parseMemoryLimit(
      read("/sys/fs/cgroup/memory.max") ??
        read("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
      read("/proc/meminfo"),
    ),
  };
  return limitRead.bytes;
}

/**
 * Runs `spawnChild` and gives the child its score (childOomScoreAdj).
 * `inherit`: this process's own score is raised to the child's for the
 * spawn and lowered back, so that the child has it from its first
 * instruction: written after the spawn, a runsvdir had already forked some
 * runsv (and their services) at PID 1's score (seen in 1 boot of 2 with
 * podman). Only for runsvdir, at boot: under memory pressure a spawn can
 * stall in reclaim, and PID 1 would be the kernel's first pick meanwhile
 * (seen once in 10 boots, spawning a post-shutdown script). Lowering back
 * to where it was needs no privilege (the kernel refuses only below the
 * score a privileged writer last set); should it fail once, PID 1 is left
 * at the children's score: it says so, and later children get theirs
 * after their spawn. Never throws but what `spawnChild` throws.
 */
export function spawnRankedBelow(
  spawnChild: () => number,
  options: { inherit?: boolean } = {},
): number {
  const own = Number(read("/proc/self/oom_score_adj")?.trim());
  const rss = parseVmRss(read("/proc/self/status") ?? "");
  const limit = memoryLimit();
  if (!Number.isInteger(own) || rss === undefined || limit === undefined) {
    return spawnChild();
  }
  const adj = childOomScoreAdj(own, rss, limit);
  if (adj === own) return spawnChild();
  if (
    !options.inherit || restoreFails ||
    !write("/proc/self/oom_score_adj", adj)
  ) {
    const pid = spawnChild();
    write(`/proc/${pid}/oom_score_adj`, adj);
    return pid;
  }
  try {
    return spawnChild();
  } finally {
    if (!write("/proc/self/oom_score_adj", own)) {
      restoreFails = true;
      log.warn(
        `Cannot lower my OOM score back to ${own}: it stays ${adj}, as my ` +
          "children's",
      );
    }
  }
}

function write(path: string, value: number): boolean {
  try {
    Deno.writeTextFileSync(path, `${value}\n`);
    return true;
  } catch (e) {
    log.debug(`Cannot write ${path}: ${e}`);
    return false;
  }
}
