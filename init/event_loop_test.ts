import assert from "node:assert/strict";
import { libc } from "../lib/libc.ts";
import { SIGNALS } from "../lib/signals.ts";
import { openSignalFd, SignalReader } from "../lib/signalfd.ts";
import { addTimer, whenReadable } from "./event_loop.ts";

Deno.test("whenReadable() wakes on the descriptor, else after its deadline", async () => {
  const { fd } = openSignalFd([SIGNALS.SIGUSR2], { nonblocking: true });
  try {
    const started = performance.now();
    assert.equal(await whenReadable(fd, 50), false);
    assert.ok(performance.now() - started >= 49);
    libc().raise(SIGNALS.SIGUSR2);
    const woke = performance.now();
    assert.equal(await whenReadable(fd, 10_000), true);
    assert.ok(performance.now() - woke < 1000);
    assert.equal(new SignalReader(fd).read(() => {}), 1);
  } finally {
    libc().close(fd);
  }
});

Deno.test("a chain of awaits finishes before the loop polls again", async () => {
  // The loop must not block in poll(2) while promise reactions are
  // pending, or a step would stop half-way until some later event woke
  // the poll, here the 2 s timer.
  const cancelLong = addTimer(2_000, () => {});
  const started = performance.now();
  await new Promise<void>((resolve) => {
    addTimer(0, async () => {
      for (let i = 0; i < 100; i++) await null;
      addTimer(0, resolve);
    });
  });
  cancelLong();
  const took = performance.now() - started;
  assert.ok(took < 1000, `the chain's next step came after ${took} ms`);
});

Deno.test("nothing in my_init waits on the runtime's own loop", () => {
  // It only turns between two of my_init's polls (init/event_loop.ts): a
  // runtime timer, an async file call or a nonblocking FFI call would hang
  // until some signal or timer of ours woke the poll; the last two also
  // need the runtime's blocking pool, whose threads come and go, and at a
  // pids limit PID 1 would die creating one.
  const offenders: string[] = [];
  const root = new URL("../", import.meta.url);
  const banned = [
    /\bAbortSignal\.timeout\b/,
    /\bset(Timeout|Interval)\s*\(/,
    // an FFI symbol with `nonblocking: true` (not the signalfd's option)
    /result:[^}]*nonblocking:\s*true|nonblocking:\s*true[^}]*result:/,
    /\bDeno\.(readFile|readTextFile|writeFile|writeTextFile|open|stat|lstat|readDir|remove|mkdir|rename|realPath|readLink|symlink|chmod|chown|copyFile|makeTempDir|makeTempFile|truncate|watchFs|Command|addSignalListener)\b(?!Sync)/,
  ];
  for (const dir of ["init", "lib"]) {
    for (const e of Deno.readDirSync(new URL(`${dir}/`, root))) {
      if (!e.name.endsWith(".ts") || e.name.endsWith("_test.ts")) continue;
      const text = Deno.readTextFileSync(new URL(`${dir}/${e.name}`, root));
      const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
      for (const b of banned) {
        if (b.test(code)) offenders.push(`${dir}/${e.name}: ${b}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});
