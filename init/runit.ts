/**
 * Talking to runit: reading service states, writing control commands, and
 * waiting for states without polling (inotify on the supervise directories,
 * which runsv updates by renaming stat.new over stat on every change).
 *
 * We write to `supervise/control` ourselves instead of running
 * `sv -w N force-stop`: sv re-checks on a timer, which is what made
 * phusion's my_init take about a second to stop even idle services.
 *
 * @module
 */

import { C, errno, LAYOUT, libc, strerror } from "../lib/libc.ts";
import { cstr } from "../lib/cstr.ts";
import { parseStat, type ServiceView } from "./runit_state.ts";
import * as log from "./log.ts";

/** runit's service directory, as phusion's my_init hardcodes it. */
export const SERVICE_DIR = "/etc/service";

/**
 * Re-read interval used only as a safety net under inotify (a watch that
 * could not be set up, or events lost to a full inotify queue).
 */
const SAFETY_RECHECK_MS = 1000;

/** Names of the services in `dir`: directories, not hidden (runsvdir skips dot names). */
export function listServices(dir = SERVICE_DIR): string[] {
  const names: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (e.name.startsWith(".")) continue;
      try {
        if (Deno.statSync(`${dir}/${e.name}`).isDirectory) names.push(e.name);
      } catch { /* dangling link: not a service */ }
    }
  } catch {
    return [];
  }
  return names.sort();
}

/**
 * Opens a runsv FIFO for writing without blocking: with nobody reading
 * (runsv not running) open fails with ENXIO instead of hanging PID 1.
 */
function openFifo(path: string): number {
  return libc().open(cstr(path), C.O_WRONLY | C.O_NONBLOCK | C.O_CLOEXEC, 0);
}

/** Whether runsv is running for the service (it holds supervise/ok open). */
function isSupervised(svc: string): boolean {
  const fd = openFifo(`${svc}/supervise/ok`);
  if (fd < 0) return false;
  libc().close(fd);
  return true;
}

/** Reads one service's view. */
export function readService(dir: string, name: string): ServiceView {
  const svc = `${dir}/${name}`;
  let disabled = false;
  try {
    Deno.lstatSync(`${svc}/down`);
    disabled = true;
  } catch { /* no down file */ }
  let stat: string | undefined;
  try {
    stat = Deno.readTextFileSync(`${svc}/supervise/stat`);
  } catch { /* not started yet */ }
  return {
    name,
    disabled,
    supervised: isSupervised(svc),
    state: parseStat(stat),
  };
}

/** Reads every service of `dir`. */
export function readServices(dir = SERVICE_DIR): ServiceView[] {
  return listServices(dir).map((n) => readService(dir, n));
}

/**
 * Writes runit control characters (`d` down, `k` kill, ...) to a service.
 * Returns false when runsv is not there to read them.
 */
export function control(dir: string, name: string, chars: string): boolean {
  const fd = openFifo(`${dir}/${name}/supervise/control`);
  if (fd < 0) {
    log.debug(`Cannot control ${name}: ${strerror(errno())}`);
    return false;
  }
  const bytes = new TextEncoder().encode(chars);
  const n = libc().write(fd, bytes, BigInt(bytes.length));
  libc().close(fd);
  return Number(n) === bytes.length;
}

/**
 * Change notification for the service tree through inotify, read with
 * poll(2) on a worker thread. Not Deno.watchFs: its watcher thread opens
 * files it sees change, and opening runsv's `supervise/ok` FIFO for reading
 * blocks until a writer comes, which froze PID 1 in `close()` (measured).
 * Only renames, creations and removals are watched (runsv renames stat.new
 * over stat): our own open/close of the FIFOs must not wake us.
 */
class TreeWatcher {
  readonly #fd: number;
  #watched = new Set<string>();
  #buf = new Uint8Array(4096);
  #pollfd = new Uint8Array(LAYOUT.pollfd.size);

  constructor() {
    this.#fd = libc().inotify_init1(C.IN_NONBLOCK | C.IN_CLOEXEC);
    const view = new DataView(this.#pollfd.buffer);
    view.setInt32(LAYOUT.pollfd.fd, this.#fd, true);
    view.setInt16(LAYOUT.pollfd.events, C.POLLIN, true);
  }

  /** Watches `dir`, its services, and their supervise directories. */
  update(dir: string): void {
    if (this.#fd < 0) return;
    const add = (p: string) => {
      let real: string;
      try {
        real = Deno.realPathSync(p);
      } catch {
        return false;
      }
      if (this.#watched.has(real)) return true;
      const mask = C.IN_CREATE | C.IN_DELETE | C.IN_MOVED_TO;
      if (libc().inotify_add_watch(this.#fd, cstr(real), mask) < 0) {
        return false;
      }
      this.#watched.add(real);
      return true;
    };
    add(dir);
    for (const name of listServices(dir)) {
      add(`${dir}/${name}`);
      add(`${dir}/${name}/supervise`);
    }
  }

  /** Waits up to `ms` for a change; drains the queued events. */
  async wait(ms: number): Promise<void> {
    if (this.#fd < 0) {
      await new Promise((r) => setTimeout(r, ms));
      return;
    }
    await libc().poll(this.#pollfd, 1n, Math.max(0, Math.ceil(ms)));
    while (
      Number(libc().read(this.#fd, this.#buf, BigInt(this.#buf.length))) > 0
    ) {
      // Drained; which file changed does not matter, states are re-read.
    }
  }

  close(): void {
    if (this.#fd >= 0) libc().close(this.#fd);
  }
}

/**
 * Waits until `done(views)` holds for the services of `dir`, or `ms` pass.
 * `onChange` sees every re-read (to re-issue commands). Returns whether
 * `done` held. Wakes on inotify events, and at least every
 * SAFETY_RECHECK_MS in case an event was missed (a supervise directory
 * behind a link that appeared later, a full inotify queue).
 */
export async function waitForServices(
  dir: string,
  done: (views: ServiceView[]) => boolean,
  ms: number,
  onChange: (views: ServiceView[]) => void = () => {},
): Promise<boolean> {
  const deadline = Date.now() + ms;
  const watcher = new TreeWatcher();
  try {
    for (;;) {
      // Watch first, then read, so no change falls in between.
      watcher.update(dir);
      const views = readServices(dir);
      if (done(views)) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      onChange(views);
      await watcher.wait(Math.min(left, SAFETY_RECHECK_MS));
    }
  } finally {
    watcher.close();
  }
}
