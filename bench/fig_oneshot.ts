/**
 * Figure 1: one-shot overhead, `INIT -- /bin/true` as PID 1 of a fresh PID
 * namespace, against the bare Deno runtime running an empty script with
 * our launcher's flags (the floor).
 *
 * @module
 */

import { timeCommands, type Timed, timingCell } from "./_hyperfine.ts";
import { makeSandbox, removeSandbox, UNSHARE_PID, withPrivateEtc } from "./_ns.ts";
import { cellOf, type Figure, num, type Target } from "./_report.ts";
import { ratio } from "./_stats.ts";
import { benchEnv, floorArgv, oursOneShot, peerArgv, PEERS, type Setup } from "./_subjects.ts";

/** Ours must start within this factor of the bare runtime. */
export const START_FACTOR = 1.15;

/** Measures figure 1. */
export async function oneShot(
  setup: Setup,
  runs: number,
): Promise<{ figures: Figure[]; targets: Target[] }> {
  const ns = (argv: readonly string[]) => [...UNSHARE_PID, ...argv];
  const commands: Timed[] = [
    { name: "unshare only (no init)", argv: ns(["/bin/true"]) },
    { name: "deno floor", argv: ns(floorArgv(setup, setup.emptyJs)) },
  ];
  const ours = oursOneShot(setup, ["/bin/true"]);
  if (ours) commands.push({ name: "my_init", argv: ns(ours) });
  for (const p of PEERS) commands.push({ name: p, argv: ns(peerArgv(p, ["/bin/true"])) });

  // One private /etc for the whole hyperfine run: each PID namespace then
  // inherits it, and the timed command is just `unshare ... INIT`.
  const sandbox = makeSandbox(setup.tmp);
  let timings;
  try {
    timings = await timeCommands(commands, runs, {
      tmp: setup.tmp,
      env: benchEnv(setup),
      wrap: (argv) => withPrivateEtc(sandbox, argv),
    });
  } finally {
    removeSandbox(sandbox);
  }

  const figure: Figure = {
    id: "1",
    title: "One-shot overhead: `INIT -- /bin/true` as PID 1 (wall time)",
    metrics: [{ key: "t", label: "time", unit: "ms", digits: 1 }],
    ours: "my_init",
    rows: [],
    notes: [
      "my_init runs with `--skip-startup-files --skip-runit --quiet`: without " +
      "--skip-runit it boots runit before the command, which no peer does.",
      "deno floor: the bare runtime with our launcher's RUN_FLAGS and DENO_DIR " +
      "running an empty script, as PID 1 the same way.",
      "Every time includes `unshare --pid --fork --mount-proc` (see the first row).",
    ],
  };
  const subjects = ["my_init", "deno floor", ...PEERS, "unshare only (no init)"];
  for (const s of subjects) {
    const t = timings.get(s);
    figure.rows.push({
      subject: s,
      cells: { t: s === "my_init" && !ours ? "not built" : timingCell(t) },
    });
    if (t && !("error" in t) && t.failures) {
      figure.notes.push(`${s}: ${t.failures} failed runs left out`);
    }
  }
  const r = ratio(cellOf(figure, "my_init", "t"), cellOf(figure, "deno floor", "t"));
  const targets: Target[] = [{
    figure: "1",
    target: `one-shot ≤ ${START_FACTOR}x bare runtime`,
    measured: r === undefined ? "n/a" : `${num(r, 2)}x (${
      num(cellOf(figure, "my_init", "t")!.median, 1)
    } vs ${num(cellOf(figure, "deno floor", "t")!.median, 1)} ms)`,
    pass: r === undefined ? undefined : r <= START_FACTOR,
  }];
  return { figures: [figure], targets };
}
