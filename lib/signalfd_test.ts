import assert from "node:assert/strict";
import { libc } from "./libc.ts";
import { SIGNALS } from "./signals.ts";
import { openSignalFd, SignalReader } from "./signalfd.ts";

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
