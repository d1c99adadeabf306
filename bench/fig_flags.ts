/**
 * Figure 8: what runtime flags would do to our start-up and idle memory,
 * measured without touching the launcher: the harness runs what the
 * launcher runs (`deno RUN_FLAGS BUNDLE`, same DENO_DIR) with extra flags,
 * for my_init and for the bare-runtime floor. Also: the V8 code cache
 * (warm DENO_DIR vs `--no-code-cache` vs an empty DENO_DIR every run) and
 * the launcher's own sh.
 *
 * @module
 */

import {
  cpuCell,
  timeCommands,
  type Timed,
  type Timing,
  timingCell,
} from "./_hyperfine.ts";
import { TIME_METRICS } from "./fig_oneshot.ts";
import {
  makeSandbox,
  removeSandbox,
  UNSHARE_PID,
  withPrivateEtc,
} from "./_ns.ts";
import type { Figure, Row, Target } from "./_report.ts";
import {
  benchEnv,
  floorArgv,
  oursDirect,
  oursOneShot,
  type Setup,
  v8FlagArgs,
} from "./_subjects.ts";
import { measureIdle } from "./fig_memory.ts";

/** A runtime configuration to try. */
interface Variant {
  name: string;
  /** deno flags added after RUN_FLAGS. */
  flags: string[];
}

/** The configurations, the launcher's own first. */
export const VARIANTS: Variant[] = [
  { name: "launcher flags (baseline)", flags: [] },
  { name: "--no-code-cache", flags: ["--no-code-cache"] },
  {
    name: "v8 --max-semi-space-size=1",
    flags: v8FlagArgs(["--max-semi-space-size=1"]),
  },
  { name: "v8 --single-threaded", flags: v8FlagArgs(["--single-threaded"]) },
  { name: "v8 --lite-mode", flags: v8FlagArgs(["--lite-mode"]) },
  { name: "v8 --jitless", flags: v8FlagArgs(["--jitless"]) },
  {
    name: "v8 --optimize-for-size",
    flags: v8FlagArgs(["--optimize-for-size"]),
  },
  {
    name: "v8 --single-threaded,--max-semi-space-size=1",
    flags: v8FlagArgs(["--single-threaded", "--max-semi-space-size=1"]),
  },
  {
    name: "v8 --lite-mode,--single-threaded,--max-semi-space-size=1",
    flags: v8FlagArgs([
      "--lite-mode",
      "--single-threaded",
      "--max-semi-space-size=1",
    ]),
  },
];

const COLD = "empty DENO_DIR every run";

/** One-line scripts, each using one feature my_init uses at start-up. */
const PROBES: Record<string, string> = {
  'import "node:util"': 'import "node:util";\n',
  'await import("node:util")': 'await import("node:util");\n',
  "Deno.dlopen(libc, 1 symbol)":
    'Deno.dlopen("libc.so.6", { getpid: { parameters: [], result: "i32" } }).close();\n',
  "Deno.addSignalListener + remove": "const f = () => {};\n" +
    'Deno.addSignalListener("SIGCHLD", f);\nDeno.removeSignalListener("SIGCHLD", f);\n',
  "Deno.env.toObject()": "Deno.env.toObject();\n",
  "Deno.exit(0)": "Deno.exit(0);\n",
};
const LAUNCHER = "via the sh launcher (as shipped)";

