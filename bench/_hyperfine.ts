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
export type Timing = { stats: Stats; failures: number } | { error: string };

function quote(word: string): string {
  // hyperfine -N splits with shell-words rules.
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'"'"'`)}'`;
}

/**
 * Times every command `runs` times (after 2 warm-up runs) in ONE hyperfine
 * invocation, so ratios compare runs of the same moment. `wrap` turns the
 * hyperfine argv into the one to spawn (e.g. inside a private mount
 * namespace). Failed runs are counted, not fatal (`-i`).
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
  if (commands.length === 0) return out;
  const json = Deno.makeTempFileSync({ dir: options.tmp, suffix: ".json" });
  const argv = [
    "hyperfine",
    "-N",
    "-i",
    "--style",
    "none",
    "--warmup",
    "2",
    "--runs",
    String(runs),
    "--export-json",
    json,
  ];
  if (options.prepare) argv.push("--prepare", options.prepare.map(quote).join(" "));
  for (const c of commands) argv.push("-n", c.name, c.argv.map(quote).join(" "));
  const owned = spawn(options.wrap ? options.wrap(argv) : argv, options.env);
  // Generous: a command that hangs would stall hyperfine for good.
  const done = await waitExit(owned, 60_000 + runs * commands.length * 2_000);
  let parsed: {
    results: { command: string; times: number[]; exit_codes: number[] }[];
  } | undefined;
  try {
    parsed = JSON.parse(Deno.readTextFileSync(json));
  } catch { /* reported below */ }
  for (const c of commands) {
    const r = parsed?.results.find((x) => x.command === c.name);
    if (!r) {
      out.set(c.name, {
        error: done ? `hyperfine exited ${done.status.code}` : "hyperfine timed out",
      });
      continue;
    }
    const ok = r.times.filter((_, i) => r.exit_codes[i] === 0).map((t) => t * 1000);
    const stats = summarize(ok);
    const failures = r.times.length - ok.length;
    out.set(c.name, stats ? { stats, failures } : { error: `all ${failures} runs failed` });
  }
  return out;
}

/** The cell for a timing: stats, or "failed: ..." text. */
export function timingCell(t: Timing | undefined): Stats | string {
  if (!t) return "n/a";
  if ("error" in t) return `failed: ${t.error}`;
  return t.stats;
}
