import assert from "node:assert/strict";
import { C, ErrnoError, libc } from "./libc.ts";
import { SIGNALS } from "./signals.ts";
import { openSignalFd, readSignalsSync, SignalReader } from "./signalfd.ts";

/**
 * Runs `code` in a new Deno (`sh -c` first: `shell` runs before the exec),
 * with ./signalfd.ts, ./libc.ts and ./signals.ts imported, and with every
 * signal blocked as the launcher does if `blockSignals`; its stdout.
 */
async function runChild(
  shell: string,
  code: string,
  options: { blockSignals?: boolean } = {},
): Promise<string> {
  const lib = (name: string) => new URL(name, import.meta.url).href;
  const script = [
    `import { openSignalFd } from ${JSON.stringify(lib("./signalfd.ts"))};`,
    `import { libc } from ${JSON.stringify(lib("./libc.ts"))};`,
    `import { SIGNALS, sigsetOf } from ${JSON.stringify(lib("./signals.ts"))};`,
    `import { readSignalsSync } from ${JSON.stringify(lib("./signalfd.ts"))};`,
    code,
  ].join("\n");
  const out = await new Deno.Command("sh", {
    args: [
      "-c",
      `${shell}; exec ${
        options.blockSignals ? "env --block-signal " : ""
      }"$0" eval --no-lock "$1"`,
      Deno.execPath(),
      script,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test("SignalReader returns every signal of one read, not only the first", () => {
  // Raised at this thread while blocked, they wait in the signalfd; one
  // read(2) returns them all (several signalfd_siginfo records).
  const wanted = [SIGNALS.SIGUSR2, SIGNALS.SIGHUP, SIGNALS.SIGWINCH];
  const { fd } = openSignalFd(wanted, { nonblocking: true });
  try {
    for (const s of wanted) assert.equal(libc().raise(s), 0);
    const reader = new SignalReader(fd);
    const seen: number[] = [];
    const pids: number[] = [];
    const n = reader.read((signo, pid) => {
      seen.push(signo);
      pids.push(pid);
    });
    assert.equal(n, 3);
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      [...wanted].sort((a, b) => a - b),
    );
    assert.ok(pids.every((p) => p === Deno.pid), `senders ${pids}`);
    // Nothing left, and a nonblocking read says so instead of blocking.
    assert.equal(reader.read(() => assert.fail("no signal pending")), 0);
  } finally {
    libc().close(fd);
  }
});

Deno.test("openSignalFd() says whether every signal of the set was blocked before it", () => {
  // Neither signal is blocked in a test process until opened here.
  const { SIGXFSZ, SIGVTALRM } = SIGNALS;
  const fds: number[] = [];
  try {
    const first = openSignalFd([SIGXFSZ]);
    fds.push(first.fd);
    const mixed = openSignalFd([SIGXFSZ, SIGVTALRM]);
    fds.push(mixed.fd);
    assert.equal(mixed.wereBlocked, false);
    const again = openSignalFd([SIGXFSZ, SIGVTALRM]);
    fds.push(again.fd);
    assert.equal(again.wereBlocked, true);
  } finally {
    for (const fd of fds) libc().close(fd);
  }
});

Deno.test("openSignalFd() takes descriptor 0 when it is the lowest free one", async () => {
  const out = await runChild(
    "true",
    `libc().close(0);
    console.log(openSignalFd([SIGNALS.SIGUSR2]).fd);`,
  );
  assert.equal(out, "0\n");
});

Deno.test("openSignalFd() throws ErrnoError when signalfd fails: no descriptor left", async () => {
  const out = await runChild(
    "ulimit -n 64",
    `const path = new TextEncoder().encode("/dev/null\\0");
    while (libc().open(path, 0, 0) >= 0);
    try {
      openSignalFd([SIGNALS.SIGUSR2]);
      console.log("opened");
    } catch (e) {
      console.log(\`\${e.name} \${e.code}: \${e.message}\`);
    }`,
  );
  assert.equal(
    out,
    `ErrnoError ${C.EMFILE}: signalfd: Too many open files (EMFILE)\n`,
  );
});

Deno.test("readSignalsSync() returns every signal of one read, with its sender", () => {
  const wanted = [SIGNALS.SIGTTIN, SIGNALS.SIGTTOU, SIGNALS.SIGPWR];
  const { fd } = openSignalFd(wanted);
  try {
    for (const s of wanted) assert.equal(libc().raise(s), 0);
    const got = readSignalsSync(fd);
    assert.deepEqual(
      got.sort((a, b) => a.signo - b.signo),
      wanted.map((signo) => ({ signo, pid: Deno.pid })),
    );
  } finally {
    libc().close(fd);
  }
});

Deno.test("SignalReader and readSignalsSync() throw ErrnoError on a descriptor that is not open", () => {
  const expected = (e: unknown) =>
    e instanceof ErrnoError && e.code === C.EBADF &&
    e.message === "read from signalfd: Bad file descriptor (EBADF)";
  assert.throws(() => new SignalReader(-1).read(() => {}), expected);
  assert.throws(() => readSignalsSync(-1), expected);
});

Deno.test("readSignalsSync() reads on when a signal handler interrupts its wait", async () => {
  // As under the launcher, every signal is blocked in every thread; this
  // one unblocks SIGALRM with a handler (libc's getpid) that does not ask
  // for SA_RESTART, so the ALRM ends the blocking read with EINTR. The
  // USR2 it waits for is sent 0.5 s after it started waiting.
  const out = await runChild(
    // (At most 10 s: a child that fails before it waits leaves no loop.)
    `ready=$(mktemp -u); (i=0; while [ ! -e "$ready" ] && [ $i -lt 200 ]; ` +
      `do sleep 0.05; i=$((i + 1)); done; [ -e "$ready" ] || exit; ` +
      `sleep 0.5; rm "$ready"; kill -USR2 $$) & export READY="$ready"`,
    `const c = Deno.dlopen("libc.so.6", {
      dlsym: { parameters: ["pointer", "buffer"], result: "pointer" },
      sigaction: { parameters: ["i32", "buffer", "pointer"], result: "i32" },
      ualarm: { parameters: ["u32", "u32"], result: "u32" },
    }).symbols;
    // struct sigaction: handler, sa_mask (128 bytes), sa_flags 0.
    const act = new Uint8Array(152);
    const getpid = c.dlsym(null, new TextEncoder().encode("getpid\\0"));
    new DataView(act.buffer).setBigUint64(0, Deno.UnsafePointer.value(getpid), true);
    if (c.sigaction(SIGNALS.SIGALRM, act, null) !== 0) throw new Error("sigaction");
    libc().pthread_sigmask(1, sigsetOf([SIGNALS.SIGALRM]), null);
    const { fd } = openSignalFd([SIGNALS.SIGUSR2]);
    Deno.writeTextFileSync(Deno.env.get("READY"), "");
    c.ualarm(100_000, 0);
    console.log(JSON.stringify(readSignalsSync(fd).map((s) => s.signo)));`,
    { blockSignals: true },
  );
  assert.equal(out, `[${SIGNALS.SIGUSR2}]\n`);
});
