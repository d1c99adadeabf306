/**
 * Start-up timing with hyperfine (`-N`: no shell between hyperfine and the
 * command, so a few-millisecond program is timed without sh's own cost).
 *
 * @module
 */

import { spawn, waitExit } from "./_proc.ts";
import { type Stats, summarize } from "./_stats.ts";

/** One command to time. */
export interface Timed {
  name: string;
  argv: readonly string[];
}

/** The timings of one command in ms, or why there are none. */
export type Timing =
  | {
    stats: Stats;
    /** user + system CPU time in ms: one mean per round (hyperfine keeps means only). */
    cpu?: Stats;
    failures: number;
  }
  | { error: string };

function quote(word: string): string {
  // hyperfine -N splits with shell-words rules.
  return /^[\w@%+=:,./-]+$/.test(word)
    ? word
    : `'${word.replaceAll("'", `'"'"'`)}'`;
}

/** Rounds a timing is split into (see {@linkcode timeCommands}). */
export const ROUNDS = 5;

/**
 * Times every command `runs` times, interleaved: `ROUNDS` hyperfine
 * invocations, each running every command runs/ROUNDS times (2 warm-up
 * runs each in the first), the order rotated every round. A burst of load
 * from elsewhere on the machine then hits every command alike, so ratios
 * compare runs of the same moments. `wrap` turns the hyperfine argv into
 * the one to spawn (e.g. inside a private mount namespace). Failed runs are
 * counted, not fatal (`-i`).
 */
export async function timeCommands(
  commands: readonly Timed[],
  runs: number,
  options: {
    tmp: string;
    env?: Record<string, string>;
    wrap?: (argv: string[]) => string[];
    /** A command run before every timed run (no shell). */
    prepare?: readonly string[];
  },
): Promise<Map<string, Timing>> {
  const out = new Map<string, Timing>();
  const times = new Map<string, number[]>(commands.map((c) => [c.name, []]));
  const failures = new Map<string, number>(commands.map((c) => [c.name, 0]));
  const cpu = new Map<string, number[]>(commands.map((c) => [c.name, []]));
  const errors = new Map<string, string>();
  const rounds = Math.min(ROUNDS, runs);
  for (let round = 0; round < rounds; round++) {
    // Spread the runs: the first rounds take the remainder.
    const n = Math.floor(runs / rounds) + (round < runs % rounds ? 1 : 0);
    const order = commands.map((_, i) =>
      commands[(i + round) % commands.length]
    );
    const r = await hyperfineOnce(order, n, round === 0 ? 2 : 0, options);
    for (const c of commands) {
      const got = r.get(c.name);
      if (!got || "error" in got) {
        errors.set(c.name, got?.error ?? "no result");
        continue;
      }
      times.get(c.name)!.push(...got.ok);
      failures.set(c.name, failures.get(c.name)! + got.failed);
      if (got.cpu !== undefined) cpu.get(c.name)!.push(got.cpu);
    }
  }
  for (const c of commands) {
    const stats = summarize(times.get(c.name)!);
    const failed = failures.get(c.name)!;
    if (stats) {
      out.set(c.name, {
        stats,
        cpu: summarize(cpu.get(c.name)!),
        failures: failed,
      });
    } else {out.set(c.name, {
        error: errors.get(c.name) ?? `all ${failed} runs failed`,
      });}
  }
  return out;
}

async function hyperfineOnce(
  commands: readonly Timed[],
  runs: number,
  warmup: number,
  options: {
    tmp: string;
    env?: Record<string, string>;
    wrap?: (argv: string[]) => string[];
    prepare?: readonly string[];
  },
): Promise<
  Map<
    string,
    { ok: number[]; failed: number; cpu?: number } | { error: string }
  >
> {
  const out = new Map<
    string,
    { ok: number[]; failed: number; cpu?: number } | { error: string }
  >();
  const json = Deno.makeTempFileSync({ dir: options.tmp, suffix: ".json" });
  const argv = [
    "hyperfine",
    "-N",
    "-i",
    "--style",
    "none",
    "--warmup",
    String(warmup),
    "--runs",
    String(runs),
    "--export-json",
    json,
  ];
  if (options.prepare) {
    argv.push("--prepare", options.prepare.map(quote).join(" "));
  }
  for (const c of commands) {
    argv.push("-n", c.name, c.argv.map(quote).join(" "));
  }
  const owned = spawn(options.wrap ? options.wrap(argv) : argv, options.env);
  // Generous: a command that hangs would stall hyperfine for good.
  const done = await waitExit(
    owned,
    60_000 + (runs + warmup) * commands.length * 2_000,
  );
  let parsed: {
    results: {
      command: string;
      times: number[];
      exit_codes: number[];
      user?: number;
      system?: number;
    }[];
  } | undefined;
  try {
    parsed = JSON.parse(Deno.readTextFileSync(json));
  } catch { /* reported below */ }
  for (const c of commands) {
    const r = parsed?.results.find((x) => x.command === c.name);
    if (!r) {
      out.set(c.name, {
        error: done
          ? `hyperfine exited ${done.status.code}`
          : "hyperfine timed out",
      });
      continue;
    }
    const ok = r.times.filter((_, i) => r.exit_codes[i] === 0).map((t) =>
      t * 1000
    );
    const cpu = r.user !== undefined && r.system !== undefined
      ? (r.user + r.system) * 1000
      : undefined;
    out.set(c.name, { ok, failed: r.times.length - ok.length, cpu });
  }
  return out;
}

/** The CPU-time cell for a timing. */
export function cpuCell(t: Timing | undefined): Stats | string {
  if (!t || "error" in t || !t.cpu) return "n/a";
  return t.cpu;
}

/** The cell for a timing: stats, or "failed: ..." text. */
export function timingCell(t: Timing | undefined): Stats | string {
  if (!t) return "n/a";
  if ("error" in t) return `failed: ${t.error}`;
  return t.stats;
}
