/**
 * Deciding whether setuser may switch credentials, and whether the switch
 * really happened.
 *
 * @module
 */

/** The credentials a process has, as the get*id(2) calls report them. */
export interface Credentials {
  readonly uid: number;
  readonly euid: number;
  /** The saved set-user-ID, where known (/proc/PID/status shows it). */
  readonly suid?: number;
  /** The filesystem uid, where known. */
  readonly fsuid?: number;
  readonly gid: number;
  readonly egid: number;
  /** The saved set-group-ID, where known. */
  readonly sgid?: number;
  /** The filesystem gid, where known. */
  readonly fsgid?: number;
  /** getgroups(2), in any order. */
  readonly groups: readonly number[];
}

/** The credentials setuser switches to. */
export interface Target {
  /** The login name, for messages. */
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** The supplementary groups initgroups(3) gives, in any order. */
  readonly groups: readonly number[];
}

/**
 * What to do: "drop" (root switching to the target), "keep" (not root, but
 * already the target user and group: nothing to change) or "refuse" (not
 * root and another user or group: setuid would fail anyway, so say why
 * before trying).
 */
export type SwitchPlan = "drop" | "keep" | "refuse";

/** Decides how to reach `target` from `current`. */
export function planSwitch(current: Credentials, target: Target): SwitchPlan {
  if (current.euid === 0) return "drop";
  const same = current.uid === target.uid && current.euid === target.uid &&
    current.gid === target.gid && current.egid === target.gid;
  return same ? "keep" : "refuse";
}

/** What the process looks like after the drop. */
export interface Observed extends Credentials {
  /** Whether setuid(0) succeeded after the drop (only tried for uid != 0). */
  readonly regainedRoot: boolean;
  /** Whether setgid(0) succeeded after the drop (only tried for gid != 0). */
  readonly regainedRootGroup: boolean;
}

function sameSet(a: readonly number[], b: readonly number[]): boolean {
  const x = new Set(a), y = new Set(b);
  return x.size === y.size && [...x].every((n) => y.has(n));
}

function list(ids: readonly number[]): string {
  return ids.length === 0
    ? "none"
    : [...new Set(ids)].sort((a, b) => a - b).join(",");
}

/**
 * The ways `observed` falls short of `target`; empty when the drop is
 * complete. A process that can take root back is the worst case: a
 * compromised service would simply call setuid(0).
 */
export function verifyDrop(target: Target, observed: Observed): string[] {
  const problems: string[] = [];
  if (observed.regainedRoot) problems.push("setuid(0) succeeded afterwards");
  if (observed.regainedRootGroup) {
    problems.push("setgid(0) succeeded afterwards");
  }
  // A saved set-user-ID of 0 would let the process take root back with
  // seteuid(0); the ids the source did not report are undefined, not wrong.
  for (const key of ["uid", "euid", "suid", "fsuid"] as const) {
    const value = observed[key];
    if (value !== undefined && value !== target.uid) {
      problems.push(`${key} is ${value}, expected ${target.uid}`);
    }
  }
  for (const key of ["gid", "egid", "sgid", "fsgid"] as const) {
    const value = observed[key];
    if (value !== undefined && value !== target.gid) {
      problems.push(`${key} is ${value}, expected ${target.gid}`);
    }
  }
  if (!sameSet(observed.groups, target.groups)) {
    problems.push(
      `groups are ${list(observed.groups)}, expected ${list(target.groups)}`,
    );
  }
  return problems;
}

/**
 * Non-root mode (my_init started as any uid, README "Running without
 * root"): "keep" when the target is the caller itself, by uid (a number
 * without a passwd entry counts: OpenShift's uids have none) and, when a
 * GROUP was given, by gid; else "refuse": without root no switch is
 * possible, whatever the target. An unknown target is `undefined`.
 */
export function planWithoutRoot(
  current: Credentials,
  target: { uid?: number; gid?: number },
): "keep" | "refuse" {
  const { uid, gid } = target;
  if (uid === undefined || uid !== current.uid || uid !== current.euid) {
    return "refuse";
  }
  if (gid !== undefined && (gid !== current.gid || gid !== current.egid)) {
    return "refuse";
  }
  return "keep";
}
