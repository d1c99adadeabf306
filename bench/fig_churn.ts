/**
 * Figure 11: PID 1's memory under churn (issue 17 item 1b). PID 1 (one-shot
 * mode, as in figure 2) runs a perl main command that waits 3 s, then makes
 * short-lived orphans at a paced 1,000 a second for BENCH_CHURN_SECONDS
 * (default 600): each is forked by a child that exits at once, so PID 1
 * inherits and reaps it. Idle memory is read before the churn starts, then
 * every 30 s, and once more when the churn ends; the generator counts the
 * orphans it made, so the rate reported is the one reached, not the one
 * asked for.
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
import {
  poll,
  procStat,
  procStatus,
  sleep,
  spawn,
  statusMB,
  stop,
  zombiesIn,
} from "./_proc.ts";
import { cellOf, type Figure, num, type Row, type Target } from "./_report.ts";
import { summarize } from "./_stats.ts";
import {
  benchEnv,
  oursOneShot,
  PHUSION,
  PHUSION_PYTHON,
  phusionMissing,
  phusionOneShot,
  type Setup,
} from "./_subjects.ts";

/** Orphans a second the generator is paced to. */
export const CHURN_RATE = 1000;
/** Default length of the churn, s (BENCH_CHURN_SECONDS). */
export const CHURN_SECONDS = 600;
/** Target: RssAnon at the end within this many MB of idle. */
export const CHURN_GROWTH_MAX_MB = 2;
/** Below this share of CHURN_RATE the run is not the target's load. */
export const CHURN_RATE_MIN_SHARE = 0.9;
/** The main command sleeps this long before the churn; idle is read before. */
const DELAY_S = 3;
/** When the idle sample is taken, ms after the spawn. */
const IDLE_AT_MS = 2500;
/** Interval between samples during the churn, ms. */
const SAMPLE_MS = 30_000;

/**
 * The generator: after `delay` s, batches of 100 orphans paced to `rate` a
 * second for `secs` s; counts the orphans whose parent forked them (exit 0),
 * writes `COUNT SECONDS` to `out` (atomically), then waits to be killed so
 * that PID 1 is still there to be read.
 */
const GENERATOR = `use strict; use POSIX (); use Time::HiRes qw(time sleep);
my ($delay, $secs, $rate, $out) = @ARGV;
sleep $delay;
my $t0 = time; my $n = 0;
while (time - $t0 < $secs) {
  for (1 .. 100) {
    my $p = fork;
    next unless defined $p;
    if (!$p) { my $g = fork; POSIX::_exit(defined $g ? 0 : 1) }
    waitpid($p, 0);
    $n++ if $? == 0;
  }
  my $d = $t0 + $n / $rate - time;
  sleep $d if $d > 0;
}
my $el = time - $t0;
open(my $f, ">", "$out.new") or die "$out.new: $!";
print $f "$n $el\\n"; close $f;
rename("$out.new", $out) or die "$out: $!";
sleep 3600;
`;

/** The generator's argv, writing its count to `out`. */
export function generatorArgv(seconds: number, out: string): string[] {
  return [
    "perl",
    "-e",
    GENERATOR,
    String(DELAY_S),
    String(seconds),
    String(CHURN_RATE),
    out,
  ];
}

/**
 * BENCH_CHURN_SECONDS: the churn's length in s (a positive integer; default
 * CHURN_SECONDS when unset or empty); throws on anything else.
 */
export function churnSeconds(text: string | undefined): number {
  if (text === undefined || text === "") return CHURN_SECONDS;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(n) || n < 1) {
    throw new Error(
      `Invalid BENCH_CHURN_SECONDS "${text}": expected a positive integer`,
    );
  }
  return n;
}

/** BENCH_CHURN_PHUSION: `1` adds phusion's my_init (another churn as long). */
export function withPhusion(text: string | undefined): boolean {
  return text === "1";
}