/** Measures figure 8 (ours direct and the floor, per variant). */
export async function runtimeFlags(
  setup: Setup,
  runs: number,
): Promise<{ figures: Figure[]; targets: Target[] }> {
  const fig: Figure = {
    id: "8",
    title:
      "Runtime flags: one-shot start and idle memory of my_init and of the bare runtime",
    metrics: [
      { key: "os", label: "my_init start", unit: "ms", digits: 1 },
      { key: "ocpu", label: "my_init CPU", unit: "ms", digits: 1 },
      { key: "fs", label: "floor start", unit: "ms", digits: 1 },
      { key: "fcpu", label: "floor CPU", unit: "ms", digits: 1 },
      { key: "orss", label: "my_init VmRSS", unit: "MB", digits: 1 },
      { key: "oanon", label: "my_init RssAnon", unit: "MB", digits: 1 },
      { key: "frss", label: "floor VmRSS", unit: "MB", digits: 1 },
      { key: "fanon", label: "floor RssAnon", unit: "MB", digits: 1 },
      { key: "thr", label: "my_init threads", unit: "count", digits: 0 },
    ],
    rows: [],
    notes: [
      "Rows run `deno RUN_FLAGS <flags> dist/lib/my_init.js --skip-startup-files " +
      "--skip-runit --quiet -- /bin/true` (memory: `-- sleep 5`) directly, with the " +
      "launcher's DENO_DIR, as PID 1 like figures 1 and 2; the floor runs an empty " +
      "(memory: a waiting) script with the same flags.",
      `"${COLD}": DENO_DIR is a fresh empty directory for every run (no code cache to ` +
      "read; the runtime creates its caches): what a container gets when the image " +
      "ships no pre-warmed cache.",
    ],
  };
  if (!setup.dist) {
    fig.rows.push({ subject: "my_init", cells: { os: "not built" } });
    return { figures: [fig], targets: [] };
  }
  const ns = (argv: readonly string[]) => [...UNSHARE_PID, ...argv];
  const start: Timed[] = [];
  for (const v of VARIANTS) {
    start.push({
      name: `ours ${v.name}`,
      argv: ns(
        oursDirect(setup, "my_init", v.flags, oneShotArgs(["/bin/true"]))!,
      ),
    });
    start.push({
      name: `floor ${v.name}`,
      argv: ns(floorWith(setup, setup.emptyJs, v.flags)),
    });
  }
  start.push({
    name: `ours ${LAUNCHER}`,
    argv: ns(oursOneShot(setup, ["/bin/true"])!),
  });
  // What parts of my_init's start-up cost, on the bare runtime.
  Object.entries(PROBES).forEach(([name, source], i) => {
    const path = `${setup.tmp}/probe-${i}.js`;
    Deno.writeTextFileSync(path, source);
    start.push({ name: `probe ${name}`, argv: ns(floorWith(setup, path, [])) });
  });
  const cold = `${setup.tmp}/cold-deno-dir`;
  const sandbox = makeSandbox(setup.tmp);
  let timings: Map<string, Timing>;
  let coldTimings: Map<string, Timing>;
  try {
    const wrap = (argv: string[]) => withPrivateEtc(sandbox, argv);
    timings = await timeCommands(start, runs, {
      tmp: setup.tmp,
      env: benchEnv(setup),
      wrap,
    });
    coldTimings = await timeCommands(
      [
        {
          name: "ours",
          argv: ns(
            oursDirect(setup, "my_init", [], oneShotArgs(["/bin/true"]))!,
          ),
        },
        { name: "floor", argv: ns(floorWith(setup, setup.emptyJs, [])) },
      ],
      runs,
      {
        tmp: setup.tmp,
        env: { DENO_DIR: cold },
        wrap,
        prepare: ["rm", "-rf", cold],
      },
    );
  } finally {
    removeSandbox(sandbox);
  }

  const idle = [];
  for (const v of VARIANTS) {
    idle.push({
      name: `ours ${v.name}`,
      argv: oursDirect(setup, "my_init", v.flags, oneShotArgs(["sleep", "5"]))!,
      exe: setup.denoExe,
    });
    idle.push({
      name: `floor ${v.name}`,
      argv: floorWith(setup, setup.waitJs, v.flags),
      exe: setup.denoExe,
    });
  }
  // Half the variants at a time: 2 cores, and each start must be long over
  // by the 2 s reading.
  const memRows: Row[] = [];
  const rounds = Math.max(2, Math.ceil(runs / 5));
  for (let i = 0; i < idle.length; i += 6) {
    memRows.push(...await measureIdle(setup, idle.slice(i, i + 6), rounds));
  }
  const mem = (name: string, key: string) =>
    memRows.find((r) => r.subject === name)?.cells[key] ?? "n/a";

  for (const v of VARIANTS) {
    fig.rows.push({
      subject: v.name,
      cells: {
        os: timingCell(timings.get(`ours ${v.name}`)),
        ocpu: cpuCell(timings.get(`ours ${v.name}`)),
        fs: timingCell(timings.get(`floor ${v.name}`)),
        fcpu: cpuCell(timings.get(`floor ${v.name}`)),
        orss: mem(`ours ${v.name}`, "rss"),
        oanon: mem(`ours ${v.name}`, "anon"),
        frss: mem(`floor ${v.name}`, "rss"),
        fanon: mem(`floor ${v.name}`, "anon"),
        thr: mem(`ours ${v.name}`, "threads"),
      },
    });
  }
  fig.rows.push({
    subject: COLD,
    cells: {
      os: timingCell(coldTimings.get("ours")),
      ocpu: cpuCell(coldTimings.get("ours")),
      fs: timingCell(coldTimings.get("floor")),
      fcpu: cpuCell(coldTimings.get("floor")),
    },
  });
  fig.rows.push({
    subject: LAUNCHER,
    cells: {
      os: timingCell(timings.get(`ours ${LAUNCHER}`)),
      ocpu: cpuCell(timings.get(`ours ${LAUNCHER}`)),
    },
  });
  const probes: Figure = {
    id: "8b",
    title:
      "Start-up cost of single runtime features (bare runtime as PID 1, launcher flags)",
    metrics: TIME_METRICS,
    rows: [
      ["empty script (floor)", `floor ${VARIANTS[0].name}`],
      ...Object.keys(PROBES).map((name) => [name, `probe ${name}`]),
    ].map(([subject, key]) => ({
      subject,
      cells: {
        t: timingCell(timings.get(key)),
        cpu: cpuCell(timings.get(key)),
      },
    })),
    notes: ["Each probe is a one-line script; compare with the empty script."],
  };
  return { figures: [fig, probes], targets: [] };
}

function oneShotArgs(command: string[]): string[] {
  return ["--skip-startup-files", "--skip-runit", "--quiet", "--", ...command];
}

function floorWith(setup: Setup, script: string, flags: string[]): string[] {
  const argv = floorArgv(setup, script);
  argv.splice(argv.length - 1, 0, ...flags);
  return argv;
}
