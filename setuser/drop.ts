/**
 * Switching the process to another user, and looking at the result.
 *
 * Order matters: supplementary groups and gid first, uid last, since after
 * setuid to a non-root user the process may no longer change its groups.
 * glibc applies set*id to every thread of the process (the runtime has
 * several), so no thread keeps root behind our back.
 *
 * @module
 */

import { errno, ErrnoError, libc } from "../lib/libc.ts";
import { cstr } from "../lib/cstr.ts";
import { currentGroups } from "../lib/passwd.ts";
import type { Credentials, Observed, Target } from "./credentials.ts";
import { parseProcStatus } from "./proc_status.ts";

/**
 * initgroups, setgid, setuid to `target`. Throws ErrnoError naming the step
 * that failed; the process may then be half switched, so the caller must
 * not run anything.
 */
export function dropPrivileges(target: Target): void {
  const c = libc();
  if (c.initgroups(cstr(target.name), target.gid) !== 0) {
    throw new ErrnoError(
      `unable to set the groups of "${target.name}"`,
      errno(),
    );
  }
  if (c.setgid(target.gid) !== 0) {
    throw new ErrnoError(`unable to set gid ${target.gid}`, errno());
  }
  if (c.setuid(target.uid) !== 0) {
    throw new ErrnoError(`unable to set uid ${target.uid}`, errno());
  }
}

/**
 * The credentials of the calling thread now: from /proc/thread-self/status,
 * which also shows the saved and filesystem ids (the getters below do not)
 * in one read; from the getters where /proc is not mounted. The calling thread, not /proc/self (the thread group leader):
 * the runtime runs JavaScript on a thread of its own, and exec gives the
 * command the credentials of the thread that calls it.
 */
export function currentCredentials(): Credentials {
  let status: string | undefined;
  try {
    status = Deno.readTextFileSync("/proc/thread-self/status");
  } catch {
    // No /proc (a bare chroot): ask libc.
  }
  return (status === undefined ? undefined : parseProcStatus(status)) ??
    credentialsFromLibc();
}

function credentialsFromLibc(): Credentials {
  const c = libc();
  return {
    uid: c.getuid(),
    euid: c.geteuid(),
    gid: c.getgid(),
    egid: c.getegid(),
    groups: currentGroups(),
  };
}

/**
 * The credentials after a drop to `target`, and whether root can be taken
 * back: tries setuid(0) (and setgid(0)) when the target is not root. Both
 * must fail; a success is reported, not hidden.
 */
export function observeDrop(target: Target): Observed {
  const c = libc();
  const unprivileged = target.uid !== 0;
  const regainedRoot = unprivileged && c.setuid(0) === 0;
  const regainedRootGroup = unprivileged && target.gid !== 0 &&
    c.setgid(0) === 0;
  return { ...currentCredentials(), regainedRoot, regainedRootGroup };
}
