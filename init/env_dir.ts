/**
 * The container environment, acting part: imports
 * `/etc/container_environment/*` into an environment (my_init's, which its
 * children get; never the runtime's Deno.env) and exports one to that
 * directory and to the `.sh` and `.json` dumps. Decisions are in `env.ts`.
 * Values are lib/env_bytes.ts strings: bytes that are not UTF-8 go to and
 * come from the files as they are.
 *
 * Nothing here throws: PID 1 must outlive a bad file or a read-only /etc, so
 * every problem becomes a call of `warn` and the step carries on. A part on
 * a read-only file system moves to a fallback path, with one warning.
 *
 * @module
 */

import { encodeBytes } from "../lib/env_bytes.ts";
import { C, libc } from "../lib/libc.ts";
import { errorMessage } from "../lib/error_message.ts";
import { renderPamEnvFile } from "./pam_env.ts";
import {
  compareByBytes,
  decodeEnvFile,
  encodeEnvFile,
  envFileNameProblem,
  envFileReadProblem,
  envFileSizeProblem,
  type EnvFileVerdict,
  envSpace,
  envSpaceProblem,
  exportedEntries,
  isReadOnlyFsError,
  jsonDumpOmissions,
  mergeEnv,
  NEVER_EXPORTED,
  type ReadOnlyMove,
  readOnlyWarning,
  renderJsonDump,
  renderShellDump,
  shellDumpEntries,
  staleEnvFiles,
} from "./env.ts";

/** Where the container environment lives. */
export interface EnvPaths {
  /** One file per variable, named after it, holding its value. */
  dir: string;
  /** `export NAME='value'` lines, for `source`. */
  shellDump: string;
  /** One JSON object of all exported variables. */
  jsonDump: string;
  /**
   * `NAME="value"` lines for pam_env (see pam_env.ts), which the image's
   * /etc/pam.d/cron reads for cron jobs; not written if not given.
   */
  pamEnv?: string;
}

/**
 * pam_env's file, in /run on either root: it is new (phusion has none), and
 * at boot nothing goes under /etc but phusion's paths. /etc/pam.d/cron
 * names it.
 */
export const PAM_ENV_PATH = "/run/container_environment.pam_env";

/** The paths phusion's my_init uses, which images and docs rely on. */
export const DEFAULT_ENV_PATHS: EnvPaths = {
  dir: "/etc/container_environment",
  shellDump: "/etc/container_environment.sh",
  jsonDump: "/etc/container_environment.json",
  pamEnv: PAM_ENV_PATH,
};

/**
 * Where my_init writes the parts of {@link DEFAULT_ENV_PATHS} that are on a
 * read-only file system (a read-only root), under /run, which such a
 * container has as a tmpfs (README, "Read-only root"). The image links
 * /etc/container_environment.json here, and /etc/container_environment.sh
 * to a loader that finds the dump here (or in non-root mode's places), so
 * that `source /etc/container_environment.sh` reads it wherever it was
 * written.
 */
export const RUN_ENV_PATHS: EnvPaths = {
  dir: "/run/container_environment",
  shellDump: "/run/container_environment.sh",
  jsonDump: "/run/container_environment.json",
  pamEnv: PAM_ENV_PATH,
};

/**
 * Group that may read the dumps: phusion's image creates `docker_env` with
 * this gid and non-root users join it to see the environment.
 */
export const DOCKER_ENV_GID = 8377;

/**
 * Temporary names inside the directory start with "=" and end in ".new". A
 * name with "=" can never be a variable, so a leftover from a crash between
 * write and rename is never imported as one; import skips them silently.
 */
const TEMP_PREFIX = "=";
const TEMP_SUFFIX = ".new";

/** Options of {@link importEnvDir}. */
export interface ImportEnvDirOptions {
  /** Where to read; {@link DEFAULT_ENV_PATHS} if not given. */
  paths?: EnvPaths;
  /** Empty the environment first (keeping `keep`), so deleted files unset their variables. */
  clear: boolean;
  /** Let a file's value replace a variable already set. */
  override: boolean;
  /** Variables `clear` keeps; see `MergeEnvOptions.keep` in env.ts. */
  keep?: ReadonlySet<string>;
  /** Reports a problem; a file with a problem is skipped. */
  warn: (msg: string) => void;
  /**
   * The bytes the whole environment may take; if not given,
   * {@link envSpace} of this process's sysconf(_SC_ARG_MAX) (children
   * inherit its stack limit, which sets theirs).
   */
  spaceBytes?: number;
}

