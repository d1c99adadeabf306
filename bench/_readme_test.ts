import { deepStrictEqual, ok, throws } from "node:assert";
import {
  BEGIN,
  END,
  formatMarkdown,
  markdownTable,
  readmeBlock,
  replaceBlock,
} from "./_readme.ts";
import type { Results } from "./_report.ts";

const stats = (median: number) => ({ median, min: median, max: median, n: 3 });

const RESULTS: Results = {
  date: "2026-12-02T13:00:00.000Z",
  machine: {
    nproc: "2",
    deno: "deno 2.9.6",
    "load average (start)": "0.10 0.20 0.30",
    "load average (end)": "0.40 0.50 0.60",
  },
  config: { runs: "per figure (default)" },
  figures: [{
    id: "1",
    title: "One-shot",
    metrics: [{ key: "t", label: "wall time", unit: "ms", digits: 1 }],
    ours: "my_init",
    rows: [
      { subject: "my_init", cells: { t: stats(57.6) } },
      { subject: "phusion (Python)", cells: { t: stats(93) } },
      { subject: "deno floor", cells: { t: stats(22.3) } },
      { subject: "tini", cells: { t: "failed: x" } },
    ],
    notes: [],
  }],
  targets: [
    {
      figure: "1",
      target: "one-shot ≤ 1.15x bare runtime",
      measured: "2.58x (57.6 vs 22.3 ms)",
      pass: false,
    },
    { figure: "10", target: "a | b", measured: "n/a", pass: undefined },
    { figure: "3", target: "graceful stop", measured: "47 ms", pass: true },
  ],
};

Deno.test("replaceBlock() replaces only the lines between the markers", () => {
  const text = ["# A", "keep", BEGIN, "old", "old 2", END, "tail", ""].join(
    "\n",
  );
  deepStrictEqual(
    replaceBlock(text, "new"),
    ["# A", "keep", BEGIN, "", "new", "", END, "tail", ""].join("\n"),
  );
});

Deno.test("replaceBlock() is idempotent", () => {
  const text = [BEGIN, END].join("\n");
  const once = replaceBlock(text, "x\ny");
  deepStrictEqual(replaceBlock(once, "x\ny"), once);
});

Deno.test("replaceBlock() rejects missing, repeated or reversed markers", () => {
  throws(() => replaceBlock("no markers", "x"), /bench:targets:begin/);
  throws(() => replaceBlock(BEGIN, "x"), /bench:targets:end/);
  throws(
    () => replaceBlock([BEGIN, END, BEGIN, END].join("\n"), "x"),
    /more than once/,
  );
  throws(() => replaceBlock([END, BEGIN].join("\n"), "x"), /before/);
});

Deno.test("markdownTable() pads columns as deno fmt does", () => {
  deepStrictEqual(
    markdownTable(["a", "bb"], [["xxxxx ≤", "1"], ["y", "22222"]], [
      "left",
      "right",
    ]),
    [
      "| a       |    bb |",
      "| ------- | ----: |",
      "| xxxxx ≤ |     1 |",
      "| y       | 22222 |",
    ].join("\n"),
  );
});

Deno.test("readmeBlock() lists every target with its result, | escaped", () => {
  const block = readmeBlock(RESULTS, "bench/results/results-X.md");
  ok(block.includes("`bench/results/results-X.md`"));
  ok(block.includes("0.10 0.20 0.30 → 0.40 0.50 0.60"));
  ok(
    /\| 1 +\| one-shot ≤ 1\.15x bare runtime +\| .* \| \*\*FAIL\*\* \|/.test(
      block,
    ),
  );
  ok(/\| 3 +\| graceful stop +\| 47 ms +\| pass +\|/.test(block));
  ok(/\| 10 +\| a \\\| b +\| n\/a +\| n\/a +\|/.test(block));
});

Deno.test("readmeBlock() sets ours beside phusion, the runtime and tini", () => {
  const block = readmeBlock(RESULTS, "r.md");
  ok(
    /\| 1\. one-shot `my_init --skip-startup-files --skip-runit --quiet -- \/bin\/true` +\| +57\.6 ms \| +93\.0 ms \| +22\.3 ms \| +\|/
      .test(block),
    block,
  );
});

Deno.test("readmeBlock() takes figure 11's my_init row though it has no ours", () => {
  const block = readmeBlock({
    ...RESULTS,
    figures: [{
      id: "11",
      title: "Churn",
      metrics: [{
        key: "final",
        label: "RssAnon at end",
        unit: "MB",
        digits: 1,
      }],
      rows: [{ subject: "my_init", cells: { final: stats(12.4) } }],
      notes: [],
    }],
  }, "r.md");
  ok(
    /\| 11\. RssAnon of PID 1 after the churn of 1,000 orphans\/s +\| +12\.4 MB \| +\| +\| +\|/
      .test(block),
    block,
  );
});

Deno.test("formatMarkdown() output of a block is stable under deno fmt", async () => {
  const block = (await formatMarkdown(readmeBlock(RESULTS, "r.md"))).trimEnd();
  const text = replaceBlock(`# T\n\n${BEGIN}\n${END}\n`, block);
  deepStrictEqual(await formatMarkdown(text), text);
});
