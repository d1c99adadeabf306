/**
 * Figure 6: `setuser nobody /bin/true` against setpriv and chpst, and the
 * bare runtime floor. Not PID 1: plain start-up timing with hyperfine.
 *
 * @module
 */

import { timeCommands, type Timed, timingCell } from "./_hyperfine.ts";
import { cellOf, type Figure, num, type Target } from "./_report.ts";
import { ratio } from "./_stats.ts";
import { benchEnv, floorArgv, type Setup } from "./_subjects.ts";
import { START_FACTOR } from "./fig_oneshot.ts";

/** Measures figure 6. */
export async function setuserStart(
  setup: Setup,
  runs: number,
): Promise<{ figures: Figure[]; targets: Target[] }> {
  const commands: Timed[] = [];
  if (setup.setuser) {
    commands.push({ name: "setuser", argv: [setup.setuser, "nobody", "/bin/true"] });
  }
  commands.push(
    { name: "deno floor", argv: floorArgv(setup, setup.emptyJs) },
    {
      name: "setpriv",
      argv: ["setpriv", "--reuid=nobody", "--regid=nogroup", "--init-groups", "/bin/true"],
    },
    { name: "chpst", argv: ["chpst", "-u", "nobody", "/bin/true"] },
  );
  const timings = await timeCommands(commands, runs, { tmp: setup.tmp, env: benchEnv(setup) });
  const fig: Figure = {
    id: "6",
    title: "`setuser nobody /bin/true` vs setpriv, chpst and the bare runtime (not PID 1)",
    metrics: [{ key: "t", label: "time", unit: "ms", digits: 1 }],
    ours: "setuser",
    rows: ["setuser", "deno floor", "setpriv", "chpst"].map((s) => ({
      subject: s,
      cells: { t: s === "setuser" && !setup.setuser ? "not built" : timingCell(timings.get(s)) },
    })),
    notes: [
      "setpriv: `--reuid=nobody --regid=nogroup --init-groups`; chpst: `-u nobody`.",
    ],
  };
  const r = ratio(cellOf(fig, "setuser", "t"), cellOf(fig, "deno floor", "t"));
  return {
    figures: [fig],
    targets: [{
      figure: "6",
      target: `setuser ≤ ${START_FACTOR}x bare runtime`,
      measured: r === undefined ? "n/a" : `${num(r, 2)}x (${
        num(cellOf(fig, "setuser", "t")!.median, 1)
      } vs ${num(cellOf(fig, "deno floor", "t")!.median, 1)} ms)`,
      pass: r === undefined ? undefined : r <= START_FACTOR,
    }],
  };
}