/**
 * Imports the directory into `current`, phusion's import_envvars(), and
 * returns the environment that results. A missing
 * directory imports nothing. Files are read in byte order; non-regular files
 * and files {@link decodeEnvFile} refuses are skipped with a warning. All files
 * are read before the environment changes. Each variable must fit in the
 * kernel's limit on its own (MAX_ARG_STRLEN), and together they must fit in
 * its limit for the arguments and environment of a new program: the
 * variables that would take the total over it are skipped in import order,
 * each with a warning, instead of every later spawn failing with E2BIG.
 *
 * main calls it with clear=false, override=false at start (the environment
 * given to the container wins) and with clear=true, override=true after each
 * startup script (the directory is then the truth).
 */
export function importEnvDir(
  current: ReadonlyMap<string, string>,
  options: ImportEnvDirOptions,
): Map<string, string> {
  const { dir } = options.paths ?? DEFAULT_ENV_PATHS;
  const fromDir = readEnvDir(dir, options.warn);
  if (fromDir === undefined) return new Map(current);
  // A variable that cannot have a file (a name that is not UTF-8, too long,
  // with a "/") was never in the directory, so no script can have removed
  // it there: clearing must not lose it.
  const extra = TEMP_PREFIX.length + TEMP_SUFFIX.length;
  const keep = new Set(options.keep ?? NEVER_EXPORTED);
  for (const name of current.keys()) {
    if (envFileNameProblem(name, extra) !== undefined) keep.add(name);
  }
  const spaceBytes = options.spaceBytes ?? envSpace(argMax());
  const { env, omitted } = mergeEnv(Object.fromEntries(current), fromDir, {
    ...options,
    keep,
    spaceBytes,
  });
  for (const { name, bytes } of omitted) {
    options.warn(
      `Ignoring ${dir}/${name}: ${envSpaceProblem(bytes, spaceBytes)}`,
    );
  }
  return env;
}

/** sysconf(_SC_ARG_MAX); -1 when libc does not say. */
function argMax(): number {
  try {
    return Number(libc().sysconf(C._SC_ARG_MAX));
  } catch {
    return -1;
  }
}

/** Reads every variable of `dir`; undefined if there is no directory to read. */
function readEnvDir(
  dir: string,
  warn: (msg: string) => void,
): Map<string, string> | undefined {
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].map((entry) => entry.name);
  } catch (e) {
    // No directory, as phusion: my_init may run outside baseimage (phusion #195).
    if (
      e instanceof Deno.errors.NotFound ||
      e instanceof Deno.errors.NotADirectory
    ) {
      return undefined;
    }
    warn(`Unable to read ${dir}: ${errorMessage(e)}`);
    return undefined;
  }
  names.sort(compareByBytes);
  const fromDir = new Map<string, string>();
  for (const name of names) {
    if (name.startsWith(TEMP_PREFIX) && name.endsWith(TEMP_SUFFIX)) continue;
    const path = `${dir}/${name}`;
    const value = readEnvFile(name, path);
    if (value.ok) fromDir.set(name, value.value);
    else warn(`Ignoring ${path}: ${value.reason}`);
  }
  return fromDir;
}

/** Reads and decodes one file, refusing what is not a regular file. */
function readEnvFile(name: string, path: string): EnvFileVerdict {
  let bytes: Uint8Array;
  try {
    // stat follows symlinks, as phusion's open() does. Opening a FIFO would
    // block PID 1 for good, and reading a huge file would exhaust memory.
    const info = Deno.statSync(path);
    if (!info.isFile) return { ok: false, reason: "it is not a regular file" };
    const tooBig = envFileSizeProblem(info.size);
    if (tooBig !== undefined) return { ok: false, reason: tooBig };
    bytes = Deno.readFileSync(path);
  } catch (e) {
    const notFound = e instanceof Deno.errors.NotFound;
    return {
      ok: false,
      reason: envFileReadProblem(name, errorMessage(e), notFound),
    };
  }
  return decodeEnvFile(name, bytes);
}

/**
 * Where each part of the container environment was written, as
 * {@link exportEnv} returns it: a part it wrote nowhere is left out.
 */
export type EnvTargets = Partial<EnvPaths>;

/** Options of {@link exportEnv}. */
export interface ExportEnvOptions {
  /**
   * Where to write; {@link DEFAULT_ENV_PATHS} if not given. A part left out
   * is not written (an earlier export found no place for it).
   */
  paths?: EnvTargets;
  /**
   * Where a part goes when its path is on a read-only file system (EROFS);
   * without it, such a part is written nowhere. Either way one warning
   * says so. {@link RUN_ENV_PATHS} for my_init at boot.
   */
  fallback?: EnvPaths;
  /** Reports a problem; the export carries on. */
  warn: (msg: string) => void;
  /**
   * Group given read access to the dumps; {@link DOCKER_ENV_GID} if not
   * given, none (the writer's own group) if null: non-root mode cannot give
   * files away.
   */
  gid?: number | null;
  /** Mode of the dumps; 0640 if not given (0600 in non-root mode). */
  dumpMode?: number;
  /**
   * Write one file per variable too (default true). Phusion's
   * export_envvars(to_dir=False) after a startup script writes only the
   * dumps, the directory having just been imported.
   */
  toDir?: boolean;
}

