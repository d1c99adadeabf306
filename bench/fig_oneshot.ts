/**
 * Figure 1: one-shot overhead, `INIT -- /bin/true` as PID 1 of a fresh PID
 * namespace, against the bare Deno runtime running an empty script with
 * our launcher's flags (the floor).
 *
 * @module
 */

import { cpuCell, timeCommands, type Timed, timingCell } from "./_hyperfine.ts";
import {
  makeSandbox,
  removeSandbox,
  UNSHARE_PID,
  withPrivateEtc,
} from "./_ns.ts";
import {
  cellOf,
  type Figure,
  type Metric,
  num,
  type Target,
} from "./_report.ts";
import { ratio } from "./_stats.ts";
import {
  benchEnv,
  floorArgv,
  oursOneShot,
  peerArgv,
  PEERS,
  PHUSION,
  PHUSION_PYTHON,
  phusionMissing,
  phusionOneShot,
  type Setup,
} from "./_subjects.ts";

/** Ours must start within this factor of the bare runtime. */
export const START_FACTOR = 1.15;
/** Issue 11: one-shot within this factor of the bare runtime (START_FACTOR is stricter and stays). */
export const ONE_SHOT_FLOOR_FACTOR = 1.5;
/** Issue 11: one-shot no slower than phusion's my_init. */
export const ONE_SHOT_PHUSION_FACTOR = 1.0;

/** Wall time and CPU time of a start-up figure. */
export const TIME_METRICS: Metric[] = [
  { key: "t", label: "wall time", unit: "ms", digits: 1 },
  { key: "cpu", label: "CPU user+sys", unit: "ms", digits: 1 },
];

/**
 * The target "`ours` within START_FACTOR of the `deno floor` row": judged on
 * the medians of wall time; the minima and CPU times are shown too, as they
 * suffer less from load elsewhere on the machine.
 */
export function startTarget(
  fig: Figure,
  ours: string,
  target: string,
  options: { factor?: number; against?: string } = {},
): Target {
  const factor = options.factor ?? START_FACTOR;
  const against = options.against ?? "deno floor";
  const o = cellOf(fig, ours, "t"), f = cellOf(fig, against, "t");
  const r = ratio(o, f);
  if (!o || !f || r === undefined) {
    // Say why: e.g. phusion's tools are not available on this machine.
    const why = fig.rows.find((row) => row.subject === against)?.cells.t;
    return {
      figure: fig.id,
      target,
      measured: o && typeof why === "string"
        ? `n/a (${against}: ${why})`
        : "n/a",
      pass: undefined,
    };
  }
  const cpu = ratio(cellOf(fig, ours, "cpu"), cellOf(fig, against, "cpu"));
  return {
    figure: fig.id,
    target,
    measured:
      `${num(r, 2)}x (${num(o.median, 1)} vs ${num(f.median, 1)} ms); ` +
      `minima ${num(o.min / f.min, 2)}x; CPU ${
        cpu === undefined ? "n/a" : `${num(cpu, 2)}x`
      }`,
    pass: r <= factor,
  };
}

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
  const phusion = phusionOneShot(setup, ["/bin/true"]);
  if (phusion) commands.push({ name: PHUSION, argv: ns(phusion) });
  for (const p of PEERS) {
    commands.push({ name: p, argv: ns(peerArgv(p, ["/bin/true"])) });
  }

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
    metrics: TIME_METRICS,
    ours: "my_init",
    rows: [],
    notes: [
      "my_init runs with `--skip-startup-files --skip-runit --quiet`: without " +
      "--skip-runit it boots runit before the command, which no peer does.",
      "deno floor: the bare runtime with our launcher's RUN_FLAGS and DENO_DIR " +
      "running an empty script, as PID 1 the same way.",
      "Every time includes `unshare --pid --fork --mount-proc` (see the first row).",
      `${PHUSION}: phusion's my_init with the same flags, \`${PHUSION_PYTHON} -u my_init\` ` +
      "(its shebang), on an /etc with an empty /etc/container_environment as in its image.",
    ],
  };
  const subjects = [
    "my_init",
    "deno floor",
    PHUSION,
    ...PEERS,
    "unshare only (no init)",
  ];
  for (const s of subjects) {
    const t = timings.get(s);
    figure.rows.push({
      subject: s,
      cells: s === "my_init" && !ours
        ? { t: "not built", cpu: "" }
        : s === PHUSION && !phusion
        ? { t: phusionMissing(), cpu: "" }
        : { t: timingCell(t), cpu: cpuCell(t) },
    });
    if (t && !("error" in t) && t.failures) {
      figure.notes.push(`${s}: ${t.failures} failed runs left out`);
    }
  }
  const targets = [
    startTarget(figure, "my_init", `one-shot ≤ ${START_FACTOR}x bare runtime`),
    startTarget(
      figure,
      "my_init",
      `one-shot ≤ ${ONE_SHOT_FLOOR_FACTOR}x bare runtime`,
      { factor: ONE_SHOT_FLOOR_FACTOR },
    ),
    startTarget(
      figure,
      "my_init",
      `one-shot ≤ ${ONE_SHOT_PHUSION_FACTOR.toFixed(1)}x phusion's my_init`,
      { factor: ONE_SHOT_PHUSION_FACTOR, against: PHUSION },
    ),
  ];
  return { figures: [figure], targets };
}
