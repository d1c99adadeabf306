/**
 * The container environment, pure part: which variables are exported, how an
 * `/etc/container_environment/NAME` file becomes a value, how the
 * environment is merged on import, and how the `.sh` and `.json` dumps are
 * rendered. Reading and writing the files is `env_dir.ts`.
 *
 * @module
 */

import { shellQuote } from "../lib/shell_quote.ts";
import { decodeBytes, encodeBytes, isText } from "../lib/env_bytes.ts";

/**
 * Variables never written to the directory or the dumps. They describe the
 * user my_init runs as, and the dumps are sourced by other users (e.g. a
 * login as `postgres`), who must keep their own (phusion PR #86, issue #119).
 */
export const NEVER_EXPORTED: ReadonlySet<string> = new Set([
  "HOME",
  "USER",
  "GROUP",
  "UID",
  "GID",
  "SHELL",
]);

/**
 * The kernel's limit on one `NAME=value` string, its terminating NUL
 * included (MAX_ARG_STRLEN, 32 pages). A longer variable makes execve() of
 * every child fail with E2BIG, so it is refused on import.
 */
export const MAX_ARG_STRLEN = 131072;

/**
 * Variables bash makes read-only. `export PPID=...` in a sourced file is an
 * error, and bash in POSIX mode (or any script under `set -e`) dies on it, so
 * one such variable would break `. /etc/container_environment.sh` for all.
 */
const BASH_READONLY: ReadonlySet<string> = new Set([
  "BASHOPTS",
  "BASH_VERSINFO",
  "EUID",
  "PPID",
  "SHELLOPTS",
  "UID",
]);

const encoder = new TextEncoder();

/**
 * Makes an environment name usable in `export NAME=...`: every character
 * outside `[A-Za-z0-9_]` becomes `_`, as phusion's `re.sub(r'\W', '_', name)`
 * but ASCII only, because the shells accept no other letters in names. A
 * name starting with a digit stays invalid; {@link shellDumpEntries} leaves
 * it out.
 */
export function sanitizeShellName(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/gu, "_");
}

/**
 * Orders strings by their UTF-8 bytes (as `ls` in the C locale and Python's
 * `sorted()` do), which for strings is code point order. Plain `<` compares
 * UTF-16 units and puts U+FFFF after astral characters.
 */
export function compareByBytes(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** The variables a dump or the directory gets: all but {@link NEVER_EXPORTED}, by name. */
export function exportedEntries(
  env: Readonly<Record<string, string>>,
): [string, string][] {
  return Object.entries(env)
    .filter(([name]) => !NEVER_EXPORTED.has(name))
    .sort(([a], [b]) => compareByBytes(a, b));
}

/** One `export` line of the shell dump. */
export interface ShellDumpEntry {
  /** The variable's real name. */
  name: string;
  /** The name it gets in the dump, {@link sanitizeShellName} of `name`. */
  shellName: string;
  /** Its value. */
  value: string;
}

/** A variable left out of the shell dump, and why (for a warning). */
export interface ShellDumpOmission {
  /** The variable's real name. */
  name: string;
  /** Why it is left out, a sentence fragment. */
  reason: string;
}

/**
 * Decides the lines of the shell dump: exported variables under their
 * sanitised names, sorted by those names. Left out, so that sourcing the dump
 * never fails half-way: names that stay invalid (a leading digit: dash exits
 * with "bad variable name"), names bash holds read-only, and a sanitised name
 * already taken. A variable whose real name is the shell name wins that
 * name; among sanitised ones, the first in byte order.
 */
export function shellDumpEntries(
  env: Readonly<Record<string, string>>,
): { entries: ShellDumpEntry[]; omitted: ShellDumpOmission[] } {
  const taken = new Map<string, ShellDumpEntry>();
  const omitted: ShellDumpOmission[] = [];
  const renamed: ShellDumpEntry[] = [];
  for (const [name, value] of exportedEntries(env)) {
    const shellName = sanitizeShellName(name);
    if (/^[0-9]/.test(shellName)) {
      omitted.push({
        name,
        reason: "a shell variable name cannot start with a digit",
      });
    } else if (BASH_READONLY.has(shellName)) {
      omitted.push({ name, reason: `bash holds "${shellName}" read-only` });
    } else if (shellName === name) {
      taken.set(name, { name, shellName, value });
    } else {
      renamed.push({ name, shellName, value });
    }
  }
  for (const entry of renamed) {
    const holder = taken.get(entry.shellName);
    if (holder === undefined) {
      taken.set(entry.shellName, entry);
    } else {
      omitted.push({
        name: entry.name,
        reason:
          `its shell name "${entry.shellName}" is taken by "${holder.name}"`,
      });
    }
  }
  const entries = [...taken.values()].sort((a, b) =>
    compareByBytes(a.shellName, b.shellName)
  );
  omitted.sort((a, b) => compareByBytes(a.name, b.name));
  return { entries, omitted };
}

/**
 * Renders `/etc/container_environment.sh`: one `export NAME='value'` line per
 * entry of {@link shellDumpEntries}. Sourcing it under bash or dash sets each
 * variable to exactly its value.
 */
export function renderShellDump(env: Readonly<Record<string, string>>): string {
  return shellDumpEntries(env).entries
    .map(({ shellName, value }) => `export ${shellName}=${shellQuote(value)}\n`)
    .join("");
}

/**
 * Renders `/etc/container_environment.json`: one object of the exported
 * variables, keys in byte order. Phusion dumps all of `os.environ` here, HOME
 * included; we keep the JSON consistent with the shell dump instead.
 */
export function renderJsonDump(env: Readonly<Record<string, string>>): string {
  // A null prototype, so that a variable named "__proto__" is an own key.
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of exportedEntries(env)) {
    if (isText(name) && isText(value)) out[name] = value;
  }
  return JSON.stringify(out);
}

