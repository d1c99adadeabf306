/**
 * Figure 2: idle memory of PID 1 (VmRSS and RssAnon from /proc/PID/status)
 * 2 s after start, with a `sleep 5` child; the floor is the bare runtime
 * running a script that just waits.
 *
 * @module
 */

import {
  findPid1,
  inNamespace,
  makeSandbox,
  removeSandbox,
  runs,
} from "./_ns.ts";
import { procStatus, sleep, spawn, statusMB, stop } from "./_proc.ts";
import { cellOf, type Figure, num, type Row, type Target } from "./_report.ts";
import { ratio, summarize } from "./_stats.ts";
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
  which,
} from "./_subjects.ts";

/** Ours must stay within this factor of the runtime's RSS. */
export const RSS_FACTOR = 1.1;
/** Ours must not exceed this RssAnon, in MB. */
export const RSS_ANON_MAX_MB = 9;
/** Issue 11: ours within this many MB of the runtime's own RssAnon. */
export const RSS_ANON_OVER_FLOOR_MB = 1;

/** The metrics of an idle-memory figure. */
export const MEMORY_METRICS = [
  { key: "rss", label: "VmRSS", unit: "MB", digits: 1 },
  { key: "anon", label: "RssAnon", unit: "MB", digits: 1 },
  { key: "threads", label: "threads", unit: "count", digits: 0 },
] as const;

/** A process to measure idle. */
export interface Idle {
  name: string;
  /** argv of PID 1. */
  argv: readonly string[];
  /** Real path of PID 1's executable once it runs (after launchers exec'd). */
  exe: string;
  env?: Record<string, string>;
}

/**
 * Starts every subject at once as PID 1 of its own namespace, reads its
 * status `afterMs` after start, kills it; `rounds` times. Returns a row per
 * subject.
 */
export async function measureIdle(
  setup: Setup,
  subjects: readonly Idle[],
  rounds: number,
  afterMs = 2000,
): Promise<Row[]> {
  const samples = new Map<
    string,
    { rss: number[]; anon: number[]; threads: number[] }
  >();
  const errors = new Map<string, string>();
  for (const s of subjects) {
    samples.set(s.name, { rss: [], anon: [], threads: [] });
  }
  for (let round = 0; round < rounds; round++) {
    await Promise.all(subjects.map(async (s) => {
      const sandbox = makeSandbox(setup.tmp);
      const owned = spawn(inNamespace(sandbox, s.argv), {
        ...benchEnv(setup),
        ...s.env,
      });
      try {
        const pid1 = await findPid1(owned.pid, s.exe);
        const wait = owned.spawnedAt + afterMs - performance.now();
        if (wait > 0) await sleep(wait);
        const status = pid1 === undefined ? undefined : procStatus(pid1);
        const rss = status && statusMB(status, "VmRSS");
        const anon = status && statusMB(status, "RssAnon");
        if (
          !status || !runs(pid1!, s.exe) || rss === undefined ||
          anon === undefined
        ) {
          errors.set(s.name, `PID 1 not running ${s.exe}`);
          return;
        }
        const sample = samples.get(s.name)!;
        sample.rss.push(rss);
        sample.anon.push(anon);
        sample.threads.push(Number(status.Threads));
      } finally {
        await stop(owned);
        removeSandbox(sandbox);
      }
    }));
  }
  return subjects.map((s) => {
    const v = samples.get(s.name)!;
    const err = errors.get(s.name);
    const cell = (xs: number[]) =>
      summarize(xs) ?? `failed: ${err ?? "no sample"}`;
    return {
      subject: s.name,
      cells: { rss: cell(v.rss), anon: cell(v.anon), threads: cell(v.threads) },
    };
  });
}

