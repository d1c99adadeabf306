/**
 * Starting children through posix_spawnp(3).
 *
 * Children start as if from a fresh exec of a shell: an empty signal mask
 * and every signal at its default disposition. The tools run with every
 * signal blocked (the launcher) and the runtime ignores SIGPIPE; both
 * would survive exec (a `yes | head` in a service would spin forever
 * instead of dying of SIGPIPE, and a service could never be stopped).
 *
 * @module
 */

import { C, LAYOUT, libc, strerror } from "./libc.ts";
import { cstr, cstrArray, cstrArrayOfBytes, cstrOfBytes } from "./cstr.ts";
import { allSignals, SIGSET_SIZE, sigsetOf } from "./signals.ts";
import { encodeBytes, envEntries } from "./env_bytes.ts";
import {
  findProgram,
  type FoundProgram,
  notFoundReason,
} from "./missing_program.ts";

/** How to start a child. */
export interface SpawnOptions {
  /** The child's whole environment (see lib/env_bytes.ts). */
  env: ReadonlyMap<string, string>;
  /** The child's working directory (this process's if not given). */
  cwd?: string;
  /** Put the child in a process group of its own (pgid = its pid). */
  newProcessGroup?: boolean;
  /**
   * With `newProcessGroup`: make the child's group the foreground group of
   * this terminal fd before the child runs (job control for `-- bash -l`).
   */
  foregroundTty?: number;
}

/** A failed spawn, with the errno that posix_spawnp returned. */
export class SpawnError extends Error {
  /** The errno value (ENOENT, EACCES, ...). */
  readonly code: number;
  /** The program that could not be started. */
  readonly file: string;
  /** Creates the error for `file`. */
  constructor(file: string, code: number, message: string) {
    super(message);
    this.name = "SpawnError";
    this.code = code;
    this.file = file;
  }
}

function check(what: string, rc: number): void {
  if (rc !== 0) throw new Error(`${what} failed with error ${rc}`);
}

/**
 * All of 1..64, glibc's 32 and 33 included: sigfillset() leaves those two
 * out, and posix_spawn then starts the child with them ignored.
 */
const ALL_SIGNALS = sigsetOf(allSignals());

/**
 * Makes this process's PATH the one of `env`. posix_spawnp and execvp
 * search the PATH of the calling process, not of the environment they pass
 * on, and the runtime's own environment (the launcher's) has none.
 */
export function usePathOf(env: ReadonlyMap<string, string>): void {
  const path = env.get("PATH");
  const c = libc();
  if (path === undefined) c.unsetenv(cstr("PATH"));
  else c.setenv(cstr("PATH"), cstrOfBytes(encodeBytes(path)), 1);
}

/**
 * Starts `argv[0]` (searched in the PATH of `options.env`, as execvp does)
 * and returns its pid. Throws SpawnError when the program cannot be
 * executed; glibc reports exec failures of posix_spawn synchronously, so
 * ENOENT and EACCES arrive here.
 */
export function spawn(argv: readonly string[], options: SpawnOptions): number {
  if (argv.length === 0) throw new TypeError("Cannot spawn an empty argv");
  const c = libc();
  const attr = new Uint8Array(LAYOUT.spawnattr);
  const actions = new Uint8Array(LAYOUT.fileActions);
  const empty = new Uint8Array(SIGSET_SIZE);
  check("posix_spawnattr_init", c.posix_spawnattr_init(attr));
  check(
    "posix_spawn_file_actions_init",
    c.posix_spawn_file_actions_init(actions),
  );
  try {
    let flags = C.POSIX_SPAWN_SETSIGMASK | C.POSIX_SPAWN_SETSIGDEF;
    check(
      "posix_spawnattr_setsigmask",
      c.posix_spawnattr_setsigmask(attr, empty),
    );
    check(
      "posix_spawnattr_setsigdefault",
      c.posix_spawnattr_setsigdefault(attr, ALL_SIGNALS),
    );
    if (options.newProcessGroup) {
      flags |= C.POSIX_SPAWN_SETPGROUP;
      check("posix_spawnattr_setpgroup", c.posix_spawnattr_setpgroup(attr, 0));
      const addTc = c.posix_spawn_file_actions_addtcsetpgrp_np;
      if (options.foregroundTty !== undefined && addTc) {
        check(
          "posix_spawn_file_actions_addtcsetpgrp_np",
          addTc(actions, options.foregroundTty),
        );
      }
    }
    check("posix_spawnattr_setflags", c.posix_spawnattr_setflags(attr, flags));
    // The path must live until posix_spawnp has returned.
    const cwd = options.cwd === undefined ? undefined : cstr(options.cwd);
    if (cwd !== undefined) {
      check(
        "posix_spawn_file_actions_addchdir_np",
        c.posix_spawn_file_actions_addchdir_np(actions, cwd),
      );
    }

    usePathOf(options.env);
    const envp = cstrArrayOfBytes(envEntries(options.env));
    const args = cstrArray(argv);
    const file = cstr(argv[0]);
    const pidBuf = new Int32Array(1);
    const rc = c.posix_spawnp(
      new Uint8Array(pidBuf.buffer),
      file,
      actions,
      attr,
      new Uint8Array(args.array.buffer),
      new Uint8Array(envp.array.buffer),
    );
    // Keep the string buffers reachable until posix_spawnp has returned.
    void [args.keep, envp.keep, cwd];
    if (rc !== 0) {
      // ENOENT: the program, or its #! interpreter? Look, now it failed.
      const found = rc === C.ENOENT
        ? findProgram(argv[0], {
          path: options.env.get("PATH"),
          cwd: options.cwd,
        })
        : undefined;
      throw new SpawnError(
        argv[0],
        rc,
        describeSpawnFailure(argv[0], rc, found),
      );
    }
    const pid = pidBuf[0];
    if (
      options.newProcessGroup && options.foregroundTty !== undefined &&
      !c.posix_spawn_file_actions_addtcsetpgrp_np
    ) {
      // Older glibc: hand over the terminal from here (the child may run a
      // moment in the background first; only reads in that moment stop it).
      c.tcsetpgrp(options.foregroundTty, pid);
    }
    return pid;
  } finally {
    c.posix_spawn_file_actions_destroy(actions);
    c.posix_spawnattr_destroy(attr);
  }
}

/**
 * The message for a program that could not be started, naming its path.
 * For ENOENT, `found` is the file exec found (lib/missing_program.ts): then
 * its interpreter is what is missing, not the program.
 */
export function describeSpawnFailure(
  file: string,
  code: number,
  found?: FoundProgram,
): string {
  switch (code) {
    case C.ENOENT:
      return `${file}: ${notFoundReason(found)}`;
    case C.EACCES:
      return `${file}: permission denied (not executable)`;
    case C.ENOEXEC:
      return `${file}: exec format error`;
    case C.E2BIG:
      return `${file}: cannot execute: the arguments and environment are over the kernel's limit (E2BIG)`;
    default:
      return `${file}: cannot execute: ${strerror(code)}`;
  }
}

/** The exit code a shell uses for a command that could not be started. */
export function spawnFailureExitCode(code: number): number {
  return code === C.ENOENT ? 127 : 126;
}
