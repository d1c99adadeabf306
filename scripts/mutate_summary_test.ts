import assert from "node:assert/strict";
import {
  parseEquivalents,
  type ReportMutant,
  scoreFile,
  scoreTable,
} from "./mutate_summary.ts";

const at = (line: number, column: number, end = column + 1) => ({
  start: { line, column },
  end: { line, column: end },
});

Deno.test("parseEquivalents() reads one mutant a line and skips prose", () => {
  assert.deepEqual(
    parseEquivalents(
      "# Equivalent mutants\n\nProse.\n" +
        "- init/env.ts:12:5 StringLiteral: the value is never read\n" +
        "- `lib/cstr.ts:3:1` BlockStatement: same output\n" +
        "- lib/cstr.ts:4:7-4:17 ConditionalExpression: one of two,\n" +
        "  wrapped\n  over lines\n\n  Indented prose after a blank line.\n",
    ),
    [
      {
        file: "init/env.ts",
        line: 12,
        column: 5,
        mutator: "StringLiteral",
        why: "the value is never read",
      },
      {
        file: "lib/cstr.ts",
        line: 3,
        column: 1,
        mutator: "BlockStatement",
        why: "same output",
      },
      {
        file: "lib/cstr.ts",
        line: 4,
        column: 7,
        end: "4:17",
        mutator: "ConditionalExpression",
        why: "one of two, wrapped over lines",
      },
    ],
  );
});

Deno.test("scoreFile() counts timeouts as killed, leaves compile errors out of the score, and lists unexplained survivors", () => {
  const mutants: ReportMutant[] = [
    { mutatorName: "A", status: "Killed", location: at(1, 1) },
    { mutatorName: "A", status: "Timeout", location: at(2, 1) },
    { mutatorName: "B", status: "CompileError", location: at(3, 1) },
    { mutatorName: "C", status: "Survived", location: at(4, 2) },
    {
      mutatorName: "D",
      status: "Survived",
      replacement: '""',
      location: at(5, 3),
    },
    { mutatorName: "E", status: "Survived", location: at(6, 1, 9) },
    { mutatorName: "E", status: "Survived", location: at(6, 1, 5) },
  ];
  const s = scoreFile("f.ts", mutants, [
    { file: "f.ts", line: 4, column: 2, mutator: "C", why: "x" },
    { file: "g.ts", line: 5, column: 3, mutator: "D", why: "other file" },
    { file: "f.ts", line: 6, column: 1, end: "6:9", mutator: "E", why: "y" },
  ]);
  assert.deepEqual(s, {
    file: "f.ts",
    mutants: 7,
    killed: 2,
    compileErrors: 1,
    survived: 4,
    equivalent: 2,
    score: 33.33,
    scoreWithoutEquivalents: 50,
    unexplained: ['5:3-5:4 D `""`', "6:1-6:5 E ``"],
  });
});

Deno.test("scoreTable() has a row per file and a total", () => {
  const a = scoreFile("a.ts", [
    { mutatorName: "A", status: "Killed", location: at(1, 1) },
  ], []);
  const b = scoreFile("b.ts", [
    { mutatorName: "A", status: "Survived", location: at(1, 1) },
  ], [{ file: "b.ts", line: 1, column: 1, mutator: "A", why: "x" }]);
  assert.equal(
    scoreTable([a, b]),
    [
      "| file | mutants | killed | compile errors | survived | of which equivalent | score % | score % without equivalents |",
      "| --- | --: | --: | --: | --: | --: | --: | --: |",
      "| `a.ts` | 1 | 1 | 0 | 0 | 0 | 100.00 | 100.00 |",
      "| `b.ts` | 1 | 0 | 0 | 1 | 1 | 0.00 | 100.00 |",
      "| all | 2 | 1 | 0 | 1 | 1 | 50.00 | 100.00 |",
    ].join("\n"),
  );
});
