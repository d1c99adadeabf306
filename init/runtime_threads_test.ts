import assert from "node:assert/strict";
import { hasLateThread, lateThreadStarted } from "./runtime_threads.ts";

Deno.test("hasLateThread() looks for a second thread still named as the process", () => {
  const named = [
    { tid: 10, comm: "deno" },
    { tid: 11, comm: "V8 DefaultWorke" },
    { tid: 12, comm: "tokio-runtime-w" },
  ];
  assert.equal(hasLateThread(10, named), false);
  assert.equal(hasLateThread(10, [...named, { tid: 13, comm: "deno" }]), true);
  assert.equal(hasLateThread(99, named), false);
});

Deno.test("lateThreadStarted() finds the runtime's SIGUSR1 listener thread (Deno >= 2.9.2)", async () => {
  // The version package.json pins creates it ~500 ms after start; if a
  // runtime update stops doing so, my_init waits LATE_THREAD_DEADLINE_MS
  // at boot for nothing: this says so.
  assert.equal(await lateThreadStarted(), "started");
});
