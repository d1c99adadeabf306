/**
 * PID 1's one wait: poll(2) on the main thread, over the descriptors
 * my_init watches (its signalfd; inotify while it waits for services),
 * with the nearest of its timers as the timeout. catatonit's loop, in a
 * program whose steps are promises.
 *
 * Why not the runtime's loop: it has no wait on an arbitrary descriptor
 * that needs no thread. FFI `nonblocking` calls and async file calls run
 * on the runtime's blocking pool, whose idle threads exit after 10 s and
 * are created again by the next call; at a container's pids limit that
 * creation fails and the runtime aborts the whole process ("Deno could not
 * start: unable to create worker threads"): PID 1 died with its container
 * (issue 17). Waiting here, after start PID 1 creates no thread and no
 * process but the children it is asked to start.
 *
 * Each turn is one macrotask: poll, then the callbacks of what is ready
 * and of the timers due, which resolve promises. The next turn is queued
 * with setImmediate, so every promise reaction those callbacks caused
 * (chains of awaits included) has run before the next poll blocks: the
 * runtime drains its microtasks before it runs an immediate, and between
 * two immediates its own loop turns once (its timers fire there). The
 * alternatives measured on Deno 2.9.6: a MessagePort delivers in the
 * microtask queue, interleaved with a pending chain of awaits (the poll
 * then blocked with my_init half-way through a step); a web timer of 0 ms
 * costs ~2 ms a turn; setImmediate ~2 us (0.6 ms for its first call).
 * With nothing to watch and no timer the loop stops; the next
 * registration starts it.
 *
 * Anything else that waits on the runtime's loop (an async Deno API, a
 * runtime timer) would only move between turns, so nothing in my_init
 * uses one (checked by init/time_test.ts).
 *
 * @module
 */

import { C, errno, LAYOUT, libc } from "../lib/libc.ts";
import { gcDue } from "./gc_policy.ts";
import { pollTimeoutMs, TimerQueue } from "./timer_queue.ts";
import * as log from "./log.ts";

/** Called with poll's `revents` for a watched descriptor that is ready. */
export type ReadyHandler = (revents: number) => void;

const timers = new TimerQueue();
const watches = new Map<number, ReadyHandler>();
/** struct pollfd[], rebuilt only when the watched set changes. */
let pollfds = new Uint8Array(0);
let pollfdsStale = true;
let turnQueued = false;
/** V8's collector, when the runtime was started with `--expose-gc`. */
const collect = (globalThis as { gc?: () => void }).gc;
let turnsSinceGc = 0;
let lastGc = performance.now();

/**
 * Runs `fn` once after `ms` milliseconds (any length; 0 means the next
 * turn). Returns a canceller.
 */
export function addTimer(ms: number, fn: () => void): () => void {
  const cancel = timers.add(performance.now() + Math.max(0, ms), fn);
  queueTurn();
  return cancel;
}

/**
 * Calls `onReady` on every turn in which `fd` is readable (or in error:
 * POLLERR, POLLHUP, POLLNVAL), until the returned function is called.
 * One handler per descriptor.
 */
export function watchReadable(fd: number, onReady: ReadyHandler): () => void {
  watches.set(fd, onReady);
  pollfdsStale = true;
  queueTurn();
  return () => {
    if (watches.get(fd) !== onReady) return;
    watches.delete(fd);
    pollfdsStale = true;
  };
}

/**
 * Resolves true once `fd` is readable, or false after `ms` (any length),
 * whichever comes first.
 */
export function whenReadable(fd: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const unwatch = watchReadable(fd, () => {
      unwatch();
      cancel();
      resolve(true);
    });
    const cancel = Number.isFinite(ms)
      ? addTimer(ms, () => {
        unwatch();
        resolve(false);
      })
      : () => {};
  });
}

function queueTurn(): void {
  if (turnQueued) return;
  turnQueued = true;
  setImmediate(turn);
}

function rebuildPollfds(): void {
  pollfds = new Uint8Array(LAYOUT.pollfd.size * watches.size);
  const view = new DataView(pollfds.buffer);
  let at = 0;
  for (const fd of watches.keys()) {
    view.setInt32(at + LAYOUT.pollfd.fd, fd, true);
    view.setInt16(at + LAYOUT.pollfd.events, C.POLLIN, true);
    at += LAYOUT.pollfd.size;
  }
  pollfdsStale = false;
}

/** A callback's error must not end the loop: PID 1 would stop reaping. */
function guarded(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    log.error(`Unexpected error: ${e instanceof Error ? e.stack : e}`);
  }
}

function turn(): void {
  turnQueued = false;
  const timeout = pollTimeoutMs(timers.next(), performance.now());
  if (watches.size === 0 && timeout < 0) return;
  if (pollfdsStale) rebuildPollfds();
  const n = libc().poll(pollfds, BigInt(watches.size), timeout);
  if (n < 0 && errno() !== C.EINTR) {
    // EFAULT/EINVAL/ENOMEM: nothing a retry fixes at once; the timers
    // below still run, and the next turn polls again.
    log.error(`poll failed (errno ${errno()}); retrying`);
  }
  if (n > 0) {
    const view = new DataView(pollfds.buffer);
    for (let at = 0; at < pollfds.length; at += LAYOUT.pollfd.size) {
      const revents = view.getInt16(at + LAYOUT.pollfd.revents, true);
      if (revents === 0) continue;
      const handler = watches.get(view.getInt32(at + LAYOUT.pollfd.fd, true));
      if (handler) guarded(() => handler(revents));
    }
  }
  const now = performance.now();
  for (const fn of timers.takeDue(now)) guarded(fn);
  turnsSinceGc++;
  if (collect && gcDue(turnsSinceGc, now - lastGc)) {
    // init/gc_policy.ts: what a busy PID 1 would otherwise keep.
    collect();
    turnsSinceGc = 0;
    lastGc = performance.now();
  }
  if (watches.size > 0 || timers.size > 0) queueTurn();
}
