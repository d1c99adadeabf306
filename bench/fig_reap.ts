/**
 * Figure 5: reaping. PID 1 of each init gets a main command that orphans
 * processes to it:
 * - 2,000 `sleep 1000` in one process group, orphaned and then killed with
 *   ONE kill(-pgrp, KILL): time from the kill until PID 1 has no child left
 *   but the main command, and the zombies left then;
 * - churn: 100 batches of 100 short-lived processes each orphaned (the
 *   batch shell exits without waiting); the churn's own time (measured
 *   inside), and the zombies left once PID 1 is down to its main command.
 *
 * @module
 */

import {
  findPid1,
  inNamespace,
  makeSandbox,
  removeSandbox,
  type Sandbox,
} from "./_ns.ts";
import { childrenOf, poll, procStat, spawn, stop, zombiesIn } from "./_proc.ts";
import { cellOf, type Figure, num, type Target } from "./_report.ts";
import { ratio, summarize } from "./_stats.ts";
import {
  benchEnv,
  oursOneShot,
  peerArgv,
  PEERS,
  PHUSION,
  phusionMissing,
  phusionOneShot,
  type Setup,
  which,
} from "./_subjects.ts";

/** Reap-all target for 2,000 orphans, ms. */
export const REAP_MAX_MS = 100;
/** Issue 11: reap-all within this factor of tini. */
export const REAP_TINI_FACTOR = 1.1;
/** Orphans killed at once. */
export const ORPHANS = 2000;
/** Batches x size of the churn. */
export const CHURN_BATCHES = 100;
export const CHURN_BATCH = 100;

function orphanScript(mark: string): string {
  // setsid: the orphans get a process group of their own, so one kill(2)
  // reaches all of them and nothing else.
  return [
    `setsid sh -c 'i=0; while [ $i -lt ${ORPHANS} ]; do sleep 1000 & i=$((i+1)); done'`,
    `: > ${mark}`,
    "exec sleep 1000",
  ].join("\n");
}

function churnScript(start: string, end: string): string {
  return [
    `date +%s%N > ${start}`,
    "b=0",
    `while [ $b -lt ${CHURN_BATCHES} ]; do`,
    `  sh -c 'i=0; while [ $i -lt ${CHURN_BATCH} ]; do true & i=$((i+1)); done'`,
    "  b=$((b+1))",
    "done",
    `date +%s%N > ${end}.new && mv ${end}.new ${end}`,
    "exec sleep 1000",
  ].join("\n");
}

interface Subject {
  name: string;
  /** Real path of PID 1's executable. */
  exe: string;
  argv: (script: string) => string[];
  /** false: PID 1 never reaps (the kernel floor); time ends when all are zombies. */
  reaps: boolean;
}

/** The kernel floor: PID 1 is `sleep`, which never reaps. */
const NO_REAPER = "no reaper (kernel floor)";

/** Host PIDs of `pids` that are not zombies yet (gone ones count as done). */
function notYetZombies(pids: readonly number[]): number[] {
  return pids.filter((p) => {
    const st = procStat(p)?.state;
    return st !== undefined && st !== "Z";
  });
}

function exists(path: string): true | undefined {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return undefined;
  }
}

/** PID 1 down to its one main command: returns the time. */
function onlyMainLeft(pid1: number): number | undefined {
  return childrenOf(pid1).length <= 1 ? performance.now() : undefined;
}

async function withInit<T>(
  setup: Setup,
  s: Subject,
  script: (sb: Sandbox) => string,
  body: (sb: Sandbox, pid1: number) => Promise<T>,
): Promise<T | string> {
  const sandbox = makeSandbox(setup.tmp);
  const owned = spawn(
    inNamespace(sandbox, s.argv(script(sandbox))),
    benchEnv(setup),
  );
  try {
    const pid1 = await findPid1(owned.pid, s.exe);
    if (pid1 === undefined) return `PID 1 is not ${s.exe}`;
    return await body(sandbox, pid1);
  } finally {
    await stop(owned);
    removeSandbox(sandbox);
  }
}