/** The generator's `COUNT SECONDS` line as numbers, or undefined. */
export function parseCount(
  text: string,
): { orphans: number; seconds: number } | undefined {
  const m = /^(\d+) (\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*$/.exec(text);
  if (!m) return undefined;
  const orphans = Number(m[1]), seconds = Number(m[2]);
  return seconds > 0 ? { orphans, seconds } : undefined;
}

/** One reading of PID 1. */
export interface Sample {
  /** s since the spawn. */
  t: number;
  anon: number;
  rss: number;
  threads: number;
}

/** What one subject's run gave. */
export interface ChurnRun {
  idle: Sample;
  samples: Sample[];
  /** Orphans a second the generator reached. */
  rate: number;
  orphans: number;
  /** Zombies in the namespace once the churn ended. */
  zombies: number;
}

/**
 * Idle, final and max RssAnon, the growth (final - idle) and the peak over
 * idle (max - idle), MB.
 */
export function anonSummary(
  run: Pick<ChurnRun, "idle" | "samples">,
): { idle: number; final: number; max: number; growth: number; peak: number } {
  const all = [run.idle, ...run.samples];
  const final = all[all.length - 1].anon;
  const max = Math.max(...all.map((s) => s.anon));
  return {
    idle: run.idle.anon,
    final,
    max,
    growth: final - run.idle.anon,
    peak: max - run.idle.anon,
  };
}

/** Reads RssAnon, VmRSS and threads of `pid` if it still runs `exe`. */
function sample(pid: number, exe: string, t0: number): Sample | undefined {
  const status = procStatus(pid);
  if (!status || !runs(pid, exe)) return undefined;
  const anon = statusMB(status, "RssAnon"), rss = statusMB(status, "VmRSS");
  if (anon === undefined || rss === undefined) return undefined;
  return {
    t: (performance.now() - t0) / 1000,
    anon,
    rss,
    threads: Number(status.Threads),
  };
}

/** Runs one subject through the churn; throws with the reason on failure. */
async function churnOne(
  setup: Setup,
  argvOf: (command: string[]) => string[],
  exe: string,
  seconds: number,
): Promise<ChurnRun> {
  const sandbox = makeSandbox(setup.tmp);
  const out = `${sandbox.dir}/count`;
  const owned = spawn(
    inNamespace(sandbox, argvOf(generatorArgv(seconds, out))),
    benchEnv(setup),
  );
  const t0 = owned.spawnedAt;
  let pid1: number | undefined;
  try {
    pid1 = await findPid1(owned.pid, exe);
    if (pid1 === undefined) throw new Error(`PID 1 not running ${exe}`);
    const pid = pid1;
    const at = async (ms: number) => {
      const wait = t0 + ms - performance.now();
      if (wait > 0) await sleep(wait);
    };
    const read = () => {
      const s = sample(pid, exe, t0);
      if (!s) throw new Error(`PID 1 gone or not running ${exe}`);
      return s;
    };
    await at(IDLE_AT_MS);
    const idle = read();
    const samples: Sample[] = [];
    const done = () => {
      try {
        return parseCount(Deno.readTextFileSync(out));
      } catch {
        return undefined;
      }
    };
    const end = DELAY_S * 1000 + seconds * 1000;
    for (let ms = DELAY_S * 1000 + SAMPLE_MS; ms < end; ms += SAMPLE_MS) {
      await at(ms);
      samples.push(read());
    }
    // The generator writes its count when the churn is over (under load a
    // little after `end`): the last sample is of PID 1 just after it.
    const count = await poll(done, 120_000, 100);
    if (!count) throw new Error("the generator wrote no count");
    samples.push(read());
    return {
      idle,
      samples,
      orphans: count.orphans,
      rate: count.orphans / count.seconds,
      zombies: zombiesIn(pid),
    };
  } finally {
    await stop(owned);
    // PID 1 dies of unshare's death signal a moment after unshare: wait
    // until it has (its namespace goes with it), so that no churn of this
    // figure outlives it.
    if (pid1 !== undefined) {
      await poll(
        () => {
          const state = procStat(pid1!)?.state;
          return state === undefined || state === "Z" ? true : undefined;
        },
        5000,
        10,
      );
    }
    removeSandbox(sandbox);
  }
}

/** The figure's columns. */
export const CHURN_METRICS = [
  { key: "idle", label: "RssAnon idle", unit: "MB", digits: 1 },
  { key: "final", label: "RssAnon at end", unit: "MB", digits: 1 },
  { key: "growth", label: "end - idle", unit: "MB", digits: 1 },
  { key: "max", label: "RssAnon max", unit: "MB", digits: 1 },
  { key: "peak", label: "max - idle", unit: "MB", digits: 1 },
  { key: "rss", label: "VmRSS at end", unit: "MB", digits: 1 },
  { key: "threads", label: "threads in churn (max)", unit: "count", digits: 0 },
  { key: "rate", label: "orphans/s", unit: "count", digits: 0 },
] as const;

/** A figure row from a subject's runs (one per round). */
export function churnRow(subject: string, results: ChurnRun[]): Row {
  const pick = (f: (r: ChurnRun) => number) =>
    summarize(results.map(f)) ?? "no sample";
  const last = (r: ChurnRun) => r.samples[r.samples.length - 1] ?? r.idle;
  return {
    subject,
    cells: {
      idle: pick((r) => anonSummary(r).idle),
      final: pick((r) => anonSummary(r).final),
      max: pick((r) => anonSummary(r).max),
      growth: pick((r) => anonSummary(r).growth),
      peak: pick((r) => anonSummary(r).peak),
      rss: pick((r) => last(r).rss),
      // The idle sample is left out: the runtime's start-up threads (7 at
      // 2.5 s) have exited by the first churn sample.
      threads: pick((r) =>
        Math.max(
          ...(r.samples.length ? r.samples : [r.idle]).map((s) => s.threads),
        )
      ),
      rate: pick((r) => r.rate),
    },
  };
}

/**
 * The target: RssAnon within CHURN_GROWTH_MAX_MB of idle at every sample of
 * the churn and at its end (the worst round): V8 collects the garbage of
 * the churn in bursts, so the end alone would pass or fail by the phase of
 * its collections. n/a when not measured, or when the churn reached less
 * than CHURN_RATE_MIN_SHARE of its rate (then it was not the load the
 * target names).
 */
export function churnTarget(figure: Figure, seconds: number): Target {
  const minutes = seconds % 60 === 0
    ? `${seconds / 60} minutes`
    : `${seconds} s`;
  const target =
    `RssAnon during and after ${minutes} of ${CHURN_RATE} orphans a second ≤ idle + ${CHURN_GROWTH_MAX_MB} MB`;
  const cell = (k: string) => cellOf(figure, "my_init", k);
  const idle = cell("idle"), final = cell("final"), growth = cell("growth");
  const max = cell("max"), peak = cell("peak"), rate = cell("rate");
  if (!idle || !final || !growth || !max || !peak || !rate) {
    return { figure: "11", target, measured: "n/a", pass: undefined };
  }
  const signed = (v: number) => `${v >= 0 ? "+" : ""}${num(v, 1)}`;
  let measured = `at end ${num(final.max, 1)} MB (idle ${num(idle.median, 1)} ${
    signed(growth.max)
  }), max ${num(max.max, 1)} MB (${signed(peak.max)}) at ${
    num(rate.min, 0)
  } orphans/s`;
  const slow = rate.min < CHURN_RATE * CHURN_RATE_MIN_SHARE;
  if (slow) measured += ": churn below the target's rate";
  const p = (k: string) => cellOf(figure, PHUSION, k);
  if (p("idle") && p("final") && p("max")) {
    measured += `; phusion ${num(p("idle")!.median, 1)} → ${
      num(p("final")!.median, 1)
    } MB (max ${num(p("max")!.max, 1)})`;
  }
  return {
    figure: "11",
    target,
    measured,
    pass: slow ? undefined : peak.max <= CHURN_GROWTH_MAX_MB,
  };
}

/** `3 s 12.5 (4), 33 s 12.3 (7)`: seconds, RssAnon MB and (threads) per sample. */
export function series(run: Pick<ChurnRun, "idle" | "samples">): string {
  return [run.idle, ...run.samples].map((s) =>
    `${num(s.t, 0)} s ${num(s.anon, 1)} (${s.threads})`
  ).join(", ");
}

/** Measures figure 11 (`runs` rounds, each BENCH_CHURN_SECONDS long). */
export async function churnMemory(
  setup: Setup,
  rounds: number,
): Promise<{ figures: Figure[]; targets: Target[] }> {
  const seconds = churnSeconds(Deno.env.get("BENCH_CHURN_SECONDS"));
  const subjects: {
    name: string;
    argvOf?: (command: string[]) => string[];
    exe?: string;
    missing: string;
  }[] = [
    {
      name: "my_init",
      argvOf: setup.dist ? (c) => oursOneShot(setup, c)! : undefined,
      exe: setup.denoExe,
      missing: "not built",
    },
  ];
  // phusion's doubles the figure's time: only on request.
  if (withPhusion(Deno.env.get("BENCH_CHURN_PHUSION"))) {
    subjects.push({
      name: PHUSION,
      argvOf: setup.phusion ? (c) => phusionOneShot(setup, c)! : undefined,
      exe: setup.phusion?.exe,
      missing: phusionMissing(),
    });
  }
  const results = new Map<string, ChurnRun[]>();
  const errors = new Map<string, string>();
  for (let round = 0; round < rounds; round++) {
    // One after the other: two paced churns at once on 2 cores reached ~800
    // orphans a second each instead of 1,000.
    for (const s of subjects) {
      if (!s.argvOf || !s.exe) continue;
      try {
        const r = await churnOne(setup, s.argvOf, s.exe, seconds);
        results.set(s.name, [...results.get(s.name) ?? [], r]);
      } catch (e) {
        errors.set(s.name, e instanceof Error ? e.message : String(e));
      }
    }
  }
  const rows: Row[] = subjects.map((s) => {
    const rs = results.get(s.name);
    if (rs?.length) return churnRow(s.name, rs);
    const why = s.argvOf ? `failed: ${errors.get(s.name) ?? "?"}` : s.missing;
    return { subject: s.name, cells: { idle: why } };
  });
  const notes = [
    `PID 1 in one-shot mode (\`--skip-startup-files --skip-runit --quiet -- perl …\`, ` +
    `${PHUSION}: \`${PHUSION_PYTHON} -u my_init\` with the same flags); the perl ` +
    `main command waits ${DELAY_S} s, then forks batches of 100 children that each ` +
    `fork one grandchild and exit at once, paced to ${CHURN_RATE} orphans a second, ` +
    `for ${seconds} s; PID 1 inherits and reaps every grandchild.`,
    withPhusion(Deno.env.get("BENCH_CHURN_PHUSION"))
      ? `${PHUSION} ran after ours, alone (one churn at a time).`
      : `${PHUSION} is left out unless BENCH_CHURN_PHUSION=1: it takes another ` +
        `${seconds} s, and run beside ours the two churns reached ~800 orphans a ` +
        "second each on 2 cores.",
    `RssAnon idle: ${
      IDLE_AT_MS / 1000
    } s after start, before the churn; then every ` +
    `${
      SAMPLE_MS / 1000
    } s, and once when the churn ends ("at end"); the target holds every sample to idle + ${CHURN_GROWTH_MAX_MB} MB. ` +
    "orphans/s: counted by the generator over its own run time.",
    ...subjects.flatMap((s) =>
      (results.get(s.name) ?? []).map((r) =>
        `${s.name}, time since start, RssAnon MB (threads): ${series(r)}; ` +
        `${r.orphans} orphans, ${r.zombies} zombies at the end.`
      )
    ),
  ];
  const figure: Figure = {
    id: "11",
    title:
      `PID 1's memory under churn (${CHURN_RATE} orphans a second for ${seconds} s)`,
    metrics: [...CHURN_METRICS],
    rows,
    // No `ours`: a ratio of growths or rates to phusion's means nothing.
    notes,
  };
  return { figures: [figure], targets: [churnTarget(figure, seconds)] };
}
