/**
 * Reading runit's view of a service, pure: the text of `supervise/stat`
 * and the binary `supervise/status` that runsv rewrites (`.new`, then
 * rename) on every change, and what they say about a service being ready.
 *
 * @module
 */

import { type ExitStatus } from "../lib/exit_status.ts";
import { signalName } from "../lib/signals.ts";

/** The state word runsv writes first: "run", "down" or "finish". */
export type ServiceState = "run" | "down" | "finish" | "unknown";

/** Parses `supervise/stat`, e.g. "run", "down, want up", "run, paused". */
export function parseStat(text: string | undefined): ServiceState {
  if (text === undefined) return "unknown";
  const word = text.trim().split(/[,\s]/, 1)[0];
  return word === "run" || word === "down" || word === "finish"
    ? word
    : "unknown";
}

/** The length of `supervise/status`, daemontools' layout that runsv keeps. */
export const STATUS_SIZE = 20;

/**
 * runit's `tai_unix()`: a TAI64 label is 2^62 + 10 + Unix seconds (the 10
 * s that TAI was ahead of UTC in 1972; runit adds no later leap second).
 */
const TAI_UNIX_OFFSET = 2n ** 62n + 10n;

/** What runsv's `supervise/status` says. */
export interface SuperviseStatus {
  /** When the state last changed (the start of `run`, or its end), ms since the Unix epoch. */
  changedAt: number;
  /** The pid of `run` (or `finish`); 0 when none runs. */
  pid: number;
  /** Stopped with `sv pause`. */
  paused: boolean;
  /** What runsv is told to keep it: up, or down (`sv down`, a `down` file). */
  want: "up" | "down";
  /** runsv sent TERM and it has not exited yet. */
  term: boolean;
  /** The state byte: 0 down, 1 run, 2 finish. */
  state: ServiceState;
}

/**
 * Parses the 20 bytes runsv's update_status() writes: a TAI64N label of
 * the last state change (8 bytes of seconds and 4 of nanoseconds, big
 * endian; taia_pack's 4 bytes of attoseconds are overwritten by the next
 * field), the pid (4 bytes, little endian), the paused flag, want ('u' or
 * 'd'), the got-TERM flag and the state. Undefined for any other length
 * (a file runsv has not written yet, or not runsv's).
 */
export function parseStatus(bytes: Uint8Array): SuperviseStatus | undefined {
  if (bytes.length !== STATUS_SIZE) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const seconds = view.getBigUint64(0, false) - TAI_UNIX_OFFSET;
  const nanos = view.getUint32(8, false);
  const states: Record<number, ServiceState> = {
    0: "down",
    1: "run",
    2: "finish",
  };
  return {
    changedAt: Number(seconds) * 1000 + Math.floor(nanos / 1e6),
    pid: view.getUint32(12, true),
    paused: bytes[16] !== 0,
    // sv reads anything but 'u' as down.
    want: bytes[17] === 0x75 ? "up" : "down",
    term: bytes[18] !== 0,
    state: states[bytes[19]] ?? "unknown",
  };
}

/** One service as `--status` and the waits see it. */
export interface ServiceView {
  name: string;
  /** A `down` file: runit does not start it at boot. */
  disabled: boolean;
  /** runsv answers on supervise/ok (it is running and supervising). */
  supervised: boolean;
  /** From `supervise/stat`. */
  state: ServiceState;
  /** `supervise/status`, when runsv has written it. */
  status?: SuperviseStatus;
  /** The service has an executable `check` script (runit's `sv check`). */
  hasCheck?: boolean;
  /**
   * Why runsv's files could not be read, when that was the cause (e.g.
   * `supervise/ok: Permission denied` for a caller other than their
   * owner): then nothing above says anything about the service.
   */
  unreadable?: string;
}

/** The reason given for a service whose runit state cannot be read. */
function unreadableReason(why: string): string {
  return `cannot read its runit state (${why})`;
}

/**
 * How long `run` must have been up, without a restart, to count as ready.
 * runsv restarts a `run` that exits at once after one second, so a
 * crash-looping service is never up that long; and a daemon that fails on
 * its configuration usually does so within it.
 */
export const MIN_UP_MS = 1000;

/**
 * How soon a failing `check` runs again: `sv check` re-checks every 420 ms.
 */
export const CHECK_RETRY_MS = 420;

/** What runit's status says about an enabled service, before its `check`. */
export type UpVerdict =
  | { up: true }
  | {
    up: false;
    /** Why, for `fail: NAME: REASON`. */
    reason: string;
    /** When it may be up with no further change (up, not yet long enough). */
    recheckInMs?: number;
  };

/**
 * Whether `s` has been up for {@link MIN_UP_MS} at `nowMs`, as `sv check`
 * decides "up" (a pid, state run) plus the time since the last change.
 */
