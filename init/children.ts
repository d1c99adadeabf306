/**
 * Running and stopping children of my_init: thin actions over spawn, kill
 * and the reaper.
 *
 * @module
 */

import { C, libc } from "../lib/libc.ts";
import { signalName, SIGNALS } from "../lib/signals.ts";
import { type ExitStatus } from "../lib/exit_status.ts";
import { spawn, SpawnError, spawnFailureExitCode } from "../lib/spawn.ts";
import type { Reaper } from "./reaper.ts";
import { escalate } from "./escalation.ts";
import { spawnRankedBelow } from "./oom.ts";
import { within } from "./time.ts";
import * as log from "./log.ts";

/** A started child. */
export interface Child {
  pid: number;
  name: string;
  /** Resolves with the status once reaped. */
  exited: Promise<ExitStatus>;
  /** Signals go to the child's process group when it has its own. */
  group: boolean;
}

/** The outcome of starting: a child, or the exit code of a failed start. */
export type Started = { ok: true; child: Child } | {
  ok: false;
  exitCode: number;
  message: string;
};

/** How to start a child. */
export interface StartOptions {
  /** Its whole environment. */
  env: ReadonlyMap<string, string>;
  /** Its working directory (my_init's, / , if not given). */
  cwd?: string;
  /**
   * A process group of its own, so that the terminal's signals (Ctrl-C)
   * reach PID 1 alone and the shutdown stays in order, and so that
   * stopping it reaches what it started.
   */
  group?: boolean;
  /** Make its group the foreground group of this terminal fd. */
  foregroundTty?: number;
  /**
   * Its OOM score from its first instruction (init/oom.ts), for a child
   * that forks at once (runsvdir); else it is written after the spawn.
   */
  inheritOomScore?: boolean;
}

/**
 * Starts `argv` and registers it with the reaper in the same tick; the
 * child gets an OOM score above ours (init/oom.ts).
 */
export function start(
  reaper: Reaper,
  argv: readonly string[],
  options: StartOptions,
): Started {
  try {
    const pid = spawnRankedBelow(
      () =>
        spawn(argv, {
          env: options.env,
          cwd: options.cwd,
          newProcessGroup: options.group,
          foregroundTty: options.foregroundTty,
        }),
      { inherit: options.inheritOomScore },
    );
    return {
      ok: true,
      child: {
        pid,
        name: argv[0],
        exited: reaper.watch(pid),
        group: options.group ?? false,
      },
    };
  } catch (e) {
    if (
      e instanceof SpawnError && options.foregroundTty !== undefined &&
      ![C.ENOENT, C.EACCES, C.ENOEXEC, C.E2BIG].includes(e.code as 2)
    ) {
      // The terminal handover failed (stdin is a terminal but not ours to
      // give, e.g. not the session's controlling one): start without it.
      log.debug(`Cannot hand the terminal to ${argv[0]}: ${e.message}`);
      return start(reaper, argv, { ...options, foregroundTty: undefined });
    }
    if (e instanceof SpawnError) {
      return {
        ok: false,
        exitCode: spawnFailureExitCode(e.code),
        message: e.message,
      };
    }
    return { ok: false, exitCode: 126, message: `${argv[0]}: ${e}` };
  }
}

/** Sends `signal` to the child (its group when it has one). Never throws. */
export function signalChild(child: Child, signal: number): void {
  const c = libc();
  if (child.group && c.kill(-child.pid, signal) === 0) return;
  c.kill(child.pid, signal);
}

/** How long {@link stopChild} waits, in ms. */
export interface StopLimits {
  /** Between `signal` and KILL. */
  graceMs: number;
  /** After KILL, before carrying on without it (KILL_WAIT_MS if not given). */
  killWaitMs?: number;
}

/**
 * Stops a child: `signal` (plus CONT, so a stopped child can act on it),
 * `graceMs` to exit, then KILL. Returns its status, or undefined if even
 * KILL did not reap it in time (uninterruptible sleep): PID 1 carries on.
 */
export function stopChild(
  child: Child,
  signal: number,
  limits: StopLimits,
): Promise<ExitStatus | undefined> {
  log.info(`Shutting down ${child.name} (PID ${child.pid})...`);
  return escalate({
    ask: () => {
      signalChild(child, signal);
      if (signal !== SIGNALS.SIGCONT) signalChild(child, SIGNALS.SIGCONT);
    },
    force: () => signalChild(child, SIGNALS.SIGKILL),
    wait: (ms) => within(child.exited, ms),
    graceMs: limits.graceMs,
    killWaitMs: limits.killWaitMs,
    onForce: () =>
      log.warn(
        `${child.name} (PID ${child.pid}) did not shut down in time. Forcing it to exit.`,
      ),
    onGiveUp: () =>
      log.error(
        `${child.name} (PID ${child.pid}) survived SIGKILL; carrying on without it`,
      ),
  });
}

/** Describes a status for the log: "status 3" or "status 143 (SIGTERM)". */
export function describeStatus(status: ExitStatus, code: number): string {
  return status.kind === "signaled"
    ? `status ${code} (${signalName(status.signal)})`
    : `status ${code}`;
}

/** Whether `fd` is a terminal we may hand to the main command. */
export function isTty(fd: number): boolean {
  return libc().isatty(fd) === 1;
}

/**
 * Makes this process's group the terminal's foreground group again, after
 * the main command that had it exited. With every signal blocked the
 * kernel lets a background group do so (no SIGTTOU).
 */
export function takeTerminal(fd: number): void {
  const c = libc();
  c.tcsetpgrp(fd, c.getpgrp());
}

/** Makes this process a child subreaper: orphans of its subtree come to it. */
export function becomeSubreaper(): boolean {
  return libc().prctl(C.PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n) === 0;
}
