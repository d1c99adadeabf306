/**
 * setuser: runs a command as another user, in place of itself.
 *
 *     setuser USER[:GROUP] COMMAND [ARGS...]
 *
 * Meant for runit run scripts (`exec /sbin/setuser memcache memcached`):
 * the command keeps setuser's PID, so runit supervises the service itself,
 * and keeps its stdio and every fd the caller passed.
 *
 * Steps: look USER (and GROUP) up through NSS; as root, initgroups, setgid,
 * setuid, then check that uid, gid and groups are what was asked and that
 * root cannot be taken back; set HOME, USER, LOGNAME, UID and SHELL in the
 * caller's environment (passed on byte-exact, lib/caller_env.ts); give
 * SIGPIPE its default disposition and unblock every signal; execvpe.
 *
 * A numeric USER without a passwd entry is refused: there would be no name
 * for initgroups, HOME or USER, and phusion's setuser (pwd.getpwnam only)
 * accepted names alone. With USER:GROUP, GROUP replaces the login group and
 * the supplementary groups are those of the group database, as
 * `runuser -g` does. Without root (my_init's non-root mode), setuser only
 * "switches" to the uid (and group) it already runs as, by name or number,
 * a number without a passwd entry included, and execs in place; any other
 * target is refused.
 *
 * Not found vs not executable follows execvp(3): a PATH directory the user
 * may not search makes a missing command EACCES (126), not ENOENT (127).
 *
 * Exit codes (COMMAND's own once it runs):
 *   0    --help
 *   1    usage error, unknown user or group, not root and asked for another
 *        user ("non-root mode cannot switch users"), failed or incomplete
 *        privilege drop (nothing is run)
 *   126  COMMAND found but cannot be executed
 *   127  COMMAND not found
 *
 * @module
 */

import { readCallerArgs } from "../lib/caller_args.ts";
import { readCallerEnv } from "../lib/caller_env.ts";
import { errorMessage } from "../lib/error_message.ts";
import { C, strerror } from "../lib/libc.ts";
import { findProgram, notFoundReason } from "../lib/missing_program.ts";
import { writeAll } from "../lib/write_all.ts";
import {
  groupList,
  lookupGroup,
  lookupUser,
  parseNumericId,
  type PasswdEntry,
} from "../lib/passwd.ts";
import { type Invocation, parseArgs, USAGE } from "./cli.ts";
import { usageErrorText } from "../lib/usage.ts";
import {
  type Credentials,
  planSwitch,
  planWithoutRoot,
  type Target,
  verifyDrop,
} from "./credentials.ts";
import { currentCredentials, dropPrivileges, observeDrop } from "./drop.ts";
import { userEnv } from "./env.ts";
import { execCommand, resetSignals } from "./exec.ts";
import { execFailure } from "./exec_failure.ts";

function fatal(message: string, code = 1): never {
  writeAll(Deno.stderr, `setuser: fatal: ${message}\n`);
  Deno.exit(code);
}

/** Exits 1: `spec`, a user or a group, cannot be found (`why`). */
function notFound(
  kind: "user" | "group",
  spec: string,
  why = `no such ${kind}`,
): never {
  fatal(`unable to find ${kind} "${spec}": ${why}`);
}

function findUser(spec: string): PasswdEntry {
  let user;
  try {
    user = lookupUser(spec);
  } catch (e) {
    notFound("user", spec, errorMessage(e));
  }
  return user ?? notFound("user", spec);
}

function findGroupId(spec: string): number {
  let group;
  try {
    group = lookupGroup(spec);
  } catch (e) {
    notFound("group", spec, errorMessage(e));
  }
  return group?.gid ?? notFound("group", spec);
}

