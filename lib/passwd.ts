/**
 * User and group look-ups through libc, so that every NSS source configured
 * in /etc/nsswitch.conf answers (files, LDAP, sssd, ...), not only
 * /etc/passwd.
 *
 * A name made only of digits is looked up as a name first and as a numeric
 * id only when no such name exists, as chown(1) and runuser(1) do.
 *
 * @module
 */

import { C, clearErrno, errno, ErrnoError, LAYOUT, libc } from "./libc.ts";
import { cstr, readCString } from "./cstr.ts";

/** The fields of a `struct passwd` the tools use. */
export interface PasswdEntry {
  /** pw_name: the canonical login name. */
  readonly name: string;
  /** pw_uid */
  readonly uid: number;
  /** pw_gid: the login group. */
  readonly gid: number;
  /** pw_dir: the home directory, possibly empty. */
  readonly dir: string;
  /** pw_shell: the login shell, possibly empty. */
  readonly shell: string;
}

/** The fields of a `struct group` the tools use. */
export interface GroupEntry {
  /** gr_name */
  readonly name: string;
  /** gr_gid */
  readonly gid: number;
}

/**
 * Parses a numeric uid or gid: decimal digits only, below 2^32 - 1 (which
 * is (uid_t)-1, "no change" to setreuid and never a real id).
 */
export function parseNumericId(text: string): number | undefined {
  if (!/^[0-9]{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n < 0xffff_ffff ? n : undefined;
}

// getpwnam and friends return NULL both for "no such entry" and for a
// failure; only a cleared errno tells them apart. These errno values are
// the failures listed in getpwnam(3); anything else (0, ENOENT, ESRCH,
// EBADF, EPERM) means "not found".
const LOOKUP_FAILURES: readonly number[] = [
  C.EINTR,
  C.EIO,
  C.EMFILE,
  C.ENFILE,
  C.ENOMEM,
  C.ERANGE,
];

function notFoundOrThrow(what: string): undefined {
  const code = errno();
  if (LOOKUP_FAILURES.includes(code)) throw new ErrnoError(what, code);
  return undefined;
}

function readPasswd(p: Deno.PointerObject): PasswdEntry {
  const v = new Deno.UnsafePointerView(p);
  const L = LAYOUT.passwd;
  return {
    name: readCString(v.getPointer(L.pw_name)) ?? "",
    uid: v.getUint32(L.pw_uid),
    gid: v.getUint32(L.pw_gid),
    dir: readCString(v.getPointer(L.pw_dir)) ?? "",
    shell: readCString(v.getPointer(L.pw_shell)) ?? "",
  };
}

function readGroup(p: Deno.PointerObject): GroupEntry {
  const v = new Deno.UnsafePointerView(p);
  return {
    name: readCString(v.getPointer(LAYOUT.group.gr_name)) ?? "",
    gid: v.getUint32(LAYOUT.group.gr_gid),
  };
}

/**
 * Looks up a user by name, or by numeric uid when `spec` is a number that
 * names no user. Returns undefined when there is no such user; throws
 * ErrnoError when the user database could not be read.
 */
export function lookupUser(spec: string): PasswdEntry | undefined {
  const c = libc();
  clearErrno();
  const byName = c.getpwnam(cstr(spec));
  if (byName !== null) return readPasswd(byName);
  notFoundOrThrow(`getpwnam("${spec}")`);
  const uid = parseNumericId(spec);
  if (uid === undefined) return undefined;
  clearErrno();
  const byId = c.getpwuid(uid);
  if (byId !== null) return readPasswd(byId);
  return notFoundOrThrow(`getpwuid(${uid})`);
}

/**
 * Looks up a group by name, or by numeric gid when `spec` is a number that
 * names no group. Returns undefined when there is no such group; throws
 * ErrnoError when the group database could not be read.
 */
export function lookupGroup(spec: string): GroupEntry | undefined {
  const c = libc();
  clearErrno();
  const byName = c.getgrnam(cstr(spec));
  if (byName !== null) return readGroup(byName);
  notFoundOrThrow(`getgrnam("${spec}")`);
  const gid = parseNumericId(spec);
  if (gid === undefined) return undefined;
  clearErrno();
  const byId = c.getgrgid(gid);
  if (byId !== null) return readGroup(byId);
  return notFoundOrThrow(`getgrgid(${gid})`);
}

/**
 * The groups initgroups(3) gives `user` with login group `gid`: `gid` plus
 * every group of the group database that lists `user` as a member.
 */
export function groupList(user: string, gid: number): number[] {
  const name = cstr(user);
  let size = 32;
  // getgrouplist returns -1 and stores the needed count when the buffer is
  // too small; the database may grow between calls, hence the loop.
  for (let attempt = 0; attempt < 8; attempt++) {
    const groups = new Uint32Array(size);
    const count = new Int32Array([size]);
    const rc = libc().getgrouplist(
      name,
      gid,
      new Uint8Array(groups.buffer),
      new Uint8Array(count.buffer),
    );
    if (rc >= 0) return [...groups.subarray(0, count[0])];
    size = Math.max(count[0], size * 2);
  }
  throw new Error(`getgrouplist("${user}") kept growing`);
}

/** The supplementary groups of this process, as getgroups(2) reports them. */
export function currentGroups(): number[] {
  const c = libc();
  for (let attempt = 0; attempt < 8; attempt++) {
    const n = c.getgroups(0, null);
    if (n < 0) throw new ErrnoError("getgroups", errno());
    const groups = new Uint32Array(Math.max(n, 1));
    const got = c.getgroups(n, new Uint8Array(groups.buffer));
    if (got >= 0) return [...groups.subarray(0, got)];
    const code = errno();
    // EINVAL: the list grew between the two calls; ask again.
    if (code !== C.EINVAL) throw new ErrnoError("getgroups", code);
  }
  throw new Error("getgroups kept growing");
}