/**
 * Exports `environment`, phusion's export_envvars(): every variable but
 * `NEVER_EXPORTED` to `dir/NAME` (see `encodeEnvFile()` in env.ts), and the
 * shell and JSON dumps, and pam_env's file when `paths` has one. Each file is written as a temporary and renamed, so a
 * reader sees the old or the new file, never half of one. Without the
 * directory nothing is exported (phusion); dumps someone deleted are written
 * again, and a dump that is a symbolic link is replaced by the file (the
 * image links the dumps into /run for a read-only root). The dumps get mode
 * 0640 and group `gid`. A failed chown (my_init not root, `docker run
 * --user`) is reported once per call. Files of variables that no longer
 * exist are left in place, as phusion does: the directory is also the
 * user's input.
 *
 * A part whose path is on a read-only file system goes to its `fallback`
 * path instead, where the fallback directory is first emptied of an earlier
 * boot's files; one warning per call names what moved, not one per file.
 * Returns where each part went, for the next calls of the boot.
 */
export function exportEnv(
  environment: ReadonlyMap<string, string>,
  options: ExportEnvOptions,
): EnvTargets {
  const paths = options.paths ?? DEFAULT_ENV_PATHS;
  const { fallback, warn } = options;
  const gid = options.gid === null ? undefined : options.gid ?? DOCKER_ENV_GID;
  const dumpMode = options.dumpMode ?? 0o640;
  if (paths.dir !== undefined && !usableDir(paths.dir, warn)) return {};
  const env = Object.fromEntries(environment);
  const moves: ReadOnlyMove[] = [];
  const targets: EnvTargets = { ...paths };
  if (paths.dir !== undefined && (options.toDir ?? true)) {
    targets.dir = writePart(paths.dir, fallback?.dir, moves, (dir) => {
      if (dir !== paths.dir) prepareFallbackDir(dir, env);
      writeEnvDir(dir, env, warn);
    });
  }

  let chownWarned = false;
  const chownFailed = (path: string, e: unknown) => {
    if (chownWarned) return;
    chownWarned = true;
    warn(`Unable to give ${path} to group ${gid}: ${errorMessage(e)}`);
  };
  const writeDump = (text: string) => (path: string) => {
    try {
      writeAtomically(path, text, {
        temp: `${path}.new`,
        mode: dumpMode,
        gid,
        chownFailed,
      });
    } catch (e) {
      if (isReadOnlyFsError(e)) throw e;
      warn(`Unable to write ${path}: ${errorMessage(e)}`);
    }
  };
  const dumps = [
    {
      key: "shellDump",
      text: renderShellDump(env),
      omitted: shellDumpEntries(env).omitted,
    },
    {
      key: "jsonDump",
      text: renderJsonDump(env),
      omitted: jsonDumpOmissions(env).map((name) => ({
        name,
        reason: "it is not UTF-8, which JSON cannot hold",
      })),
    },
    { key: "pamEnv", ...renderPamEnvFile(env) },
  ] as const;
  for (const { key, text, omitted } of dumps) {
    const wanted = paths[key];
    if (wanted === undefined) continue;
    const path = writePart(wanted, fallback?.[key], moves, writeDump(text));
    targets[key] = path;
    if (path === undefined) continue;
    for (const { name, reason } of omitted) {
      warn(`Leaving ${name} out of ${path}: ${reason}`);
    }
  }
  const warning = readOnlyWarning(moves);
  if (warning !== undefined) warn(warning);
  return targets;
}

/**
 * Writes one part of the environment with `write`, at `path` or, when that
 * is on a read-only file system, at `fallback`; records such a move in
 * `moves`. Returns where the part went, undefined for nowhere. `write`
 * reports other problems itself and throws only EROFS.
 */
function writePart(
  path: string,
  fallback: string | undefined,
  moves: ReadOnlyMove[],
  write: (path: string) => void,
): string | undefined {
  try {
    write(path);
    return path;
  } catch (e) {
    if (!isReadOnlyFsError(e)) throw e;
  }
  if (fallback === undefined) {
    moves.push({ from: path });
    return undefined;
  }
  try {
    write(fallback);
  } catch (e) {
    moves.push({ from: path, to: fallback, error: errorMessage(e) });
    return undefined;
  }
  moves.push({ from: path, to: fallback });
  return fallback;
}

