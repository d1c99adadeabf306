import assert from "node:assert/strict";
import { escalate } from "./escalation.ts";
import { after, within } from "./time.ts";
import { KILL_WAIT_MS } from "./config.ts";

function ladder(endOn: "ask" | "force" | "never", graceMs = 20) {
  const said: string[] = [];
  let end!: (v: string) => void;
  const done = new Promise<string>((r) => end = r);
  return {
    said,
    ladder: {
      ask: () => {
        said.push("ask");
        if (endOn === "ask") end("asked");
      },
      force: () => {
        said.push("force");
        if (endOn === "force") end("forced");
      },
      wait: (ms: number) => within(done, ms),
      graceMs,
      onForce: () => said.push("onForce"),
      onGiveUp: () => said.push("onGiveUp"),
    },
  };
}

Deno.test("escalate() stops at asking when that is enough", async () => {
  const { said, ladder: l } = ladder("ask");
  assert.equal(await escalate(l), "asked");
  assert.deepEqual(said, ["ask"]);
});

Deno.test("escalate() forces after the grace period, not before", async () => {
  const { said, ladder: l } = ladder("force", 60);
  const started = performance.now();
  assert.equal(await escalate(l), "forced");
  assert.ok(performance.now() - started >= 59);
  assert.deepEqual(said, ["ask", "onForce", "force"]);
});

Deno.test("escalate() waits KILL_WAIT_MS after forcing, whatever the grace period", async () => {
  // A grace of 0 and an end that comes a few ms after the KILL: that wait
  // is the last chance, and KILL_WAIT_MS long, not the grace period.
  const waits: number[] = [];
  let end!: (v: string) => void;
  const done = new Promise<string>((r) => end = r);
  const said: string[] = [];
  const result = await escalate({
    ask: () => said.push("ask"),
    force: () => {
      said.push("force");
      // my_init's own timer: a runtime timer would wait for its poll.
      after(5, () => end("forced"));
    },
    wait: (ms) => {
      waits.push(ms);
      return within(done, ms);
    },
    graceMs: 0,
    onForce: () => said.push("onForce"),
    onGiveUp: () => said.push("onGiveUp"),
  });
  assert.equal(result, "forced");
  assert.deepEqual(waits, [0, KILL_WAIT_MS]);
  assert.deepEqual(said, ["ask", "onForce", "force"]);
});

Deno.test("escalate() gives up, saying so, when even forcing does not end it", async () => {
  const { said, ladder: l } = ladder("never", 0);
  const waits: number[] = [];
  assert.equal(
    await escalate({
      ...l,
      wait: (ms) => {
        waits.push(ms);
        return Promise.resolve("timeout" as const);
      },
    }),
    undefined,
  );
  assert.deepEqual(said, ["ask", "onForce", "force", "onGiveUp"]);
  assert.deepEqual(waits, [0, KILL_WAIT_MS]);
});
