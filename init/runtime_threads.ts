/**
 * Waiting, at start, for the one thread the runtime creates late on its
 * own: since Deno 2.9.2 a SIGUSR1 listener (node's inspector activation,
 * denoland/deno#35738) is installed ~500 ms after start, on a thread of its
 * own. If the container's pids limit is reached before, creating it fails
 * and the runtime aborts the whole process (measured: a service forking
 * until the limit killed PID 1). So my_init lets it appear before it
 * starts anything that may fork without bound (runit, the main command),
 * and needs no new thread after that (init/event_loop.ts).
 *
 * The listener never acts: every signal stays blocked in every thread and
 * is read from my_init's signalfd.
 *
 * @module
 */

import { sleep } from "./time.ts";

/**
 * Up to this long after the runtime started (performance.now()) the thread
 * is waited for: far past the runtime's 500 ms, because on a loaded machine
 * it came later (with 1.5 s, 3 of 20 boots at a pids limit, 5 booting at
 * once beside other tests, went on without it and died at the stop). A
 * runtime that creates no such thread would cost this at every boot:
 * runtime_threads_test.ts checks that the pinned one does.
 */
export const LATE_THREAD_DEADLINE_MS = 5000;

/** How often /proc/self/task is looked at meanwhile. */
const LOOK_EVERY_MS = 20;

/**
 * Whether the late thread is there: a thread other than the main one that
 * still has the process's own name (the runtime's other threads are named
 * "V8 DefaultWorke", "tokio-runtime-w"; this one is not renamed).
 */
export function hasLateThread(
  mainTid: number,
  tasks: ReadonlyArray<{ tid: number; comm: string }>,
): boolean {
  const main = tasks.find((t) => t.tid === mainTid);
  if (main === undefined) return false;
  return tasks.some((t) => t.tid !== mainTid && t.comm === main.comm);
}

function readTasks(): Array<{ tid: number; comm: string }> {
  const tasks = [];
  for (const e of Deno.readDirSync("/proc/self/task")) {
    try {
      const comm = Deno.readTextFileSync(`/proc/self/task/${e.name}/comm`);
      tasks.push({ tid: Number(e.name), comm: comm.trimEnd() });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return tasks;
}

/**
 * Resolves once the runtime's late thread exists, or at
 * {@link LATE_THREAD_DEADLINE_MS} after the runtime's start; "missing"
 * then (or without /proc).
 */
export async function lateThreadStarted(): Promise<"started" | "missing"> {
  for (;;) {
    try {
      if (hasLateThread(Deno.pid, readTasks())) return "started";
    } catch {
      return "missing";
    }
    if (performance.now() >= LATE_THREAD_DEADLINE_MS) return "missing";
    await sleep(LOOK_EVERY_MS);
  }
}