/**
 * The exported variables the JSON dump leaves out: those whose name or
 * value is not UTF-8 (lib/env_bytes.ts), which a JSON string cannot hold.
 * The shell dump and the directory keep them, byte-exact.
 */
export function jsonDumpOmissions(
  env: Readonly<Record<string, string>>,
): string[] {
  return exportedEntries(env)
    .filter(([name, value]) => !isText(name) || !isText(value))
    .map(([name]) => name);
}

/**
 * Why `name` cannot be an environment variable name, or undefined if it can.
 * Dots and dashes are fine: execve() passes them on and phusion imports them.
 */
export function envNameProblem(name: string): string | undefined {
  if (name === "") return "the name is empty";
  if (name.includes("=")) return 'the name contains "="';
  if (name.includes("\0")) return "the name contains a NUL byte";
  return undefined;
}

/**
 * Why a variable with a value of `valueBytes` bytes is too long to pass to
 * children, or undefined if it fits in {@link MAX_ARG_STRLEN}.
 */
export function envSizeProblem(
  name: string,
  valueBytes: number,
): string | undefined {
  // NAME, "=", the value and the NUL that ends the string.
  const size = encoder.encode(name).length + 1 + valueBytes + 1;
  if (size <= MAX_ARG_STRLEN) return undefined;
  return `the variable needs ${size} bytes, over the kernel's limit of ${MAX_ARG_STRLEN} ` +
    "(MAX_ARG_STRLEN): every program started with it would fail with E2BIG";
}

/**
 * Why a file of `size` bytes cannot hold a variable, or undefined if it may.
 * Even without a trailing newline its value would be over
 * {@link MAX_ARG_STRLEN}; checking the size first keeps PID 1 from reading a
 * huge file into memory.
 */
export function envFileSizeProblem(size: number): string | undefined {
  if (size <= MAX_ARG_STRLEN + 1) return undefined;
  return `the file is ${size} bytes, over the kernel's limit of ${MAX_ARG_STRLEN} for a variable ` +
    "(MAX_ARG_STRLEN): every program started with it would fail with E2BIG";
}

/**
 * The content of `dir/NAME` for `value`: the value as is, as phusion writes
 * it (scripts `cat` these files), plus one newline if the value itself ends
 * in a newline. {@link decodeEnvFile} drops one trailing newline, so without
 * it such a value would lose a newline at every re-import after a startup
 * script.
 */
export function encodeEnvFile(value: string): string {
  return value.endsWith("\n") ? `${value}\n` : value;
}

/**
 * Why a file the directory listed could not be read, from the error of
 * reading it (`notFound`: ENOENT). The runtime lists a name that is not
 * UTF-8 with U+FFFD in place of each bad byte, and no file has that name:
 * "No such file or directory" would send the user looking for a file that
 * is there.
 */
export function envFileReadProblem(
  name: string,
  error: string,
  notFound: boolean,
): string {
  if (notFound && name.includes("\uFFFD")) {
    return "the file name is not UTF-8 (shown with U+FFFD for its bad " +
      "bytes), which a variable's name must be here: rename the file";
  }
  return `unable to read it: ${error}`;
}

/** The outcome of decoding one environment file. */
export type EnvFileVerdict =
  | { ok: true; value: string }
  | { ok: false; reason: string };

