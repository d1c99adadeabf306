/**
 * The per-file score table of `make mutate` (scripts/mutate.ts), from
 * Stryker's JSON reports and the list of mutants known to be equivalent
 * (mutate/equivalent.md).
 *
 * @module
 */

/** One mutant of a Stryker JSON report (the fields used here). */
export interface ReportMutant {
  mutatorName: string;
  replacement?: string;
  status: string;
  location: {
    start: { line: number; column: number };
    end?: { line: number; column: number };
  };
}

/** A survivor explained in mutate/equivalent.md. */
export interface Equivalent {
  file: string;
  line: number;
  column: number;
  /** "LINE:COL" where the mutated code ends, when two mutants share a start. */
  end?: string;
  mutator: string;
  why: string;
}

/** The counts of one file. */
export interface FileScore {
  file: string;
  mutants: number;
  killed: number;
  compileErrors: number;
  survived: number;
  equivalent: number;
  /** Stryker's score: killed (timeouts included) over valid mutants. */
  score: number;
  /** Killed over valid mutants that are not equivalent. */
  scoreWithoutEquivalents: number;
  /** Survivors not listed as equivalent: "LINE:COL Mutator `replacement`". */
  unexplained: string[];
}

/**
 * Reads mutate/equivalent.md: one list item a mutant,
 * "- FILE:LINE:COL Mutator: why", or FILE:LINE:COL-LINE:COL where two
 * mutants of one mutator start at the same place; an item may go on over
 * indented lines (`deno fmt` wraps them). Other lines are prose.
 */
export function parseEquivalents(text: string): Equivalent[] {
  const items: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("- ")) items.push(line);
    else if (/^\s+\S/.test(line) && items.length > 0) {
      items[items.length - 1] += ` ${line.trim()}`;
    } else items.push("");
  }
  const out: Equivalent[] = [];
  for (const item of items) {
    const m = /^- `?([\w./-]+):(\d+):(\d+)(?:-(\d+:\d+))?`? (\w+): (.+)$/
      .exec(item);
    if (m) {
      out.push({
        file: m[1],
        line: Number(m[2]),
        column: Number(m[3]),
        ...(m[4] === undefined ? {} : { end: m[4] }),
        mutator: m[5],
        why: m[6],
      });
    }
  }
  return out;
}

const KILLED = new Set(["Killed", "Timeout"]);
const SURVIVED = new Set(["Survived", "NoCoverage"]);
const COMPILE = new Set(["CompileError"]);

function percent(part: number, whole: number): number {
  return whole === 0 ? 100 : Math.floor(part / whole * 10000) / 100;
}

/** Scores `file` from its report mutants, with its equivalents. */
export function scoreFile(
  file: string,
  mutants: readonly ReportMutant[],
  equivalents: readonly Equivalent[],
): FileScore {
  let killed = 0, compileErrors = 0, survived = 0, equivalent = 0;
  const unexplained: string[] = [];
  for (const m of mutants) {
    if (KILLED.has(m.status)) killed++;
    else if (COMPILE.has(m.status)) compileErrors++;
    else if (SURVIVED.has(m.status)) {
      survived++;
      const { line, column } = m.location.start;
      const end = m.location.end &&
        `${m.location.end.line}:${m.location.end.column}`;
      const known = equivalents.some((e) =>
        e.file === file && e.line === line && e.column === column &&
        e.mutator === m.mutatorName && (e.end === undefined || e.end === end)
      );
      if (known) equivalent++;
      else {
        unexplained.push(
          `${line}:${column}-${end} ${m.mutatorName} \`${
            m.replacement ?? ""
          }\``,
        );
      }
    }
  }
  const valid = killed + survived;
  return {
    file,
    mutants: mutants.length,
    killed,
    compileErrors,
    survived,
    equivalent,
    score: percent(killed, valid),
    scoreWithoutEquivalents: percent(killed, valid - equivalent),
    unexplained,
  };
}

/** The README's table: one row a file, then the total. */
export function scoreTable(scores: readonly FileScore[]): string {
  const total = scores.reduce(
    (t, s) => ({
      mutants: t.mutants + s.mutants,
      killed: t.killed + s.killed,
      compileErrors: t.compileErrors + s.compileErrors,
      survived: t.survived + s.survived,
      equivalent: t.equivalent + s.equivalent,
    }),
    { mutants: 0, killed: 0, compileErrors: 0, survived: 0, equivalent: 0 },
  );
  const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  const line = (name: string, s: Omit<FileScore, "file" | "unexplained">) =>
    row([
      name,
      s.mutants,
      s.killed,
      s.compileErrors,
      s.survived,
      s.equivalent,
      s.score.toFixed(2),
      s.scoreWithoutEquivalents.toFixed(2),
    ]);
  const valid = total.killed + total.survived;
  return [
    row([
      "file",
      "mutants",
      "killed",
      "compile errors",
      "survived",
      "of which equivalent",
      "score %",
      "score % without equivalents",
    ]),
    row(["---", "--:", "--:", "--:", "--:", "--:", "--:", "--:"]),
    ...scores.map((s) => line(`\`${s.file}\``, s)),
    line("all", {
      ...total,
      score: percent(total.killed, valid),
      scoreWithoutEquivalents: percent(
        total.killed,
        valid - total.equivalent,
      ),
    }),
  ].join("\n");
}