async function killOrphans(
  setup: Setup,
  s: Subject,
): Promise<{ ms: number; zombies: number; orphans: number } | string> {
  return await withInit(
    setup,
    s,
    (sb) => orphanScript(`${sb.dir}/spawned`),
    async (sb, pid1) => {
      if (
        !await poll(() => exists(`${sb.dir}/spawned`), 60_000, 5)
      ) return "orphans not spawned in 60 s";
      const groups = new Map<number, number>();
      for (const c of childrenOf(pid1)) {
        const g = procStat(c)?.pgrp;
        if (g !== undefined) groups.set(g, (groups.get(g) ?? 0) + 1);
      }
      const [pgrp, orphans] = [...groups].sort((a, b) => b[1] - a[1])[0] ??
        [0, 0];
      if (
        orphans < ORPHANS / 2
      ) return `only ${orphans} orphans reparented to PID 1`;
      let left = s.reaps
        ? []
        : childrenOf(pid1).filter((c) => procStat(c)?.pgrp === pgrp);
      const t0 = performance.now();
      Deno.kill(-pgrp, "SIGKILL");
      // Without a reaper, the end is every orphan a zombie: re-read only
      // those still alive, so a poll gets cheap fast.
      const t1 = s.reaps
        ? await poll(() => onlyMainLeft(pid1), 10_000, 1)
        : await poll(
          () =>
            (left = notYetZombies(left)).length ? undefined : performance.now(),
          10_000,
          1,
        );
      return {
        ms: (t1 ?? performance.now()) - t0,
        zombies: zombiesIn(pid1),
        orphans,
      };
    },
  );
}

async function churn(
  setup: Setup,
  s: Subject,
): Promise<{ ms: number; zombies: number } | string> {
  return await withInit(
    setup,
    s,
    (sb) => churnScript(`${sb.dir}/start`, `${sb.dir}/end`),
    async (sb, pid1) => {
      if (!await poll(() => exists(`${sb.dir}/end`), 120_000, 5)) {
        return "churn not done in 120 s";
      }
      await poll(() => onlyMainLeft(pid1), 10_000, 1);
      const zombies = zombiesIn(pid1);
      const ns = (f: string) =>
        BigInt(Deno.readTextFileSync(`${sb.dir}/${f}`).trim());
      return { ms: Number(ns("end") - ns("start")) / 1e6, zombies };
    },
  );
}