/** Measures figure 2. */
export async function idleMemory(
  setup: Setup,
  runs: number,
): Promise<{ figures: Figure[]; targets: Target[] }> {
  const subjects: Idle[] = [];
  const ours = oursOneShot(setup, ["sleep", "5"]);
  if (ours) subjects.push({ name: "my_init", argv: ours, exe: setup.denoExe });
  subjects.push({
    name: "deno floor",
    argv: floorArgv(setup, setup.waitJs),
    exe: setup.denoExe,
  });
  const phusion = phusionOneShot(setup, ["sleep", "5"]);
  if (phusion) {
    subjects.push({ name: PHUSION, argv: phusion, exe: setup.phusion!.exe });
  }
  for (const p of PEERS) {
    subjects.push({
      name: p,
      argv: peerArgv(p, ["sleep", "5"]),
      exe: which(p),
    });
  }
  const rows = await measureIdle(setup, subjects, runs);
  if (!ours) {
    rows.unshift({
      subject: "my_init",
      cells: { rss: "not built", anon: "not built", threads: "" },
    });
  }
  if (!phusion) {
    rows.splice(2, 0, {
      subject: PHUSION,
      cells: { rss: phusionMissing(), anon: "", threads: "" },
    });
  }
  const figure: Figure = {
    id: "2",
    title: "Idle memory of PID 1, 2 s after start (child: `sleep 5`)",
    metrics: [...MEMORY_METRICS],
    rows,
    ours: "my_init",
    notes: [
      "my_init: `--skip-startup-files --skip-runit --quiet -- sleep 5`; deno floor: " +
      "the bare runtime with our launcher's flags running `await new Promise(r => AbortSignal.timeout(5000).addEventListener('abort', r))` (a web timer, as ours: setTimeout would load the runtime's Node timers layer).",
      "All subjects of a round start together (2 cores); memory is read 2 s after each start.",
      `${PHUSION}: the Python process that is PID 1 (\`${PHUSION_PYTHON} -u my_init\` ` +
      "with the same flags).",
    ],
  };
  return { figures: [figure], targets: memoryTargets(figure) };
}

/** `; phusion 11.0 MB (ours 3.59x)`, or nothing when phusion was not measured. */
function againstPhusion(figure: Figure, key: "rss" | "anon"): string {
  const o = cellOf(figure, "my_init", key), p = cellOf(figure, PHUSION, key);
  const r = ratio(o, p);
  return p && r !== undefined
    ? `; phusion ${num(p.median, 1)} MB (ours ${num(r, 2)}x)`
    : "";
}

/** The targets of figure 2, each measured also against phusion's my_init. */
export function memoryTargets(figure: Figure): Target[] {
  const ours = (k: string) => cellOf(figure, "my_init", k);
  const floor = (k: string) => cellOf(figure, "deno floor", k);
  const rss = ratio(ours("rss"), floor("rss"));
  const anon = ours("anon"), anonFloor = floor("anon");
  return [
    {
      figure: "2",
      target: `VmRSS ≤ ${RSS_FACTOR}x bare runtime`,
      measured: rss === undefined
        ? "n/a"
        : `${num(rss, 2)}x (${num(ours("rss")!.median, 1)} vs ${
          num(floor("rss")!.median, 1)
        } MB)${againstPhusion(figure, "rss")}`,
      pass: rss === undefined ? undefined : rss <= RSS_FACTOR,
    },
    {
      figure: "2",
      target: `RssAnon ≤ bare runtime + ${RSS_ANON_OVER_FLOOR_MB} MB`,
      measured: anon && anonFloor
        ? `${num(anon.median, 1)} MB = runtime ${num(anonFloor.median, 1)} + ${
          num(anon.median - anonFloor.median, 1)
        } MB${againstPhusion(figure, "anon")}`
        : "n/a",
      pass: anon && anonFloor
        ? anon.median <= anonFloor.median + RSS_ANON_OVER_FLOOR_MB
        : undefined,
    },
    {
      figure: "2",
      target: `RssAnon ≤ ${RSS_ANON_MAX_MB} MB`,
      measured: anon ? `${num(anon.median, 1)} MB` : "n/a",
      pass: anon ? anon.median <= RSS_ANON_MAX_MB : undefined,
    },
  ];
}
