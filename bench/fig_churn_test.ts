import { deepStrictEqual, throws } from "node:assert";
import {
  anonSummary,
  CHURN_SECONDS,
  churnRow,
  type ChurnRun,
  churnSeconds,
  churnTarget,
  generatorArgv,
  parseCount,
  type Sample,
  series,
  withPhusion,
} from "./fig_churn.ts";
import type { Figure } from "./_report.ts";

const at = (t: number, anon: number, threads = 4): Sample => ({
  t,
  anon,
  rss: 40 + anon,
  threads,
});

function run(anons: number[], rate = 998, threads = [4]): ChurnRun {
  const [idle, ...rest] = anons;
  return {
    idle: at(2.5, idle, threads[0]),
    samples: rest.map((a, i) => at(33 + 30 * i, a, threads[i + 1] ?? 4)),
    rate,
    orphans: Math.round(rate * 600),
    zombies: 0,
  };
}

function figure(...rows: [string, ChurnRun][]): Figure {
  return {
    id: "11",
    title: "churn",
    metrics: [],
    rows: rows.map(([name, r]) => churnRow(name, [r])),
    notes: [],
  };
}

Deno.test("churnSeconds() defaults to 600 and takes a positive integer", () => {
  deepStrictEqual(churnSeconds(undefined), CHURN_SECONDS);
  deepStrictEqual(churnSeconds(""), 600);
  deepStrictEqual(churnSeconds("40"), 40);
});

Deno.test("churnSeconds() refuses zero, negatives, fractions and words", () => {
  for (const bad of ["0", "-5", "1.5", "ten", "1e3", " 60"]) {
    throws(
      () => churnSeconds(bad),
      new RegExp(
        `^Error: Invalid BENCH_CHURN_SECONDS "${
          bad.replace(/[.+]/g, "\\$&")
        }": expected a positive integer$`,
      ),
    );
  }
});

Deno.test("withPhusion() only on BENCH_CHURN_PHUSION=1", () => {
  deepStrictEqual(withPhusion("1"), true);
  for (const v of [undefined, "", "0", "yes"]) {
    deepStrictEqual(withPhusion(v), false);
  }
});

Deno.test("parseCount() reads the generator's `COUNT SECONDS` line", () => {
  deepStrictEqual(parseCount("599000 600.00123\n"), {
    orphans: 599000,
    seconds: 600.00123,
  });
  deepStrictEqual(parseCount("5000 5"), { orphans: 5000, seconds: 5 });
});

Deno.test("parseCount() refuses a partial or empty line and zero seconds", () => {
  for (const bad of ["", "5000", "5000 ", "x 5", "5000 0", "5000 5 6"]) {
    deepStrictEqual(parseCount(bad), undefined);
  }
});

Deno.test("generatorArgv() passes delay, length, rate and output to perl", () => {
  const argv = generatorArgv(600, "/tmp/x/count");
  deepStrictEqual(argv.slice(0, 2), ["perl", "-e"]);
  deepStrictEqual(argv.slice(3), ["3", "600", "1000", "/tmp/x/count"]);
});

Deno.test("anonSummary() takes idle, the last sample, the max, growth and peak", () => {
  deepStrictEqual(anonSummary(run([12.5, 14.0, 13.0])), {
    idle: 12.5,
    final: 13.0,
    max: 14.0,
    growth: 0.5,
    peak: 1.5,
  });
  // Only the idle sample: no growth.
  deepStrictEqual(anonSummary(run([12.5])), {
    idle: 12.5,
    final: 12.5,
    max: 12.5,
    growth: 0,
    peak: 0,
  });
});

Deno.test("churnRow() reports the threads' maximum during the churn, not idle", () => {
  const row = churnRow("my_init", [run([12, 12, 12], 998, [7, 4, 5])]);
  deepStrictEqual(row.cells.threads, { median: 5, min: 5, max: 5, n: 1 });
  deepStrictEqual(row.cells.rss, { median: 52, min: 52, max: 52, n: 1 });
});

Deno.test("churnTarget() passes within idle + 2 MB at the target's rate", () => {
  const t = churnTarget(figure(["my_init", run([12.5, 13.9, 14.4])]), 600);
  deepStrictEqual(t, {
    figure: "11",
    target:
      "RssAnon during and after 10 minutes of 1000 orphans a second ≤ idle + 2 MB",
    measured:
      "at end 14.4 MB (idle 12.5 +1.9), max 14.4 MB (+1.9) at 998 orphans/s",
    pass: true,
  });
});

Deno.test("churnTarget() fails past idle + 2 MB, and names phusion's", () => {
  const t = churnTarget(
    figure(
      ["my_init", run([10.6, 12.0, 14.0])],
      ["phusion (Python)", run([5.6, 7.9, 7.0])],
    ),
    900,
  );
  deepStrictEqual(t, {
    figure: "11",
    target:
      "RssAnon during and after 15 minutes of 1000 orphans a second ≤ idle + 2 MB",
    measured:
      "at end 14.0 MB (idle 10.6 +3.4), max 14.0 MB (+3.4) at 998 orphans/s; phusion 5.6 → 7.0 MB (max 7.9)",
    pass: false,
  });
});

Deno.test("churnTarget() fails on a peak past idle + 2 MB though the end is back", () => {
  // The sawtooth of a run: a collection just before the end.
  const t = churnTarget(figure(["my_init", run([12.5, 19.0, 12.0])]), 600);
  deepStrictEqual(
    t.measured,
    "at end 12.0 MB (idle 12.5 -0.5), max 19.0 MB (+6.5) at 998 orphans/s",
  );
  deepStrictEqual(t.pass, false);
});

Deno.test("churnTarget() is n/a when the churn fell short of 90% of its rate", () => {
  const t = churnTarget(figure(["my_init", run([12.5, 12.3], 786)]), 40);
  deepStrictEqual(
    t.target.startsWith("RssAnon during and after 40 s of"),
    true,
  );
  deepStrictEqual(
    t.measured,
    "at end 12.3 MB (idle 12.5 -0.2), max 12.5 MB (+0.0) at 786 orphans/s: churn below the target's rate",
  );
  deepStrictEqual(t.pass, undefined);
  // 900 a second is still the target's load.
  deepStrictEqual(
    churnTarget(figure(["my_init", run([12.5, 12.3], 900)]), 40).pass,
    true,
  );
});

Deno.test("churnTarget() is n/a when ours was not measured", () => {
  const fig = figure();
  fig.rows.push({ subject: "my_init", cells: { idle: "not built" } });
  deepStrictEqual(churnTarget(fig, 600).measured, "n/a");
  deepStrictEqual(churnTarget(fig, 600).pass, undefined);
});

Deno.test("series() lists time, RssAnon and threads of every sample", () => {
  deepStrictEqual(
    series(run([12.5, 12.3], 998, [4, 7])),
    "3 s 12.5 (4), 33 s 12.3 (7)",
  );
});