/**
 * Decides the value of variable `name` from the bytes of its file. One
 * trailing newline is dropped, because editors and `echo` add one (phusion PR
 * #49, `re.sub('\n\Z', '', ...)`); a second one is part of the value.
 * Refused: a name no environment can hold, a NUL byte in the value, and a
 * variable over {@link MAX_ARG_STRLEN}. Bytes that are not UTF-8 are kept.
 */
export function decodeEnvFile(name: string, bytes: Uint8Array): EnvFileVerdict {
  const nameProblem = envNameProblem(name);
  if (nameProblem !== undefined) return { ok: false, reason: nameProblem };
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0a
    ? bytes.length - 1
    : bytes.length;
  const body = bytes.subarray(0, end);
  const sizeProblem = envSizeProblem(name, body.length);
  if (sizeProblem !== undefined) return { ok: false, reason: sizeProblem };
  if (body.includes(0)) {
    return { ok: false, reason: "the value contains a NUL byte" };
  }
  // Bytes that are not UTF-8 are kept as they are (lib/env_bytes.ts): the
  // variable may have come from `docker run -e` and been exported here.
  return { ok: true, value: decodeBytes(body) };
}

/**
 * The bytes of the arguments area the kernel leaves a new program for its
 * arguments and environment, from sysconf(_SC_ARG_MAX). The kernel allows
 * a quarter of the stack limit (glibc's sysconf answers just that), but
 * never more than 3/4 of _STK_LIM (6 MiB, however large the stack limit)
 * nor less than 32 pages (128 KiB): fs/exec.c, bprm_stack_limits().
 */
export function argumentsArea(argMax: number): number {
  const floor = 32 * 4096;
  const cap = 6 * 1024 * 1024;
  return Number.isFinite(argMax) && argMax > 0
    ? Math.max(floor, Math.min(argMax, cap))
    : floor;
}

/**
 * Of the arguments area, the part kept for the arguments of the programs
 * my_init and the services start (argv strings and pointers, the file
 * name, the interpreter a `#!` line adds): 128 KiB, the length one
 * argument may have ({@link MAX_ARG_STRLEN}). The environment gets the rest.
 */
export const ARGUMENTS_RESERVE = 128 * 1024;

/** The bytes the environment may take in the arguments area of `argMax`. */
export function envSpace(argMax: number): number {
  return Math.max(0, argumentsArea(argMax) - ARGUMENTS_RESERVE);
}

/** sizeof(char *) on LP64: each variable costs the kernel a pointer in envp too. */
const POINTER_BYTES = 8;

/**
 * The bytes one variable takes in a new program's arguments area:
 * `NAME=value`, its NUL, and its envp pointer.
 */
export function envEntryBytes(name: string, value: string): number {
  return encodeBytes(name).length + 1 + encodeBytes(value).length + 1 +
    POINTER_BYTES;
}

/** The bytes a whole environment takes, envp's ending NULL included. */
export function envBytes(env: ReadonlyMap<string, string>): number {
  let total = POINTER_BYTES;
  for (const [name, value] of env) total += envEntryBytes(name, value);
  return total;
}

/**
 * Why an imported variable of `bytes` bytes is left out when the
 * environment has `spaceBytes` in all (see {@link envSpace}).
 */
export function envSpaceProblem(bytes: number, spaceBytes: number): string {
  return `the environment has no room for its ${bytes} bytes: it would go ` +
    `over the ${spaceBytes} bytes left of the kernel's limit ` +
    `(sysconf(_SC_ARG_MAX), less ${ARGUMENTS_RESERVE} for arguments), and ` +
    "every program started would fail with E2BIG";
}

/** How {@link mergeEnv} combines the environment with the directory. */
export interface MergeEnvOptions {
  /** Start from an empty environment (but for `keep`), so a deleted file unsets its variable. */
  clear: boolean;
  /** Let the directory's value win over one already set. */
  override: boolean;
  /**
   * Variables `clear` keeps. Defaults to {@link NEVER_EXPORTED}: they are
   * never in the directory, so clearing them loses them for good; phusion
   * does, and services then run without HOME (phusion issue #490).
   */
  keep?: ReadonlySet<string>;
  /**
   * The bytes the whole environment may take ({@link envBytes}); no limit
   * if not given. Each variable is limited on its own by MAX_ARG_STRLEN, but
   * only the total makes every spawn fail with E2BIG.
   */
  spaceBytes?: number;
}

/** An imported variable left out for want of room. */
export interface EnvSpaceOmission {
  name: string;
  /** What it would have taken, {@link envEntryBytes}. */
  bytes: number;
}

