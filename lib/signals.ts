/**
 * Signal names and numbers of Linux (x86_64 and aarch64 share them), and
 * signal sets built bit by bit.
 *
 * @module
 */

/** Signal numbers by name, as `kill -l` lists them on Linux. */
export const SIGNALS = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSYS: 31,
} as const;

/** A signal name of {@link SIGNALS}. */
export type SignalName = keyof typeof SIGNALS;

/** The highest signal number of Linux (SIGRTMAX). */
export const SIGNAL_MAX = 64;

function isSignalName(name: string): name is SignalName {
  return Object.hasOwn(SIGNALS, name);
}

/**
 * Parses "TERM", "SIGTERM", "sigterm" or "15" into a signal number, or
 * returns undefined when it names no signal.
 */
export function parseSignal(text: string): number | undefined {
  const t = text.trim();
  if (/^[0-9]+$/.test(t)) {
    const n = Number(t);
    return n >= 1 && n <= SIGNAL_MAX ? n : undefined;
  }
  const upper = t.toUpperCase();
  const name = upper.startsWith("SIG") ? upper : `SIG${upper}`;
  return isSignalName(name) ? SIGNALS[name] : undefined;
}

/** The name of signal `n` ("SIGTERM"), or "signal N" for one without. */
export function signalName(n: number): string {
  for (const [name, num] of Object.entries(SIGNALS)) {
    if (num === n) return name;
  }
  return `signal ${n}`;
}

/** sizeof(sigset_t) in glibc: 1024 bits, of which the kernel uses 64. */
export const SIGSET_SIZE = 128;

/**
 * A glibc `sigset_t` holding exactly `signals`, built bit by bit (bit N-1
 * of the little-endian words is signal N). Not sigfillset/sigaddset: glibc
 * refuses its own signals 32 and 33 there, and a set meant for
 * POSIX_SPAWN_SETSIGDEF must hold them, or children start with them
 * ignored.
 */
export function sigsetOf(signals: Iterable<number>): Uint8Array<ArrayBuffer> {
  const set = new Uint8Array(SIGSET_SIZE);
  for (const n of signals) {
    if (!Number.isInteger(n) || n < 1 || n > SIGNAL_MAX) {
      throw new RangeError(`Not a signal number: ${n}`);
    }
    set[(n - 1) >> 3] |= 1 << ((n - 1) & 7);
  }
  return set;
}

/** The signals a `sigset_t` holds, in order. */
export function sigsetMembers(set: Uint8Array): number[] {
  const out: number[] = [];
  for (let n = 1; n <= SIGNAL_MAX; n++) {
    if (set[(n - 1) >> 3] & (1 << ((n - 1) & 7))) out.push(n);
  }
  return out;
}

/** Every signal number, 1 to {@link SIGNAL_MAX}. */
export function allSignals(): number[] {
  return Array.from({ length: SIGNAL_MAX }, (_, i) => i + 1);
}
