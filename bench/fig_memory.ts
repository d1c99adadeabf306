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
  type Setup,
  which,
} from "./_subjects.ts";

/** Ours must stay within this factor of the runtime's RSS. */
export const RSS_FACTOR = 1.1;
/** Ours must not exceed this RssAnon, in MB. */
export const RSS_ANON_MAX_MB = 9;

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
  const figure: Figure = {
    id: "2",
    title: "Idle memory of PID 1, 2 s after start (child: `sleep 5`)",
    metrics: [...MEMORY_METRICS],
    rows,
    ours: "my_init",
    notes: [
      "my_init: `--skip-startup-files --skip-runit --quiet -- sleep 5`; deno floor: " +
      "the bare runtime with our launcher's flags running `await new Promise(r => setTimeout(r, 5000))`.",
      "All subjects of a round start together (2 cores); memory is read 2 s after each start.",
    ],
  };
  const rss = ratio(
    cellOf(figure, "my_init", "rss"),
    cellOf(figure, "deno floor", "rss"),
  );
  const anon = cellOf(figure, "my_init", "anon");
  const targets: Target[] = [
    {
      figure: "2",
      target: `VmRSS ≤ ${RSS_FACTOR}x bare runtime`,
      measured: rss === undefined
        ? "n/a"
        : `${num(rss, 2)}x (${
          num(cellOf(figure, "my_init", "rss")!.median, 1)
        } vs ${num(cellOf(figure, "deno floor", "rss")!.median, 1)} MB)`,
      pass: rss === undefined ? undefined : rss <= RSS_FACTOR,
    },
    {
      figure: "2",
      target: `RssAnon ≤ ${RSS_ANON_MAX_MB} MB`,
      measured: anon ? `${num(anon.median, 1)} MB` : "n/a",
      pass: anon ? anon.median <= RSS_ANON_MAX_MB : undefined,
    },
  ];
  return { figures: [figure], targets };
}