function switchTo(current: Credentials, target: Target): void {
  const plan = planSwitch(current, target);
  if (plan === "keep") return;
  if (plan === "refuse") {
    fatal(
      `unable to switch to user "${target.name}": not running as root (uid ${current.euid})`,
    );
  }
  try {
    dropPrivileges(target);
  } catch (e) {
    fatal(errorMessage(e));
  }
  const problems = verifyDrop(target, observeDrop(target));
  if (problems.length > 0) {
    fatal(
      `privilege drop to "${target.name}" incomplete: ${problems.join("; ")}`,
    );
  }
}

/** A look-up that counts a failure as not found: the answer is only compared. */
function quietly<T>(lookup: () => T | undefined): T | undefined {
  try {
    return lookup();
  } catch {
    return undefined;
  }
}

/**
 * Not root: runs the command as the caller itself when that is the target
 * (by name or number, with or without a passwd entry); refuses any other.
 */
function runAsSelf(
  invocation: Extract<Invocation, { kind: "run" }>,
  current: Credentials,
  callerEnv: Map<string, string>,
): never {
  const spec = invocation.group === undefined
    ? invocation.user
    : `${invocation.user}:${invocation.group}`;
  const entry = quietly(() => lookupUser(invocation.user));
  const uid = entry?.uid ?? parseNumericId(invocation.user);
  const group = invocation.group;
  const gid = group === undefined
    ? undefined
    : quietly(() => lookupGroup(group))?.gid ?? parseNumericId(group);
  // As in root mode, a name with no entry that is no number fails: an
  // unknown GROUP was taken for none, and the command ran with the
  // caller's group.
  if (uid === undefined) notFound("user", invocation.user);
  if (group !== undefined && gid === undefined) notFound("group", group);
  if (planWithoutRoot(current, { uid, gid }) === "refuse") {
    fatal(
      `non-root mode cannot switch users: running as uid ${current.euid}, asked for "${spec}"`,
    );
  }
  // No passwd entry: the number is the name, and HOME stays the caller's.
  const user = entry ?? {
    name: String(uid),
    uid,
    gid: current.gid,
    dir: callerEnv.get("HOME") ?? "",
    shell: "",
  };
  execAs(invocation, user, callerEnv);
}

/** Sets the user's variables, resets signals and execs the command. */
function execAs(
  invocation: Extract<Invocation, { kind: "run" }>,
  user: PasswdEntry,
  callerEnv: Map<string, string>,
): never {
  const env = new Map(callerEnv);
  for (const [name, value] of Object.entries(userEnv(user))) {
    env.set(name, value);
  }
  resetSignals();
  const code = execCommand(invocation.command, env);
  const file = invocation.command[0];
  // ENOENT: the command, or the interpreter of its #! line?
  const found = code === C.ENOENT
    ? findProgram(file, { path: env.get("PATH") })
    : undefined;
  const reason = found === undefined ? strerror(code) : notFoundReason(found);
  const failure = execFailure(file, code, reason);
  writeAll(Deno.stderr, failure.text);
  Deno.exit(failure.exitCode);
}

function main(invocation: Invocation, callerEnv: Map<string, string>): never {
  if (invocation.kind === "help") {
    writeAll(Deno.stdout, USAGE);
    Deno.exit(0);
  }
  if (invocation.kind === "usage-error") {
    writeAll(Deno.stderr, usageErrorText("setuser", USAGE, invocation.message));
    Deno.exit(1);
  }
  const current = currentCredentials();
  if (current.euid !== 0) runAsSelf(invocation, current, callerEnv);
  const user = findUser(invocation.user);
  const gid = invocation.group === undefined
    ? user.gid
    : findGroupId(invocation.group);
  let groups;
  try {
    groups = groupList(user.name, gid);
  } catch (e) {
    fatal(`unable to list the groups of "${user.name}": ${errorMessage(e)}`);
  }
  switchTo(current, { name: user.name, uid: user.uid, gid, groups });
  execAs(invocation, user, callerEnv);
}

const caller = readCallerEnv();
if (caller.problem) {
  writeAll(Deno.stderr, `setuser: warning: ${caller.problem}\n`);
}
main(await parseArgs(readCallerArgs(Deno.args)), caller.env);
