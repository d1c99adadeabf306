/**
 * Talking to runit: reading service states, running their `check` scripts,
 * writing control commands, and waiting for states without polling
 * (inotify on the supervise directories, which runsv updates by renaming
 * stat.new over stat on every change).
 *
 * We write to `supervise/control` ourselves instead of running
 * `sv -w N force-stop`: sv re-checks on a timer, which is what made
 * phusion's my_init take about a second to stop even idle services.
 *
 * @module
 */

import { C, errno, libc, strerror } from "../lib/libc.ts";
import { cstr } from "../lib/cstr.ts";
import { SIGNALS } from "../lib/signals.ts";
import { signalChild, start } from "./children.ts";
import { Reaper } from "./reaper.ts";
import {
  type CheckOutcome,
  needsCheck,
  parseStat,
  parseStatus,
  type Readiness,
  readiness,
  type ServiceView,
} from "./runit_state.ts";
import { isExecutableFile } from "./scripts.ts";
import { whenReadable } from "./event_loop.ts";
import { every, sleep, within } from "./time.ts";
import * as log from "./log.ts";

/** runit's service directory, as phusion's my_init hardcodes it. */
export const ETC_SERVICE = "/etc/service";

/**
 * The directory runsvdir supervises and my_init reads: {@link ETC_SERVICE},
 * or in non-root mode the service tree made by service_tree.ts. Set once,
 * through {@link superviseDirectory}, before runsvdir starts or `--status`
 * reads it; a live binding, so that every reader sees the one in use.
 */
export let SERVICE_DIR = ETC_SERVICE;

/** Makes `dir` the service directory (non-root mode's tree). */
export function superviseDirectory(dir: string): void {
  SERVICE_DIR = dir;
}

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

/**
 * Whether runsv is running for the service (it holds supervise/ok open), or
 * why that cannot be known: a caller that may not open the FIFO (EACCES,
 * `--status` as another user than the state's owner) learns nothing, and
 * must not say "not supervised" of a service that runs.
 */