/** Measures figure 5. */
export async function reaping(
  setup: Setup,
  runs: number,
): Promise<{ figures: Figure[]; targets: Target[] }> {
  const subjects: Subject[] = [];
  if (setup.dist) {
    subjects.push({
      name: "my_init",
      exe: setup.denoExe,
      argv: (script) => oursOneShot(setup, ["sh", "-c", script])!,
      reaps: true,
    });
  }
  const phusion = phusionOneShot(setup, ["sh", "-c", "true"]);
  if (phusion) {
    subjects.push({
      name: PHUSION,
      exe: setup.phusion!.exe,
      argv: (script) => phusionOneShot(setup, ["sh", "-c", script])!,
      reaps: true,
    });
  }
  for (const p of PEERS) {
    subjects.push({
      name: p,
      exe: which(p),
      argv: (script) => peerArgv(p, ["sh", "-c", script]),
      reaps: true,
    });
  }
  // sh starts the main command in the background and becomes `sleep`: a
  // PID 1 that never reaps, so the time is the kernel's alone.
  subjects.push({
    name: NO_REAPER,
    exe: which("sleep"),
    argv: (script) => ["sh", "-c", `(${script}) & exec sleep 1000`],
    reaps: false,
  });
  const fig: Figure = {
    id: "5",
    title: `Reaping: ${ORPHANS} orphans killed at once; ${
      CHURN_BATCHES * CHURN_BATCH
    } orphans churned`,
    metrics: [
      { key: "kill", label: `reap ${ORPHANS} killed`, unit: "ms", digits: 1 },
      { key: "kz", label: "zombies left", unit: "count", digits: 0 },
      {
        key: "churn",
        label: `churn ${CHURN_BATCHES * CHURN_BATCH}`,
        unit: "ms",
        digits: 0,
      },
      { key: "cz", label: "zombies left", unit: "count", digits: 0 },
    ],
    ours: "my_init",
    rows: [],
    notes: [
      `reap: from one kill(-pgrp, SIGKILL) to PID 1 having only its main command ` +
      `left as a child (polled every 1 ms); zombies counted in the namespace then.`,
      `churn: ${CHURN_BATCHES} shells each start ${CHURN_BATCH} \`true &\` and exit ` +
      "without waiting; time measured inside the namespace (`date +%s%N`), zombies " +
      "counted once PID 1 is down to its main command (or after 10 s).",
      "my_init and phusion's: `--skip-startup-files --skip-runit --quiet -- sh -c ...`.",
      `${NO_REAPER}: PID 1 is \`sleep\`; the time ends when all ${ORPHANS} are ` +
      "zombies (/proc/PID/stat state Z): what the kernel alone takes to kill them.",
    ],
  };
  if (!setup.dist) {
    fig.rows.push({
      subject: "my_init",
      cells: { kill: "not built", kz: "", churn: "", cz: "" },
    });
  }
  if (!phusion) {
    fig.rows.push({
      subject: PHUSION,
      cells: { kill: phusionMissing(), kz: "", churn: "", cz: "" },
    });
  }
  for (const s of subjects) {
    const kill: number[] = [],
      kz: number[] = [],
      ch: number[] = [],
      cz: number[] = [];
    const errors = new Set<string>();
    for (let i = 0; i < runs; i++) {
      const k = await killOrphans(setup, s);
      if (typeof k === "string") errors.add(k);
      else {
        kill.push(k.ms);
        kz.push(k.zombies);
        if (k.orphans !== ORPHANS) {
          errors.add(`${k.orphans} orphans instead of ${ORPHANS}`);
        }
      }
      if (!s.reaps) continue;
      const c = await churn(setup, s);
      if (typeof c === "string") errors.add(c);
      else {
        ch.push(c.ms);
        cz.push(c.zombies);
      }
    }
    const cell = (xs: number[]) => summarize(xs) ?? "failed";
    fig.rows.push({
      subject: s.name,
      cells: s.reaps
        ? { kill: cell(kill), kz: cell(kz), churn: cell(ch), cz: cell(cz) }
        : { kill: cell(kill), kz: "n/a (all)", churn: "n/a", cz: "n/a" },
    });
    for (const e of errors) fig.notes.push(`${s.name}: ${e}`);
  }
  const row = fig.rows.find((r) => r.subject === "my_init")!;
  const k = row.cells.kill, kzs = row.cells.kz, czs = row.cells.cz;
  const measured = typeof k === "object" && typeof kzs === "object" &&
    typeof czs === "object";
  const tini = cellOf(fig, "tini", "kill");
  const floor = cellOf(fig, NO_REAPER, "kill");
  const vsTini = ratio(typeof k === "object" ? k : undefined, tini);
  return {
    figures: [fig],
    targets: [
      {
        figure: "5",
        target: "0 zombies (after kill and after churn)",
        measured: measured ? `max ${kzs.max} / ${czs.max}` : "n/a",
        pass: measured ? kzs.max === 0 && czs.max === 0 : undefined,
      },
      {
        figure: "5",
        target: `reap ${ORPHANS} killed orphans ≤ ${REAP_MAX_MS} ms`,
        measured: typeof k === "object"
          ? `${num(k.median, 1)} ms (max ${num(k.max, 1)})`
          : "n/a",
        pass: typeof k === "object" ? k.median <= REAP_MAX_MS : undefined,
      },
      {
        figure: "5",
        target: `reap ${ORPHANS} killed orphans ≤ ${REAP_TINI_FACTOR}x tini`,
        measured: vsTini === undefined || typeof k !== "object" || !tini
          ? "n/a"
          : `${num(vsTini, 2)}x (${num(k.median, 1)} vs ${
            num(tini.median, 1)
          } ms; kernel alone ${floor ? num(floor.median, 1) : "n/a"} ms)`,
        pass: vsTini === undefined ? undefined : vsTini <= REAP_TINI_FACTOR,
      },
    ],
  };
}
