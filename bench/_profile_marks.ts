/**
 * The pure parts of `bench/profile.ts`: where the timestamps go in a copy
 * of the sources, how the tools' stderr is read back, and how runs become
 * a table of phases.
 *
 * @module
 */

import { type Stats, summarize } from "./_stats.ts";

/** The module the copy's entry files import: timestamps, printed at the end. */
export const MARK_MODULE =
  `// Written by bench/profile.ts into a copy of the sources; never built into dist/.
const marks: [string, number][] = [];
export function mark(name: string): void {
  marks.push([name, performance.timeOrigin + performance.now()]);
}
export function dumpMarks(): void {
  const all = [["origin", performance.timeOrigin], ...marks];
  const text = "MARKS " + all.map(([n, t]) => \`\${n} \${t}\`).join(";") + "\\n";
  Deno.stderr.writeSync(new TextEncoder().encode(text));
}
mark("js-first");
`;

/**
 * One insertion: `anchor` must occur exactly once in `file`; an empty
 * anchor is the start of the file.
 */
export interface Patch {
  file: string;
  anchor: string;
  /** Replaces the anchor. */
  with: string;
}

const IMPORT = 'import { dumpMarks, mark } from "../lib/_mark.ts";\n';

/** Timestamps through the start path of my_init and setuser. */
export const PATCHES: readonly Patch[] = [
  {
    file: "init/main.ts",
    anchor: 'import { readCallerEnv } from "../lib/caller_env.ts";',
    with: IMPORT + 'import { readCallerEnv } from "../lib/caller_env.ts";',
  },
  {
    file: "init/main.ts",
    anchor: "  const caller = readCallerEnv();\n" +
      "  const invocation = await parseArgs(readCallerArgs(Deno.args));\n",
    with: '  mark("main");\n  const caller = readCallerEnv();\n' +
      '  mark("callerenv");\n' +
      "  const invocation = await parseArgs(readCallerArgs(Deno.args));\n" +
      '  mark("parseargs");\n',
  },
  {
    file: "init/main.ts",
    anchor: "  syncEnvironment(state, false);\n",
    with: '  mark("config");\n  syncEnvironment(state, false);\n' +
      '  mark("envdump");\n',
  },
  {
    file: "init/main.ts",
    anchor: "  const stopped = await shutdown(state);\n",
    with: "  const stopped = await shutdown(state);\n" +
      '  mark("shutdown-done");\n',
  },
  {
    file: "init/main.ts",
    anchor: "Deno.exit(await main());",
    with: "const code = await main();\ndumpMarks();\nDeno.exit(code);",
  },
  {
    file: "init/main_command.ts",
    anchor: "",
    with: IMPORT,
  },
  {
    file: "init/main_command.ts",
    anchor: "  const tty = isTty(0) ? 0 : undefined;\n",
    with: '  mark("pre-spawn");\n  const tty = isTty(0) ? 0 : undefined;\n',
  },
  {
    file: "init/main_command.ts",
    anchor: "  state.main = started.child;\n",
    with: '  mark("spawned");\n  state.main = started.child;\n',
  },
  {
    file: "init/main_command.ts",
    anchor: '  return first === "shutdown"',
    with: '  mark("child-exited");\n  return first === "shutdown"',
  },
  {
    file: "setuser/main.ts",
    anchor: "",
    with: IMPORT,
  },
  {
    file: "setuser/main.ts",
    anchor: "const caller = readCallerEnv();\n",
    with:
      'mark("main");\nconst caller = readCallerEnv();\nmark("callerenv");\n',
  },
  {
    file: "setuser/main.ts",
    anchor: "  const user = findUser(invocation.user);\n",
    with: '  mark("parseargs");\n  const user = findUser(invocation.user);\n' +
      '  mark("getpwnam");\n',
  },
  {
    file: "setuser/main.ts",
    anchor: "  switchTo(current, {",
    with: '  mark("groups");\n  switchTo(current, {',
  },
  {
    file: "setuser/main.ts",
    anchor: "  resetSignals();\n",
    with: '  mark("switched");\n  resetSignals();\n  mark("resetsig");\n' +
      "  dumpMarks();\n",
  },
];

/** Applies `patches` to the text of `file`; throws when an anchor is not found once. */
export function applyPatches(
  file: string,
  text: string,
  patches: readonly Patch[] = PATCHES,
): string {
  for (const p of patches.filter((p) => p.file === file)) {
    if (p.anchor === "") {
      text = p.with + text;
      continue;
    }
    const at = text.indexOf(p.anchor);
    if (at < 0 || text.indexOf(p.anchor, at + 1) >= 0) {
      throw new Error(
        `bench/profile: ${file}: the anchor ${
          JSON.stringify(p.anchor.split("\n")[0])
        } must occur exactly once (the source changed: update PATCHES)`,
      );
    }
    text = text.slice(0, at) + p.with + text.slice(at + p.anchor.length);
  }
  return text;
}

/** The launcher line after which the launcher says when it hands over. */
export const LAUNCHER_ANCHOR = "IFS=$'\\n'\n";

/** A launcher that prints `LAUNCH <epoch>` on stderr right before its final exec. */
export function patchLauncher(text: string): string {
  if (!text.includes(LAUNCHER_ANCHOR)) {
    throw new Error("bench/profile: launcher anchor not found");
  }
  // A function, not a string: `$'` in a replacement string is a pattern.
  return text.replace(
    LAUNCHER_ANCHOR,
    () => LAUNCHER_ANCHOR + 'echo "LAUNCH $EPOCHREALTIME" >&2\n',
  );
}

/** Epoch milliseconds by mark name, from one run's stderr. */
export function parseMarks(stderr: string): Map<string, number> {
  const marks = new Map<string, number>();
  for (const line of stderr.split("\n")) {
    const [word, rest] = [
      line.slice(0, line.indexOf(" ")),
      line.slice(line.indexOf(" ") + 1),
    ];
    if (word === "START" || word === "LAUNCH") {
      marks.set(word.toLowerCase(), Number(rest) * 1000);
    } else if (word === "MARKS") {
      for (const pair of rest.split(";")) {
        const space = pair.lastIndexOf(" ");
        marks.set(pair.slice(0, space), Number(pair.slice(space + 1)));
      }
    }
  }
  return marks;
}

/** A phase: from mark `from` to mark `to`. */
export interface Phase {
  label: string;
  from: string;
  to: string;
}

/** One row of a profile: a phase's median, range and share of the whole. */
export interface PhaseRow {
  label: string;
  stats: Stats;
  /** Median of the phase over the median of the whole run. */
  share: number;
}

/**
 * The phases of `runs` (each a map from parseMarks plus "end"), medians
 * per phase; a phase whose marks are missing in any run throws. The last
 * row is the whole run, "start" to "end".
 */
export function phaseTable(
  runs: readonly Map<string, number>[],
  phases: readonly Phase[],
): PhaseRow[] {
  const span = (from: string, to: string) =>
    runs.map((r) => {
      const a = r.get(from), b = r.get(to);
      if (a === undefined || b === undefined) {
        throw new Error(
          `bench/profile: no mark "${a === undefined ? from : to}"`,
        );
      }
      return b - a;
    });
  const total = summarize(span("start", "end"));
  if (!total) throw new Error("bench/profile: no runs");
  const rows = phases.map((p) => {
    const stats = summarize(span(p.from, p.to))!;
    return { label: p.label, stats, share: stats.median / total.median };
  });
  rows.push({ label: "total", stats: total, share: 1 });
  return rows;
}
