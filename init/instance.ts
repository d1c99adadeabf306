/**
 * Finding the my_init in charge of this container, and marking this one as
 * it when it runs as another PID than 1. The decisions and the message are
 * in instance_check.ts.
 *
 * @module
 */

import { cmdlineEntries } from "../lib/caller_args.ts";
import { errorMessage } from "../lib/error_message.ts";
import {
  MARKER_PATH,
  parseMarker,
  type RunningInstance,
  runsSameProgram,
  runtimePrefix,
} from "./instance_check.ts";

/** The entries of /proc/PID/cmdline; undefined when it cannot be read. */
function readCmdline(pid: number | "self"): Uint8Array[] | undefined {
  try {
    return cmdlineEntries(Deno.readFileSync(`/proc/${pid}/cmdline`));
  } catch {
    return undefined;
  }
}

/**
 * The my_init in charge of this container other than this process (PID
 * `ownPid`, started with `argCount` arguments of its caller): PID 1 if it
 * is one, else the live my_init the marker names. Undefined when there is
 * none; when this process is PID 1 (its namespace is its container); and
 * without /proc (nothing can be told then, and refusing a container's only
 * my_init would be worse than a second one).
 */
export function findRunningInstance(
  argCount: number,
  ownPid: number,
): RunningInstance | undefined {
  if (ownPid === 1) return undefined;
  const own = readCmdline("self");
  if (own === undefined) return undefined;
  const prefix = runtimePrefix(own, argCount);
  const isMyInit = (pid: number) => {
    const other = readCmdline(pid);
    return other !== undefined && runsSameProgram(prefix, other);
  };
  if (isMyInit(1)) return { pid: 1, via: "pid1" };
  let marked: number | undefined;
  try {
    marked = parseMarker(Deno.readTextFileSync(MARKER_PATH));
  } catch {
    return undefined;
  }
  // A marker left by a my_init that was killed may name a PID reused since:
  // only a my_init counts, and never this process.
  if (marked === undefined || marked === ownPid || !isMyInit(marked)) {
    return undefined;
  }
  return { pid: marked, via: "marker" };
}

/**
 * Writes the marker naming `pid` (a temporary, then renamed over it).
 * Returns why it could not, or undefined.
 */
export function writeMarker(pid: number): string | undefined {
  const temp = `${MARKER_PATH}.new`;
  try {
    Deno.writeTextFileSync(temp, `${pid}\n`, { mode: 0o644 });
    Deno.renameSync(temp, MARKER_PATH);
    return undefined;
  } catch (e) {
    try {
      Deno.removeSync(temp);
    } catch { /* none was made */ }
    return errorMessage(e);
  }
}

/** Removes the marker if it still names `pid`. Never throws. */
export function removeMarker(pid: number): void {
  try {
    if (parseMarker(Deno.readTextFileSync(MARKER_PATH)) === pid) {
      Deno.removeSync(MARKER_PATH);
    }
  } catch { /* gone, or not ours to remove */ }
}
