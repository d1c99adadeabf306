import assert from "node:assert/strict";
import { executePlan, failureText, planInstall, type Step } from "./plan.ts";

Deno.test("planInstall() updates, installs without recommends, autoremoves, cleans", () => {
  assert.deepEqual(
    planInstall({ recommends: false, aptArgs: ["nginx", "my pkg"] }),
    {
      env: { DEBIAN_FRONTEND: "noninteractive" },
      steps: [
        { kind: "run", argv: ["apt-get", "update"], always: false },
        {
          kind: "run",
          argv: [
            "apt-get",
            "install",
            "-y",
            "--no-install-recommends",
            "nginx",
            "my pkg",
          ],
          always: false,
        },
        { kind: "run", argv: ["apt-get", "autoremove", "-y"], always: false },
        { kind: "run", argv: ["apt-get", "clean"], always: true },
        { kind: "clear-lists", dir: "/var/lib/apt/lists", always: true },
      ],
    },
  );
});

Deno.test("planInstall() keeps recommends when asked", () => {
  const install =
    planInstall({ recommends: true, aptArgs: ["nginx"] }).steps[1];
  assert.deepEqual(install, {
    kind: "run",
    argv: ["apt-get", "install", "-y", "nginx"],
    always: false,
  });
});

function names(step: Step): string {
  return step.kind === "run" ? step.argv[1] : step.kind;
}

Deno.test("executePlan() runs every step and returns 0 on success", () => {
  const ran: string[] = [];
  const { steps } = planInstall({ recommends: false, aptArgs: ["x"] });
  assert.equal(executePlan(steps, (s) => (ran.push(names(s)), 0)), 0);
  assert.deepEqual(ran, [
    "update",
    "install",
    "autoremove",
    "clean",
    "clear-lists",
  ]);
});

Deno.test("executePlan() still cleans after a failure and returns its status", () => {
  const ran: string[] = [];
  const { steps } = planInstall({ recommends: false, aptArgs: ["x"] });
  const status = executePlan(steps, (s) => {
    ran.push(names(s));
    return names(s) === "install" ? 100 : 0;
  });
  assert.equal(status, 100);
  assert.deepEqual(ran, ["update", "install", "clean", "clear-lists"]);
});

Deno.test("executePlan() reports the first failure, not a later one", () => {
  const { steps } = planInstall({ recommends: false, aptArgs: ["x"] });
  const status = executePlan(steps, (s) => names(s) === "update" ? 100 : 1);
  assert.equal(status, 100);
});

Deno.test("executePlan() fails when only the cleaning fails", () => {
  const { steps } = planInstall({ recommends: false, aptArgs: ["x"] });
  assert.equal(executePlan(steps, (s) => s.kind === "clear-lists" ? 1 : 0), 1);
});

Deno.test("executePlan() after a stop signal skips to the cleaning and returns 128+N", () => {
  const ran: string[] = [];
  let stop: number | undefined;
  const { steps } = planInstall({ recommends: false, aptArgs: ["x"] });
  const status = executePlan(steps, (s) => {
    ran.push(names(s));
    // TERM arrives during update, which apt-get finishes anyway.
    if (names(s) === "update") stop = 15;
    return 0;
  }, () => stop);
  assert.equal(status, 143);
  assert.deepEqual(ran, ["update", "clean", "clear-lists"]);
});

Deno.test("executePlan() after a stop signal keeps the status of the step it ended", () => {
  let stop: number | undefined;
  const { steps } = planInstall({ recommends: false, aptArgs: ["x"] });
  const status = executePlan(steps, (s) => {
    if (names(s) !== "install") return 0;
    stop = 2;
    return 100;
  }, () => stop);
  assert.equal(status, 100);
});

Deno.test("failureText() names the apt-get command and its status", () => {
  const [, install] = planInstall({ recommends: false, aptArgs: ["x"] }).steps;
  assert.equal(
    failureText(install, 100),
    "install_clean: warning: apt-get install failed with status 100\n",
  );
});

Deno.test("failureText() names the lists folder of a failed emptying", () => {
  const steps = planInstall({ recommends: false, aptArgs: ["x"] }).steps;
  const clear = steps[steps.length - 1];
  assert.equal(
    failureText(clear, 1),
    "install_clean: warning: emptying /var/lib/apt/lists failed with status 1\n",
  );
});