/**
 * Decides the environment after an import, phusion's import_envvars():
 * `current` (cleared first if `clear`), then each variable of `fromDir` that
 * `override` allows or that is not set yet, in the order of `fromDir` (the
 * import's, by name), as long as the total stays within `spaceBytes`. What
 * `current` holds is counted first: it came with the container. A variable
 * that does not fit is left out (a value it would replace stays), and the
 * next ones are still tried.
 */
export function mergeEnv(
  current: Readonly<Record<string, string>>,
  fromDir: ReadonlyMap<string, string>,
  options: MergeEnvOptions,
): { env: Map<string, string>; omitted: EnvSpaceOmission[] } {
  const keep = options.keep ?? NEVER_EXPORTED;
  const space = options.spaceBytes ?? Infinity;
  const env = new Map<string, string>();
  for (const [name, value] of Object.entries(current)) {
    if (!options.clear || keep.has(name)) env.set(name, value);
  }
  const omitted: EnvSpaceOmission[] = [];
  let total = envBytes(env);
  for (const [name, value] of fromDir) {
    if (!options.override && env.has(name)) continue;
    const bytes = envEntryBytes(name, value);
    const old = env.get(name);
    const next = total + bytes -
      (old === undefined ? 0 : envEntryBytes(name, old));
    if (next > space && next > total) {
      omitted.push({ name, bytes });
      continue;
    }
    env.set(name, value);
    total = next;
  }
  return { env, omitted };
}

/**
 * Why variable `name` cannot have a file in the directory, or undefined if it
 * can. `extraBytes` is the length the temporary name adds.
 */
export function envFileNameProblem(
  name: string,
  extraBytes = 0,
): string | undefined {
  if (name === "." || name === "..") {
    return `"${name}" is not a usable file name`;
  }
  if (name.includes("/")) return 'a file name cannot contain "/"';
  // Deno's file API takes names as text.
  if (!isText(name)) return "the name is not UTF-8";
  // NAME_MAX, the longest name one directory entry can have.
  if (encoder.encode(name).length + extraBytes > 255) {
    return "the name is too long for a file name";
  }
  return undefined;
}

/**
 * Whether `e`, thrown by a file operation, says that the file system is
 * read-only (EROFS): a `--read-only` container, Kubernetes'
 * `readOnlyRootFilesystem`. Deno gives such an error no class of its own,
 * only the errno's name in `code`.
 */
export function isReadOnlyFsError(e: unknown): boolean {
  return e instanceof Error && (e as { code?: unknown }).code === "EROFS";
}

/**
 * A part of the container environment (the directory or a dump) that could
 * not be written at its path because that is on a read-only file system.
 */
export interface ReadOnlyMove {
  /** Its path, on a read-only file system. */
  from: string;
  /** Where it went instead, or was meant to; undefined without a fallback. */
  to?: string;
  /** Why `to` could not be written either; undefined when it was. */
  error?: string;
}

/** "a", "a and b", "a, b and c". */
function listing(items: readonly string[]): string {
  return items.length < 2
    ? items.join("")
    : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/**
 * The one warning an export gives about parts that a read-only file system
 * kept from their paths, or undefined for none. One line for them all, as
 * each startup script is followed by another export: a warning per part,
 * per variable or per script would bury the log.
 */
export function readOnlyWarning(
  moves: readonly ReadOnlyMove[],
): string | undefined {
  if (moves.length === 0) return undefined;
  const from = moves.map((m) => m.from);
  const moved = moves.filter((m) => m.to !== undefined && m.error === undefined)
    .map((m) => m.to!);
  const failed = moves.filter((m) =>
    m.to !== undefined && m.error !== undefined
  );
  const clauses: string[] = [];
  if (moved.length > 0) clauses.push(`writing ${listing(moved)} instead`);
  if (failed.length > 0) {
    clauses.push(
      `unable to write ${listing(failed.map((m) => m.to!))} either (${
        failed[0].error
      })`,
    );
  }
  if (moved.length + failed.length < moves.length) {
    clauses.push("not written");
  }
  const verb = from.length === 1 ? "is" : "are";
  return `${listing(from)} ${verb} on a read-only file system: ${
    clauses.join("; ")
  }`;
}

/**
 * The entries of a fallback directory to remove before a boot's first
 * export into it: all but the variables written now. Unlike the usual
 * directory, which the image and its users fill, a fallback directory holds
 * only what an earlier boot exported (a /run that is not a tmpfs keeps it),
 * and importing its leftovers after a startup script would bring back
 * variables this container was never given.
 */
export function staleEnvFiles(
  names: readonly string[],
  written: ReadonlySet<string>,
): string[] {
  return names.filter((name) => !written.has(name)).sort(compareByBytes);
}
