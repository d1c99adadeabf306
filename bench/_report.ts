/**
 * The results model and its Markdown rendering.
 *
 * @module
 */

import { ratio, type Stats } from "./_stats.ts";

/** One measured quantity of a figure. */
export interface Metric {
  key: string;
  label: string;
  unit: "ms" | "MB" | "count" | "";
  /** Digits after the point. */
  digits: number;
}

/** One subject (an init, a tool, the floor) of a figure. */
export interface Row {
  subject: string;
  /** Per metric: the measurements, or why there are none ("n/a ..."). */
  cells: Record<string, Stats | string>;
}

/** One figure: a table of subjects x metrics. */
export interface Figure {
  id: string;
  title: string;
  metrics: Metric[];
  rows: Row[];
  /** The row that ratios are taken against others ("ours/peer"). */
  ours?: string;
  notes: string[];
}

/** A target of ours, checked. */
export interface Target {
  figure: string;
  target: string;
  measured: string;
  /** undefined: could not be measured. */
  pass: boolean | undefined;
}

/** Everything one harness run produced. */
export interface Results {
  date: string;
  machine: Record<string, string>;
  config: Record<string, string | number>;
  figures: Figure[];
  targets: Target[];
  durationSeconds?: number;
  /** The results file of this run (`bench/results/results-DATE.json`). */
  file?: string;
}

/** `12.3` with the metric's digits. */
export function num(v: number, digits: number): string {
  return v.toFixed(digits);
}

/** `12.3 ms (11.9–13.0)`, or the reason when there is no measurement. */
export function formatCell(
  cell: Stats | string | undefined,
  m: Metric,
): string {
  if (cell === undefined) return "n/a";
  if (typeof cell === "string") return cell;
  const unit = m.unit && m.unit !== "count" ? ` ${m.unit}` : "";
  if (cell.n === 1 || cell.min === cell.max) {
    return `${num(cell.median, m.digits)}${unit}`;
  }
  return `${num(cell.median, m.digits)}${unit} (${num(cell.min, m.digits)}–${
    num(cell.max, m.digits)
  })`;
}

/** The stats of `subject`'s `metric` in `fig`, if measured. */
export function cellOf(
  fig: Figure,
  subject: string,
  metric: string,
): Stats | undefined {
  const c = fig.rows.find((r) => r.subject === subject)?.cells[metric];
  return typeof c === "object" ? c : undefined;
}

function renderFigure(fig: Figure): string {
  const withRatio = fig.ours !== undefined;
  const head = ["subject"];
  for (const m of fig.metrics) {
    head.push(m.label);
    if (withRatio) head.push(`ours/x`);
  }
  head.push("runs");
  const lines = [
    `### ${fig.id}. ${fig.title}`,
    "",
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? " --- " : " ---: ")).join("|")}|`,
  ];
  for (const row of fig.rows) {
    const cells = [
      row.subject === fig.ours ? `**${row.subject}**` : row.subject,
    ];
    let n = 0;
    for (const m of fig.metrics) {
      const c = row.cells[m.key];
      cells.push(formatCell(c, m));
      if (typeof c === "object") n = Math.max(n, c.n);
      if (withRatio) {
        const r = row.subject === fig.ours ? undefined : ratio(
          cellOf(fig, fig.ours!, m.key),
          typeof c === "object" ? c : undefined,
        );
        cells.push(r === undefined ? "" : `${r.toFixed(2)}x`);
      }
    }
    cells.push(n ? String(n) : "");
    lines.push(`| ${cells.join(" | ")} |`);
  }
  if (fig.notes.length) lines.push("", ...fig.notes.map((n) => `- ${n}`));
  return lines.join("\n");
}

/** The whole report as Markdown. */
export function renderMarkdown(r: Results): string {
  const out = [
    `# Benchmarks: my_init and tools vs phusion's and peer inits (${r.date})`,
    "",
    "Each cell: median (min–max) over the runs. `ours/x`: ratio of our median to",
    "that row's median, from this same harness run. Figures 1-5 and 7 run each",
    "init as PID 1 of a fresh PID namespace (`unshare --pid --fork --mount-proc",
    "--kill-child`) on a private overlay of /etc; figures 9 and 10 run the image",
    "in a container engine.",
    "",
    "## Machine",
    "",
    "| | |",
    "| --- | --- |",
    ...Object.entries(r.machine).map(([k, v]) =>
      `| ${k} | ${v.replaceAll("|", "\\|")} |`
    ),
    ...Object.entries(r.config).map(([k, v]) => `| ${k} | ${v} |`),
    "",
    "## Targets (ours)",
    "",
    "| figure | target | measured | result |",
    "| --- | --- | --- | --- |",
    ...r.targets.map((t) =>
      `| ${t.figure} | ${t.target} | ${t.measured} | ${
        t.pass === undefined ? "n/a" : t.pass ? "pass" : "**FAIL**"
      } |`
    ),
    "",
    "## Figures",
    "",
  ];
  for (const f of r.figures) out.push(renderFigure(f), "");
  if (r.durationSeconds !== undefined) {
    out.push(`Harness run time: ${r.durationSeconds.toFixed(0)} s.`, "");
  }
  return out.join("\n");
}
