/**
 * Every libc function the tools call, in one table, each with its C prototype.
 *
 * Why FFI at all: PID 1 must own the only `waitpid(-1)` (Deno.Command keeps a
 * waiter of its own and would lose statuses to ours), must spawn children with
 * default signal dispositions (the runtime ignores SIGPIPE and children would
 * inherit that), and setuser must `execvp` in place so runit keeps supervising
 * the same PID. Deno has no API for any of these.
 *
 * Layouts are glibc on x86_64/aarch64 (LP64); `libc_test.ts` checks the struct
 * sizes and offsets below against a C compiler where one is installed.
 *
 * @module
 */

import { SIGSET_SIZE } from "./signals.ts";

/** The symbol table, in the style of denodrivers/sqlite3's ffi.ts. */
export const SYMBOLS = {
  // int *__errno_location(void);
  __errno_location: { parameters: [], result: "pointer" },
  // char *strerror(int errnum);
  strerror: { parameters: ["i32"], result: "pointer" },

  // pid_t getpid(void);
  getpid: { parameters: [], result: "i32" },
  // pid_t getpgrp(void);
  getpgrp: { parameters: [], result: "i32" },
  // int tcsetpgrp(int fd, pid_t pgrp);
  tcsetpgrp: { parameters: ["i32", "i32"], result: "i32" },
  // int isatty(int fd);
  isatty: { parameters: ["i32"], result: "i32" },
  // long sysconf(int name);
  sysconf: { parameters: ["i32"], result: "i64" },
  // int prctl(int option, unsigned long arg2, unsigned long arg3,
  //           unsigned long arg4, unsigned long arg5);
  prctl: {
    parameters: ["i32", "u64", "u64", "u64", "u64"],
    result: "i32",
  },

  // int posix_spawnp(pid_t *pid, const char *file,
  //                  const posix_spawn_file_actions_t *file_actions,
  //                  const posix_spawnattr_t *attrp,
  //                  char *const argv[], char *const envp[]);
  posix_spawnp: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  // int posix_spawnattr_init(posix_spawnattr_t *attr);
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  // int posix_spawnattr_destroy(posix_spawnattr_t *attr);
  posix_spawnattr_destroy: { parameters: ["buffer"], result: "i32" },
  // int posix_spawnattr_setflags(posix_spawnattr_t *attr, short flags);
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  // int posix_spawnattr_setsigmask(posix_spawnattr_t *attr,
  //                                const sigset_t *sigmask);
  posix_spawnattr_setsigmask: {
    parameters: ["buffer", "buffer"],
    result: "i32",
  },
  // int posix_spawnattr_setsigdefault(posix_spawnattr_t *attr,
  //                                   const sigset_t *sigdefault);
  posix_spawnattr_setsigdefault: {
    parameters: ["buffer", "buffer"],
    result: "i32",
  },
  // int posix_spawnattr_setpgroup(posix_spawnattr_t *attr, pid_t pgroup);
  posix_spawnattr_setpgroup: { parameters: ["buffer", "i32"], result: "i32" },
  // int posix_spawn_file_actions_init(posix_spawn_file_actions_t *fa);
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  // int posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *fa);
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  // int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *fa,
  //                                          const char *path);
  // glibc >= 2.29 (Debian 11, Ubuntu 20.04).
  posix_spawn_file_actions_addchdir_np: {
    parameters: ["buffer", "buffer"],
    result: "i32",
  },
  // int posix_spawn_file_actions_addtcsetpgrp_np(posix_spawn_file_actions_t *fa,
  //                                              int tcfd);
  // glibc >= 2.35 (Debian 12, Ubuntu 24.04); optional so older libcs still load.
  posix_spawn_file_actions_addtcsetpgrp_np: {
    parameters: ["buffer", "i32"],
    result: "i32",
    optional: true,
  },
  // int pthread_sigmask(int how, const sigset_t *set, sigset_t *oldset);
  pthread_sigmask: {
    parameters: ["i32", "buffer", "buffer"],
    result: "i32",
  },
  // sighandler_t signal(int signum, sighandler_t handler);
  signal: { parameters: ["i32", "pointer"], result: "pointer" },
  // int signalfd(int fd, const sigset_t *mask, int flags);
  signalfd: { parameters: ["i32", "buffer", "i32"], result: "i32" },

  // pid_t waitpid(pid_t pid, int *wstatus, int options);
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  // int kill(pid_t pid, int sig);
  kill: { parameters: ["i32", "i32"], result: "i32" },
  // int raise(int sig);
  // To this thread only (tests of the signalfd: a process-directed signal
  // could land on another runtime thread).
  raise: { parameters: ["i32"], result: "i32" },

  // int open(const char *pathname, int flags, mode_t mode);
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  // ssize_t write(int fd, const void *buf, size_t count);
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  // ssize_t read(int fd, void *buf, size_t count);
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  // int poll(struct pollfd *fds, nfds_t nfds, int timeout);
  // Synchronous, on the main thread: PID 1's one wait (init/event_loop.ts).
  // Never `nonblocking`: that runs the call on the runtime's blocking pool,
  // whose idle threads exit after 10 s, so a later call must create a
  // thread, and at a container's pids limit the runtime aborts when it
  // cannot (measured: "Deno could not start: unable to create worker
  // threads" long after start).
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  // int inotify_init1(int flags);
  inotify_init1: { parameters: ["i32"], result: "i32" },
  // int inotify_add_watch(int fd, const char *pathname, uint32_t mask);
  inotify_add_watch: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  // int close(int fd);
  close: { parameters: ["i32"], result: "i32" },

  // struct passwd *getpwnam(const char *name);
  getpwnam: { parameters: ["buffer"], result: "pointer" },
  // struct passwd *getpwuid(uid_t uid);
  getpwuid: { parameters: ["u32"], result: "pointer" },
  // struct group *getgrnam(const char *name);
  getgrnam: { parameters: ["buffer"], result: "pointer" },
  // struct group *getgrgid(gid_t gid);
  getgrgid: { parameters: ["u32"], result: "pointer" },
  // int initgroups(const char *user, gid_t group);
  initgroups: { parameters: ["buffer", "u32"], result: "i32" },
  // int getgroups(int size, gid_t list[]);
  getgroups: { parameters: ["i32", "buffer"], result: "i32" },
  // int setgid(gid_t gid);
  setgid: { parameters: ["u32"], result: "i32" },
  // int setuid(uid_t uid);
  setuid: { parameters: ["u32"], result: "i32" },
  // uid_t getuid(void);  uid_t geteuid(void);
  getuid: { parameters: [], result: "u32" },
  geteuid: { parameters: [], result: "u32" },
  // gid_t getgid(void);  gid_t getegid(void);
  getgid: { parameters: [], result: "u32" },
  getegid: { parameters: [], result: "u32" },

  // int execvpe(const char *file, char *const argv[], char *const envp[]);
  // (GNU) Searches the PATH of this process, not of envp: setuser sets its
  // own PATH to the caller's first.
  execvpe: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  // int setenv(const char *name, const char *value, int overwrite);
  setenv: { parameters: ["buffer", "buffer", "i32"], result: "i32" },
  // int unsetenv(const char *name);
  unsetenv: { parameters: ["buffer"], result: "i32" },

  // int getgrouplist(const char *user, gid_t group, gid_t *groups,
  //                  int *ngroups);
  getgrouplist: {
    parameters: ["buffer", "u32", "buffer", "buffer"],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** Constants of Linux/glibc used by the tools. */
export const C = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  ENOTDIR: 20,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ERANGE: 34,
  ELOOP: 40,

  WNOHANG: 1,
  WUNTRACED: 2,

  SIG_BLOCK: 0,
  SIG_UNBLOCK: 1,
  SIG_SETMASK: 2,

  POSIX_SPAWN_SETPGROUP: 0x02,
  POSIX_SPAWN_SETSIGDEF: 0x04,
  POSIX_SPAWN_SETSIGMASK: 0x08,

  PR_SET_CHILD_SUBREAPER: 36,

  _SC_ARG_MAX: 0,

  O_WRONLY: 0o1,
  O_NONBLOCK: 0o4000,
  O_CLOEXEC: 0o2000000,

  SFD_NONBLOCK: 0o4000,
  SFD_CLOEXEC: 0o2000000,

  IN_NONBLOCK: 0o4000,
  IN_CLOEXEC: 0o2000000,
  IN_CREATE: 0x100,
  IN_DELETE: 0x200,
  IN_MOVED_TO: 0x80,
  POLLIN: 0x1,
  POLLERR: 0x8,
  POLLHUP: 0x10,
  POLLNVAL: 0x20,
} as const;

/** Sizes and offsets of the glibc structures read or allocated here. */
export const LAYOUT = {
  /** sizeof(sigset_t), which lib/signals.ts builds bit by bit */
  sigset: SIGSET_SIZE,
  /** sizeof(posix_spawnattr_t) */
  spawnattr: 336,
  /** sizeof(posix_spawn_file_actions_t) */
  fileActions: 80,
  passwd: {
    size: 48,
    pw_name: 0,
    pw_passwd: 8,
    pw_uid: 16,
    pw_gid: 20,
    pw_gecos: 24,
    pw_dir: 32,
    pw_shell: 40,
  },
  group: { size: 32, gr_name: 0, gr_passwd: 8, gr_gid: 16, gr_mem: 24 },
  pollfd: { size: 8, fd: 0, events: 4, revents: 6 },
  signalfd_siginfo: { size: 128, ssi_signo: 0, ssi_pid: 12 },
} as const;

/** The loaded library type. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

type SymbolName = keyof typeof SYMBOLS;

const bound = new Map<string, unknown>();
// The libraries stay open for the life of the process: closing one would
// leave its bound function dangling.
const opened: unknown[] = [];

/**
 * The symbols bound with a compiled fast-call stub: those called in loops
 * (the reaper's waitpid, once per child; poll, once per turn of PID 1's
 * event loop). See bind().
 */
const FAST_CALL: ReadonlySet<SymbolName> = new Set(["waitpid", "poll"]);

// Binding a function symbol makes the runtime compile a fast-call stub
// (Cranelift): 150-300 us each, ~25 of them in a one-shot my_init, while
// each is called a few times. So each symbol is bound on first use, and
// (but for FAST_CALL) as a plain address called through Deno.UnsafeFnPointer: ~15 us
// to bind, ~7 us a call instead of ~0.1 (measured on 2.9.6, lite mode).
// Optional symbols keep the function form: a missing one then reads as
// undefined, which callers test.
// dlopen of the already loaded libc is only a reference count.
function bind(name: SymbolName): unknown {
  const def: Deno.ForeignFunction & { optional?: boolean } = SYMBOLS[name];
  if (FAST_CALL.has(name) || def.optional) {
    const lib = Deno.dlopen("libc.so.6", { [name]: def });
    opened.push(lib);
    return lib.symbols[name];
  }
  const lib = Deno.dlopen("libc.so.6", {
    [name]: { name: def.name ?? name, type: "pointer" },
  });
  opened.push(lib);
  // Not null: dlopen throws for a symbol that is missing and not optional.
  const address = lib.symbols[name] as Deno.PointerObject<typeof def>;
  const fn = new Deno.UnsafeFnPointer(address, def);
  return fn.call.bind(fn);
}

const symbols = new Proxy({}, {
  get(_target, name) {
    if (typeof name !== "string" || !Object.hasOwn(SYMBOLS, name)) {
      return undefined;
    }
    if (!bound.has(name)) {
      // errno() right after a failed call must not be the first use of
      // __errno_location: binding it then could clobber the errno it reads.
      if (!bound.has("__errno_location")) {
        bound.set("__errno_location", bind("__errno_location"));
      }
      bound.set(name, bind(name as SymbolName));
    }
    return bound.get(name);
  },
}) as Libc;

/**
 * Returns libc's symbols, each bound on first use.
 *
 * "libc.so.6" is the glibc soname on every Debian and Ubuntu release; the
 * dynamic loader finds it without a path.
 */
export function libc(): Libc {
  return symbols;
}

/**
 * Reads errno. Call it right after the failing call, before any other FFI
 * call or await: errno is per thread and the next call may overwrite it.
 */
export function errno(): number {
  const p = libc().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32(0);
}

/** Sets errno to 0, before a call that reports failure only through errno. */
export function clearErrno(): void {
  const p = libc().__errno_location();
  if (p !== null) {
    new Int32Array(Deno.UnsafePointerView.getArrayBuffer(p, 4))[0] = 0;
  }
}

/** The symbolic name of an errno value ("ENOENT"), or undefined. */
export function errnoName(code: number): string | undefined {
  for (const [name, value] of Object.entries(C)) {
    if (value === code && /^E[A-Z0-9]+$/.test(name)) return name;
  }
  return undefined;
}

/**
 * strerror(3) of `code` with its name, e.g. "No such file or directory
 * (ENOENT)": the text for people, the name for a search.
 */
export function strerror(code: number): string {
  const p = libc().strerror(code);
  const text = p === null
    ? `errno ${code}`
    : Deno.UnsafePointerView.getCString(p);
  const name = errnoName(code);
  return name === undefined ? text : `${text} (${name})`;
}

/** An error carrying the errno of a failed libc call. */
export class ErrnoError extends Error {
  /** The errno value. */
  readonly code: number;
  /** Creates an error "what: strerror(code)". */
  constructor(what: string, code: number) {
    super(`${what}: ${strerror(code)}`);
    this.name = "ErrnoError";
    this.code = code;
  }
}
