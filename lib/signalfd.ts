/**
 * Receiving signals as data, catatonit's way: the signals stay blocked in
 * every thread and are read from a signalfd(2).
 *
 * Why not Deno.addSignalListener: the runtime's own handlers run on its
 * threads, a TERM/INT/HUP that finds no JS listener kills PID 1 (SIGSEGV),
 * one that arrives before the listener exists is dropped by the kernel
 * (PID 1 has no default action), and since Deno 2.9.2 SIGUSR1 opens a V8
 * inspector. The launcher execs the runtime with every signal blocked
 * (`env --block-signal`), which every runtime thread inherits, so none of
 * its handlers ever runs; signals wait in the kernel until read here, also
 * those sent before our first statement.
 *
 * @module
 */

import { C, errno, ErrnoError, LAYOUT, libc } from "./libc.ts";
import { SIGNALS, SIGSET_SIZE, sigsetMembers, sigsetOf } from "./signals.ts";

/** One signal read from the signalfd. */
export interface ReceivedSignal {
  /** ssi_signo */
  signo: number;
  /** ssi_pid: the sender (0 from the kernel, e.g. a terminal). */
  pid: number;
}

/** A signalfd, and whether its signals were all blocked before it. */
export interface SignalFd {
  fd: number;
  /**
   * Every signal of the set was blocked already (the launcher's doing, so
   * in every runtime thread). When not, the runtime's other threads may
   * take one before the signalfd sees it.
   */
  wereBlocked: boolean;
}

/** How {@link openSignalFd} opens the descriptor. */
export interface SignalFdOptions {
  /**
   * Reads return at once when no signal is pending (SFD_NONBLOCK): for a
   * reader woken by poll(2), which must never block on a read.
   */
  nonblocking?: boolean;
}

/**
 * Opens a signalfd for `signals` (close-on-exec), blocking them in the
 * calling thread, which is a no-op under the launcher; one
 * pthread_sigmask call also tells whether they were blocked before.
 */
export function openSignalFd(
  signals: readonly number[],
  options: SignalFdOptions = {},
): SignalFd {
  const c = libc();
  const set = sigsetOf(signals);
  const before = new Uint8Array(SIGSET_SIZE);
  c.pthread_sigmask(C.SIG_BLOCK, set, before);
  const blocked = new Set(sigsetMembers(before));
  const flags = C.SFD_CLOEXEC | (options.nonblocking ? C.SFD_NONBLOCK : 0);
  const fd = c.signalfd(-1, set, flags);
  if (fd < 0) throw new ErrnoError("signalfd", errno());
  return { fd, wereBlocked: signals.every((s) => blocked.has(s)) };
}

const INFO = LAYOUT.signalfd_siginfo;
/** Up to this many signals per read. */
const BATCH = 16;

function decode(buf: Uint8Array, bytes: number): ReceivedSignal[] {
  const view = new DataView(buf.buffer, buf.byteOffset, bytes);
  const out: ReceivedSignal[] = [];
  for (let at = 0; at + INFO.size <= bytes; at += INFO.size) {
    out.push({
      signo: view.getUint32(at + INFO.ssi_signo, true),
      pid: view.getUint32(at + INFO.ssi_pid, true),
    });
  }
  return out;
}

/**
 * Reads the signals pending on a nonblocking signalfd, without allocating
 * per read: PID 1 reads on every SIGCHLD, and garbage made per child is
 * what grew its heap under churn (issue 17).
 */
export class SignalReader {
  readonly #fd: number;
  readonly #buf = new Uint8Array(INFO.size * BATCH);
  readonly #view = new DataView(this.#buf.buffer);

  /** A reader of `fd`, a signalfd opened with `nonblocking`. */
  constructor(fd: number) {
    this.#fd = fd;
  }

  /**
   * Calls `onSignal` for every signal one read(2) returns (up to
   * {@link BATCH}: more stay pending for the next read), in the order the
   * kernel gave them. Returns how many; 0 when none was pending.
   */
  read(onSignal: (signo: number, pid: number) => void): number {
    const n = Number(
      libc().read(this.#fd, this.#buf, BigInt(this.#buf.length)),
    );
    if (n < 0) {
      const code = errno();
      if (code === C.EAGAIN || code === C.EINTR) return 0;
      throw new ErrnoError("read from signalfd", code);
    }
    let count = 0;
    for (let at = 0; at + INFO.size <= n; at += INFO.size) {
      count++;
      onSignal(
        this.#view.getUint32(at + INFO.ssi_signo, true),
        this.#view.getUint32(at + INFO.ssi_pid, true),
      );
    }
    return count;
  }
}

/** Waits for the next signals on this thread (for tools without an event loop). */
export function readSignalsSync(fd: number): ReceivedSignal[] {
  const buf = new Uint8Array(INFO.size * BATCH);
  for (;;) {
    const n = Number(libc().read(fd, buf, BigInt(buf.length)));
    if (n > 0) return decode(buf, n);
    const code = errno();
    if (code !== C.EINTR) throw new ErrnoError("read from signalfd", code);
  }
}

/** SIGCHLD, which every reader of children adds to its set. */
export const SIGCHLD: number = SIGNALS.SIGCHLD;
