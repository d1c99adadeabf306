/**
 * Reading a process's credentials from the text of /proc/PID/status.
 *
 * @module
 */

import type { Credentials } from "./credentials.ts";

function ids(text: string, field: string): number[] | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${field}:`));
  if (line === undefined) return undefined;
  const values = line.slice(field.length + 1).trim().split(/\s+/).filter(
    Boolean,
  );
  if (!values.every((v) => /^[0-9]+$/.test(v))) return undefined;
  return values.map(Number);
}

/**
 * The credentials in a /proc/PID/status text: the Uid and Gid lines (real,
 * effective, saved, filesystem) and Groups. These are the values getuid(2)
 * and the like return, plus the saved and filesystem ids they cannot show.
 * Returns undefined for a text without them.
 */
export function parseProcStatus(text: string): Credentials | undefined {
  const uid = ids(text, "Uid");
  const gid = ids(text, "Gid");
  const groups = ids(text, "Groups");
  if (uid?.length !== 4 || gid?.length !== 4 || groups === undefined) {
    return undefined;
  }
  return {
    uid: uid[0],
    euid: uid[1],
    suid: uid[2],
    fsuid: uid[3],
    gid: gid[0],
    egid: gid[1],
    sgid: gid[2],
    fsgid: gid[3],
    groups,
  };
}
