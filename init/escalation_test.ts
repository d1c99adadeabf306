import assert from "node:assert/strict";
import { escalate } from "./escalation.ts";
import { within } from "./time.ts";

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