export function upVerdict(s: ServiceView, nowMs: number): UpVerdict {
  if (s.unreadable !== undefined) {
    return { up: false, reason: unreadableReason(s.unreadable) };
  }
  if (!s.supervised) return { up: false, reason: "not supervised" };
  const st = s.status;
  if (st === undefined) return { up: false, reason: "no supervise/status" };
  if (st.state !== "run" || st.pid === 0) {
    return { up: false, reason: st.state === "run" ? "down" : st.state };
  }
  if (st.paused) return { up: false, reason: "paused" };
  // A clock set back makes the change lie ahead: count it as just now, as sv does.
  const age = Math.max(0, nowMs - st.changedAt);
  if (age < MIN_UP_MS) {
    return {
      up: false,
      reason: `up ${tenths(age)} s, not yet ${MIN_UP_MS / 1000} s`,
      recheckInMs: MIN_UP_MS - age,
    };
  }
  return { up: true };
}

/** `ms` in seconds, rounded down to a tenth: "0.9". */
function tenths(ms: number): string {
  return (Math.floor(ms / 100) / 10).toFixed(1);
}

/** How a `check` script ended. */
export type CheckOutcome =
  | { kind: "ended"; status: ExitStatus }
  | { kind: "timeout"; ms: number }
  | { kind: "not-started"; message: string }
  /** Still running when the wait that started it ended, for `ms` if known. */
  | { kind: "running"; ms?: number };

/** Why a `check` says not ready, or undefined when it exited 0. */
export function checkProblem(outcome: CheckOutcome): string | undefined {
  switch (outcome.kind) {
    case "ended": {
      const st = outcome.status;
      if (st.kind === "exited") {
        return st.code === 0 ? undefined : `check exited ${st.code}`;
      }
      return st.kind === "signaled"
        ? `check killed by ${signalName(st.signal)}`
        : "check ended abnormally";
    }
    case "timeout":
      return `check did not exit within ${outcome.ms / 1000} s`;
    case "not-started":
      return `check cannot run: ${outcome.message}`;
    case "running":
      return outcome.ms === undefined
        ? "check still running"
        : `check still running after ${tenths(outcome.ms)} s`;
  }
}

/** One service's readiness: ready, or why not. */
export interface Readiness {
  view: ServiceView;
  /** Undefined when ready (or disabled: not asked to be). */
  problem?: string;
  /** When to look again without a change runsv reports. */
  recheckInMs?: number;
}

/**
 * The readiness of one service from its up verdict and, when it is up long
 * enough and has a `check`, that check's outcome (`check` undefined: not
 * run). Disabled services are never a problem.
 */
export function readiness(
  view: ServiceView,
  nowMs: number,
  check?: CheckOutcome,
): Readiness {
  if (view.disabled) return { view };
  const up = upVerdict(view, nowMs);
  if (!up.up) {
    return { view, problem: up.reason, recheckInMs: up.recheckInMs };
  }
  if (!view.hasCheck || check === undefined) return { view };
  const problem = checkProblem(check);
  return problem === undefined
    ? { view }
    : { view, problem, recheckInMs: CHECK_RETRY_MS };
}

/** Whether a service needs its `check` run: enabled, with one, and up long enough. */
export function needsCheck(view: ServiceView, nowMs: number): boolean {
  return !view.disabled && view.hasCheck === true &&
    upVerdict(view, nowMs).up;
}

/** The `check` scripts of a look that has not ended yet. */
export interface ChecksInFlight {
  /** The services whose check runs. */
  names: ReadonlySet<string>;
  /** When they started, ms since the epoch. */
  since: number;
}

/**
 * The readiness to report now, from the `last` complete look: a service
 * whose `check` is still running in a later look (`inFlight`) gets that as
 * its reason, from its current `views` entry; the last look's "up 0.9 s,
 * not yet 1 s" would name the past, not the check that hangs.
 */
export function checksInFlight(
  last: readonly Readiness[],
  views: readonly ServiceView[],
  inFlight: ChecksInFlight | undefined,
  nowMs: number,
): readonly Readiness[] {
  if (inFlight === undefined) return last;
  const current = new Map(views.map((v) => [v.name, v]));
  return last.map((r) =>
    inFlight.names.has(r.view.name)
      ? readiness(current.get(r.view.name) ?? r.view, nowMs, {
        kind: "running",
        ms: nowMs - inFlight.since,
      })
      : r
  );
}

/** Whether every service is ready. */
export function allReady(services: readonly Readiness[]): boolean {
  return services.every((s) => s.problem === undefined);
}

/**
 * The lines and exit code of `my_init --status`, in the spirit of runit's
 * `sv` (fixed `ok:`/`fail:` prefixes). Disabled services are reported but do
 * not fail the check; any enabled service that is not ready does, with why:
 * `fail: web: up 0.3 s, not yet 1 s`, `fail: web: check exited 1`.
 */
export function statusReport(
  services: readonly Readiness[],
): { lines: string[]; exitCode: number } {
  const lines: string[] = [];
  let failures = 0;
  for (const { view: s, problem } of services) {
    if (s.disabled) {
      const state = s.unreadable !== undefined
        ? unreadableReason(s.unreadable)
        : s.supervised
        ? s.state
        : "not supervised";
      lines.push(`ok: ${s.name}: ${state} (disabled)`);
    } else if (problem === undefined) {
      lines.push(`ok: ${s.name}: run`);
    } else {
      failures++;
      lines.push(`fail: ${s.name}: ${problem}`);
    }
  }
  return { lines, exitCode: failures === 0 ? 0 : 1 };
}
