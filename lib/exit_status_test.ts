import assert from "node:assert/strict";
import { decodeWaitStatus, exitCodeOf, stopSignalOf } from "./exit_status.ts";

Deno.test("decodeWaitStatus() reads every exit code 0..255", () => {
  for (let code = 0; code < 256; code++) {
    const status = decodeWaitStatus(code << 8);
    assert.deepEqual(status, { kind: "exited", code });
    assert.equal(exitCodeOf(status), code);
  }
});

Deno.test("decodeWaitStatus() maps a signal death to 128+N", () => {
  for (const sig of [1, 2, 3, 9, 15, 31]) {
    const status = decodeWaitStatus(sig);
    assert.deepEqual(status, { kind: "signaled", signal: sig });
    assert.equal(exitCodeOf(status), 128 + sig);
  }
  // The core-dump bit (0x80) does not change the signal.
  assert.deepEqual(decodeWaitStatus(0x80 | 11), {
    kind: "signaled",
    signal: 11,
  });
});

Deno.test("exitCodeOf() reports 1 for a status it cannot decode", () => {
  const status = decodeWaitStatus(0x137f);
  assert.equal(status.kind, "other");
  assert.equal(exitCodeOf(status), 1);
});

Deno.test("stopSignalOf() reads WSTOPSIG of a stopped status only", () => {
  assert.equal(stopSignalOf(0x147f), 20); // stopped by SIGTSTP
  assert.equal(stopSignalOf(0x137f), 19); // SIGSTOP
  assert.equal(stopSignalOf(0x0300), undefined); // exited 3
  assert.equal(stopSignalOf(0x0009), undefined); // killed by SIGKILL
  assert.equal(stopSignalOf(0xffff), undefined); // continued (WCONTINUED)
});
