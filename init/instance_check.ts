/**
 * Is another my_init in charge of this container? Pure decisions for
 * init/instance.ts, which reads /proc and the run-state marker.
 *
 * `docker exec app /sbin/my_init -- true` is an easy mistake, and a second
 * my_init breaks the first: it runs the startup scripts again (syslog-ng's
 * replaced /dev/log), writes its own environment into
 * /etc/container_environment for later boots, and its shutdown sends `down`
 * to the first one's services and signals its processes. So a my_init that
 * is not PID 1 refuses to start when it finds one in charge: PID 1 itself,
 * or the process the marker names ({@link MARKER_PATH}, written by a my_init
 * that runs as another PID: under `docker run --init`, or in a Kubernetes
 * pod that shares its PID namespace, whose PID 1 is `pause`).
 *
 * "A my_init" is a process whose command line starts with the same
 * runtime, flags and bundle as ours (the entries before the caller's
 * arguments: scripts/launcher.ts), so install_clean or setuser as PID 1
 * (same runtime, other bundle) is not one. A my_init that is PID 1 of its
 * own PID namespace (`unshare --pid`, the tests' sandboxes) checks nothing:
 * that namespace is its container.
 *
 * @module
 */

import { shellQuote } from "../lib/shell_quote.ts";

/**
 * The run-state marker: the PID of the my_init in charge, written by one
 * that is not PID 1 (PID 1 needs none: it is found as PID 1).
 */
export const MARKER_PATH = "/run/my_init.pid";

/** The entries of a command line before its last `argCount` (the runtime's own). */
export function runtimePrefix<T>(entries: readonly T[], argCount: number): T[] {
  return entries.slice(0, Math.max(0, entries.length - argCount));
}

/**
 * Whether a process with command line `other` runs the program whose
 * runtime prefix is `prefix`: it starts with the same entries, byte for byte.
 */
export function runsSameProgram(
  prefix: readonly Uint8Array[],
  other: readonly Uint8Array[],
): boolean {
  if (prefix.length === 0 || other.length < prefix.length) return false;
  return prefix.every((entry, i) => sameBytes(entry, other[i]));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The PID in the marker's text, or undefined when it names none. */
export function parseMarker(text: string): number | undefined {
  const m = /^\s*([1-9][0-9]{0,9})\s*$/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The my_init found in charge. */
export interface RunningInstance {
  /** Its PID, as this process sees it. */
  pid: number;
  /** Found as PID 1, or through the marker. */
  via: "pid1" | "marker";
}

/**
 * What a second my_init says before it exits: who is in charge, why it
 * stops, and what to run instead. Pinned by instance_check_test.ts.
 */
export function secondInstanceMessage(
  found: RunningInstance,
  command: readonly string[],
): string {
  const where = found.via === "pid1"
    ? "as PID 1"
    : `as PID ${found.pid} (${MARKER_PATH})`;
  const cmd = command.length > 0
    ? command.map(quoteIfNeeded).join(" ")
    : "COMMAND";
  return `my_init is already running in this container ${where}: a second ` +
    "one would run the startup scripts again, rewrite the environment " +
    "files and stop the services of the first. Nothing was done. Run the " +
    `command itself instead (docker exec CONTAINER ${cmd}), or as another ` +
    `user with setuser (docker exec CONTAINER setuser USER ${cmd}).`;
}

/** A word as a shell needs it: as is when plain, else quoted. */
function quoteIfNeeded(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : shellQuote(word);
}
