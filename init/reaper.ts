/**
 * The one reaper of PID 1: the only caller of `waitpid(-1)` in the process.
 *
 * Whoever starts a child registers its pid with `watch()` in the same tick
 * as the spawn (no await in between, so its status cannot be reaped first);
 * `reap()` runs on every SIGCHLD and collects every child that has exited,
 * handing watched statuses to their waiters and discarding orphans (zombies
 * reparented to PID 1). Nothing else may wait for children: Deno.Command
 * keeps a waiter of its own and the two would steal each other's statuses,
 * which is why my_init never uses it.
 *
 * @module
 */

import { C, errno, libc } from "../lib/libc.ts";
import {
  decodeWaitStatus,
  type ExitStatus,
  stopSignalOf,
} from "../lib/exit_status.ts";

/** Called with the pid and status of every reaped child nobody watched. */
export type OrphanHook = (pid: number, status: ExitStatus) => void;

/** The reaper. One per process. */
export class Reaper {
  #waiters = new Map<number, (status: ExitStatus) => void>();
  #stopHooks = new Map<number, (signal: number) => void>();
  #idleWaiters: Array<() => void> = [];
  #status = new Int32Array(1);
  #statusBytes = new Uint8Array(this.#status.buffer);
  #onOrphan: OrphanHook;

  /** Creates the reaper; `onOrphan` sees orphans (for debug logging). */
  constructor(onOrphan: OrphanHook = () => {}) {
    this.#onOrphan = onOrphan;
  }

  /** Resolves with the status of `pid` once it has been reaped. */
  watch(pid: number): Promise<ExitStatus> {
    return new Promise((resolve) => this.#waiters.set(pid, resolve));
  }

  /**
   * Calls `hook` with the signal each time `pid` is stopped (Ctrl-Z), until
   * it is reaped. A stop is reported, never reaped: the child lives on.
   */
  onStop(pid: number, hook: (signal: number) => void): void {
    this.#stopHooks.set(pid, hook);
  }

  /** Number of watched pids still running. */
  get watching(): number {
    return this.#waiters.size;
  }

  /**
   * Resolves once this process has no children left (waitpid says ECHILD),
   * checked on every reap.
   */
  whenNoChildren(): Promise<void> {
    const p = new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    this.reap();
    return p;
  }

  /**
   * Reaps every exited child without blocking, until waitpid reports none
   * left to reap (0) or no children at all (ECHILD), and reports stops
   * (WUNTRACED) to their hooks. Returns how many it reaped.
   */
  reap(): number {
    const c = libc();
    let reaped = 0;
    for (;;) {
      const pid = c.waitpid(-1, this.#statusBytes, C.WNOHANG | C.WUNTRACED);
      if (pid > 0) {
        const stop = stopSignalOf(this.#status[0]);
        if (stop !== undefined) {
          this.#stopHooks.get(pid)?.(stop);
          continue;
        }
        reaped++;
        this.#stopHooks.delete(pid);
        const status = decodeWaitStatus(this.#status[0]);
        const waiter = this.#waiters.get(pid);
        if (waiter) {
          this.#waiters.delete(pid);
          waiter(status);
        } else {
          this.#onOrphan(pid, status);
        }
        continue;
      }
      if (pid === 0) return reaped;
      const err = errno();
      if (err === C.EINTR) continue;
      if (err === C.ECHILD) {
        const idle = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const resolve of idle) resolve();
      }
      return reaped;
    }
  }
}