function isSupervised(svc: string): boolean | { unreadable: string } {
  const fd = openFifo(`${svc}/supervise/ok`);
  if (fd < 0) {
    const code = errno();
    return code === C.EACCES || code === C.EPERM
      ? { unreadable: `supervise/ok: ${strerror(code)}` }
      : false;
  }
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
  let status: Uint8Array | undefined;
  try {
    status = Deno.readFileSync(`${svc}/supervise/status`);
  } catch { /* not started yet */ }
  const supervised = isSupervised(svc);
  return {
    name,
    disabled,
    supervised: supervised === true,
    ...(typeof supervised === "object" ? supervised : {}),
    state: parseStat(stat),
    status: status === undefined ? undefined : parseStatus(status),
    hasCheck: isExecutableFile(`${svc}/check`),
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
 * Change notification for the service tree through inotify, waited for in
 * my_init's event loop (no thread: init/event_loop.ts). Not Deno.watchFs: its watcher thread opens
 * files it sees change, and opening runsv's `supervise/ok` FIFO for reading
 * blocks until a writer comes, which froze PID 1 in `close()` (measured).
 * Only renames, creations and removals are watched (runsv renames stat.new
 * over stat): our own open/close of the FIFOs must not wake us.
 */
class TreeWatcher {
  readonly #fd: number;
  #watched = new Set<string>();
  #buf = new Uint8Array(4096);

  constructor() {
    this.#fd = libc().inotify_init1(C.IN_NONBLOCK | C.IN_CLOEXEC);
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
      await sleep(ms);
      return;
    }
    await whenReadable(this.#fd, ms);
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

/** What a wait's test says about the services it was given. */
export interface WaitVerdict {
  /** The test holds: the wait is over. */
  done: boolean;
  /**
   * Look again after this many ms even without a change runsv reports
   * (a service that will have been up long enough then, a `check` to
   * re-run). At most SAFETY_RECHECK_MS is waited in any case.
   */
  recheckInMs?: number;
}

/** How {@link waitForServices} waits. */
export interface WaitOptions {
  /** The deadline, in ms from now. */
  ms: number;
  /** Sees every re-read that did not end the wait (to re-issue commands). */
  onChange?: (views: ServiceView[]) => void;
  /** Ends the wait early, false, when it returns true (a shutdown). */
  cancelled?: () => boolean;
}

/**
 * Waits until `test(views)` holds for the services of `dir`, or the
 * deadline passes. Returns whether it held. Wakes on inotify events, when
 * the test asks to look again, and at least every SAFETY_RECHECK_MS in case
 * an event was missed (a supervise directory behind a link that appeared
 * later, a full inotify queue).
 */
export async function waitForServices(
  dir: string,
  test: (
    views: ServiceView[],
  ) => boolean | WaitVerdict | Promise<boolean | WaitVerdict>,
  options: WaitOptions,
): Promise<boolean> {
  const deadline = Date.now() + options.ms;
  const watcher = new TreeWatcher();
  try {
    for (;;) {
      if (options.cancelled?.()) return false;
      // Watch first, then read, so no change falls in between.
      watcher.update(dir);
      const views = readServices(dir);
      const raw = await test(views);
      const verdict = typeof raw === "boolean" ? { done: raw } : raw;
      if (verdict.done) return true;
      const left = deadline - Date.now();
      if (left <= 0 || options.cancelled?.()) return false;
      options.onChange?.(views);
      await watcher.wait(
        Math.min(left, SAFETY_RECHECK_MS, verdict.recheckInMs ?? Infinity),
      );
    }
  } finally {
    watcher.close();
  }
}

/**
 * How long a `check` script may run. The image's HEALTHCHECK gives
 * `--status` 10 s; the checks run side by side, and this leaves time for
 * the KILL of one that hangs and for the report.
 */
export const CHECK_TIMEOUT_MS = 5000;

/**
 * How long to wait for a `check` to be reaped after its KILL before
 * reporting it: the answer is already "not ready", and a process stuck in
 * the kernel must not hold the health check or the wait.
 */
const CHECK_KILL_WAIT_MS = 1000;

/** How {@link runCheck} runs a check. */
export interface CheckOptions {
  /** Its whole environment. */
  env: ReadonlyMap<string, string>;
  /** The reaper that sees it exit: PID 1's, or one `--status` polls. */
  reaper: Reaper;
  /** Its deadline; {@link CHECK_TIMEOUT_MS} if not given. */
  ms?: number;
}

/**
 * Runs `dir/name/check` as `sv check` does: `./check`, no arguments, in
 * the service directory, exit 0 meaning ready. It runs in a process group
 * of its own, killed (KILL: it is a probe, with nothing to save) once the
 * deadline passes. Never throws.
 */
export async function runCheck(
  dir: string,
  name: string,
  options: CheckOptions,
): Promise<CheckOutcome> {
  const ms = Math.max(0, options.ms ?? CHECK_TIMEOUT_MS);
  const started = start(options.reaper, ["./check"], {
    env: options.env,
    cwd: `${dir}/${name}`,
    group: true,
  });
  if (!started.ok) return { kind: "not-started", message: started.message };
  const child = started.child;
  const status = await within(child.exited, ms);
  if (status !== "timeout") return { kind: "ended", status };
  signalChild(child, SIGNALS.SIGKILL);
  await within(child.exited, CHECK_KILL_WAIT_MS);
  return { kind: "timeout", ms };
}

/**
 * The readiness of every service of `views` at this moment (runit's status,
 * then the `check` of each that is up long enough, side by side). `check`
 * runs one service's check.
 */
export async function assessServices(
  views: readonly ServiceView[],
  check: (name: string) => Promise<CheckOutcome>,
): Promise<Readiness[]> {
  const now = Date.now();
  return await Promise.all(views.map(async (view) => {
    if (!needsCheck(view, now)) return readiness(view, now);
    const outcome = await check(view.name);
    return readiness(view, now, outcome);
  }));
}

/**
 * Polling interval of {@link readinessOnce}'s reaper: a check that exits
 * is seen this late at most.
 */
const STATUS_REAP_MS = 10;

/**
 * The readiness of every service of `dir` now, for `my_init --status`. That
 * runs as a short-lived process of its own (the HEALTHCHECK), not PID 1:
 * nothing reaps there on SIGCHLD, so a reaper of its own is polled while
 * the `check` scripts run, which get `env` (the caller's, as `sv check`
 * passes its own).
 */
export async function readinessOnce(
  env: ReadonlyMap<string, string>,
  dir = SERVICE_DIR,
): Promise<Readiness[]> {
  const reaper = new Reaper();
  const stopPolling = every(STATUS_REAP_MS, () => reaper.reap());
  try {
    return await assessServices(
      readServices(dir),
      (name) => runCheck(dir, name, { env, reaper }),
    );
  } finally {
    stopPolling();
  }
}
