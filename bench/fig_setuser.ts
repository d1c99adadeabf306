/**
 * Figure 6: `setuser nobody /bin/true` against setpriv and chpst, and the
 * bare runtime floor. Not PID 1: plain start-up timing with hyperfine.
 *
 * @module
 */

import { cpuCell, timeCommands, type Timed, timingCell } from "./_hyperfine.ts";
import type { Figure, Target } from "./_report.ts";
import {
  benchEnv,
  floorArgv,
  PHUSION,
  PHUSION_PYTHON,
  phusionArgv,
  phusionMissing,
  type Setup,
} from "./_subjects.ts";
import { START_FACTOR, startTarget, TIME_METRICS } from "./fig_oneshot.ts";

/** Measures figure 6. */
export async function setuserStart(
  setup: Setup,
  runs: number,
): Promise<{ figures: Figure[]; targets: Target[] }> {
  const commands: Timed[] = [];
  if (setup.setuser) {
    commands.push({
      name: "setuser",
      argv: [setup.setuser, "nobody", "/bin/true"],
    });
  }
  const phusion = phusionArgv(setup, "setuser", ["nobody", "/bin/true"]);
  if (phusion) commands.push({ name: PHUSION, argv: phusion });
  commands.push(
    { name: "deno floor", argv: floorArgv(setup, setup.emptyJs) },
    {
      name: "setpriv",
      argv: [
        "setpriv",
        "--reuid=nobody",
        "--regid=nogroup",
        "--init-groups",
        "/bin/true",
      ],
    },
    { name: "chpst", argv: ["chpst", "-u", "nobody", "/bin/true"] },
  );
  const timings = await timeCommands(commands, runs, {
    tmp: setup.tmp,
    env: benchEnv(setup),
  });
  const fig: Figure = {
    id: "6",
    title:
      "`setuser nobody /bin/true` vs setpriv, chpst and the bare runtime (not PID 1)",
    metrics: TIME_METRICS,
    ours: "setuser",
    rows: ["setuser", "deno floor", PHUSION, "setpriv", "chpst"].map((s) => ({
      subject: s,
      cells: s === "setuser" && !setup.setuser
        ? { t: "not built", cpu: "" }
        : s === PHUSION && !phusion
        ? { t: phusionMissing(), cpu: "" }
        : { t: timingCell(timings.get(s)), cpu: cpuCell(timings.get(s)) },
    })),
    notes: [
      "setpriv: `--reuid=nobody --regid=nogroup --init-groups`; chpst: `-u nobody`.",
      `${PHUSION}: phusion's setuser, \`${PHUSION_PYTHON} -u setuser nobody /bin/true\`.`,
    ],
  };
  return {
    figures: [fig],
    targets: [
      startTarget(fig, "setuser", `setuser ≤ ${START_FACTOR}x bare runtime`),
    ],
  };
}