/**
 * Makes the fallback directory (mode 0700, as the image's) and removes what
 * an earlier boot left in it. Throws if it cannot be made.
 */
function prepareFallbackDir(
  dir: string,
  env: Readonly<Record<string, string>>,
): void {
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  Deno.chmodSync(dir, 0o700);
  const written = new Set(exportedEntries(env).map(([name]) => name));
  const names = [...Deno.readDirSync(dir)].map((entry) => entry.name);
  for (const name of staleEnvFiles(names, written)) {
    try {
      Deno.removeSync(`${dir}/${name}`);
    } catch {
      // Not ours to remove (a directory someone made): import skips it.
    }
  }
}

/**
 * Writes one file per exported variable into `dir`, warning about each
 * file it cannot write. Throws at the first EROFS instead: on a read-only
 * file system no file can be written, and the caller moves the directory.
 */
function writeEnvDir(
  dir: string,
  env: Readonly<Record<string, string>>,
  warn: (msg: string) => void,
): void {
  const extra = TEMP_PREFIX.length + TEMP_SUFFIX.length;
  for (const [name, value] of exportedEntries(env)) {
    const problem = envFileNameProblem(name, extra);
    if (problem !== undefined) {
      warn(`Not writing ${name} to ${dir}: ${problem}`);
      continue;
    }
    const path = `${dir}/${name}`;
    try {
      writeAtomically(path, encodeEnvFile(value), {
        temp: `${dir}/${TEMP_PREFIX}${name}${TEMP_SUFFIX}`,
        mode: 0o600,
      });
    } catch (e) {
      if (isReadOnlyFsError(e)) throw e;
      warn(`Unable to write ${path}: ${errorMessage(e)}`);
    }
  }
}

/**
 * Makes `link` a symbolic link to the directory `target` (the directory of
 * this boot, on a writable root /etc/container_environment), so that
 * /run/container_environment names the container environment on either
 * root and one path serves scripts and `chpst -e` on both (README,
 * "Read-only root"). A link to elsewhere is replaced; anything else at
 * `link` is left alone, with a warning, as is any failure.
 */
export function linkEnvDir(
  link: string,
  target: string,
  warn: (msg: string) => void,
): void {
  try {
    let info: Deno.FileInfo | undefined;
    try {
      info = Deno.lstatSync(link);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    if (info !== undefined && !info.isSymlink) {
      warn(`Unable to link ${link} to ${target}: something else is there`);
      return;
    }
    if (info !== undefined && Deno.readLinkSync(link) === target) return;
    const temp = `${link}${TEMP_SUFFIX}`;
    try {
      Deno.removeSync(temp);
    } catch {
      // No leftover of an earlier boot.
    }
    Deno.symlinkSync(target, temp);
    Deno.renameSync(temp, link);
  } catch (e) {
    warn(`Unable to link ${link} to ${target}: ${errorMessage(e)}`);
  }
}

/**
 * Whether `dir` is there to export into. Missing: false, silently, as
 * phusion's export_envvars returned (it also keeps a my_init run outside a
 * container from writing into the host's /etc). Not a directory: warns.
 */
function usableDir(dir: string, warn: (msg: string) => void): boolean {
  try {
    if (Deno.statSync(dir).isDirectory) return true;
    warn(`Unable to write ${dir}: it is not a directory`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      warn(`Unable to write ${dir}: ${errorMessage(e)}`);
    }
  }
  return false;
}

/** How {@link writeAtomically} writes a file. */
interface WriteOptions {
  /** The temporary file, in the same directory so that rename() is atomic. */
  temp: string;
  /** Permission bits, set whatever the umask or a leftover temporary had. */
  mode: number;
  /** Group to give the file, if any. */
  gid?: number;
  /** Called if giving the group fails; the file is still put in place. */
  chownFailed?: (path: string, e: unknown) => void;
}

/**
 * Writes `text` to a temporary file, sets its mode (and group), then renames
 * it over `path`. Throws if writing or renaming fails, leaving no temporary.
 */
function writeAtomically(
  path: string,
  text: string,
  options: WriteOptions,
): void {
  const { temp, mode, gid, chownFailed } = options;
  try {
    Deno.writeFileSync(temp, encodeBytes(text), { mode });
    // `mode` applies only to a new file, minus the umask.
    Deno.chmodSync(temp, mode);
    if (gid !== undefined) {
      try {
        Deno.chownSync(temp, null, gid);
      } catch (e) {
        chownFailed?.(path, e);
      }
    }
    Deno.renameSync(temp, path);
  } catch (e) {
    try {
      Deno.removeSync(temp);
    } catch {
      // Nothing was left behind, or it cannot be removed either.
    }
    throw e;
  }
}
