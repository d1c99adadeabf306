/**
 * `make bench`: side-by-side benchmarks of our my_init and setuser against
 * tini, dumb-init, catatonit, setpriv and chpst, and against the bare Deno
 * runtime they run on. Writes bench/results/results-<date>.{md,json} and
 * bench/results/latest.md, and prints the Markdown.
 *
 * Environment:
 *   BENCH_RUNS=N      runs per figure (default: per figure, 3 to 20)
 *   BENCH_ONLY=1,3    only these figures (1-8; 3 and 7 share their runs)
 *   BENCH_DIST=dir    where our build is (default dist)
 *   BENCH_OUT=dir     where results go (default bench/results)
 *   BENCH_DEBUG=1     show the output of the measured commands
 *
 * Exit codes: 0 when the harness ran (targets may fail: see the report),
 * 1 when it could not run (not root, a tool missing, bad BENCH_* value).
 *
 * @module
 */

import { resolve } from "node:path";
import { capture, killAll } from "./_proc.ts";
import {
  type Figure,
  renderMarkdown,
  type Results,
  type Target,
} from "./_report.ts";
import type { Setup } from "./_subjects.ts";
import { oneShot } from "./fig_oneshot.ts";
import { idleMemory } from "./fig_memory.ts";
import { runitStop, stubbornStop } from "./fig_runit.ts";
import { reaping } from "./fig_reap.ts";
import { setuserStart } from "./fig_setuser.ts";
import { runtimeFlags } from "./fig_flags.ts";

type Measure = (
  setup: Setup,
  runs: number,
) => Promise<{ figures: Figure[]; targets: Target[] }>;

/** Each step: the figures it produces, its default number of runs, and how. */
const STEPS: { ids: string[]; runs: number; measure: Measure }[] = [
  { ids: ["1"], runs: 20, measure: oneShot },
  { ids: ["6"], runs: 20, measure: setuserStart },
  // Before the reaping figure, whose churn loads the machine for a while.
  { ids: ["8"], runs: 10, measure: runtimeFlags },
  { ids: ["2"], runs: 5, measure: idleMemory },
  { ids: ["3", "7"], runs: 5, measure: runitStop },
  { ids: ["4"], runs: 3, measure: stubbornStop },
  { ids: ["5"], runs: 3, measure: reaping },
];

function fail(message: string): never {
  console.error(`bench: fatal: ${message}`);
  Deno.exit(1);
}

/** Parses BENCH_RUNS and BENCH_ONLY. */
function readKnobs(): { runs?: number; only?: Set<string> } {
  const runsText = Deno.env.get("BENCH_RUNS");
  let runs: number | undefined;
  if (runsText !== undefined && runsText !== "") {
    runs = Number(runsText);
    if (!Number.isInteger(runs) || runs < 1) {
      fail(`Invalid BENCH_RUNS "${runsText}": expected a positive integer`);
    }
  }
  const onlyText = Deno.env.get("BENCH_ONLY");
  let only: Set<string> | undefined;
  if (onlyText) {
    only = new Set(onlyText.split(",").map((s) => s.trim()).filter(Boolean));
    const known = new Set(STEPS.flatMap((s) => s.ids));
    for (const id of only) {
      if (!known.has(id)) {
        fail(`Invalid BENCH_ONLY figure "${id}": expected 1-8`);
      }
    }
  }
  return { runs, only };
}

async function works(argv: string[]): Promise<boolean> {
  try {
    const { code } = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "null",
      stderr: "null",
      signal: AbortSignal.timeout(20_000),
    }).output();
    return code === 0;
  } catch {
    return false;
  }
}

async function makeSetup(tmp: string): Promise<Setup> {
  const dist = resolve(Deno.env.get("BENCH_DIST") || "dist");
  const built = await works([`${dist}/my_init`, "--version"]);
  const setuser = await works([`${dist}/setuser`, "--help"])
    ? `${dist}/setuser`
    : undefined;
  let deno = Deno.execPath();
  try {
    Deno.statSync(`${dist}/lib/deno`);
    deno = `${dist}/lib/deno`;
  } catch { /* not built: the same runtime, from node_modules */ }
  let cache = `${tmp}/deno-dir`;
  try {
    Deno.statSync(`${dist}/lib/cache`);
    cache = `${dist}/lib/cache`;
  } catch { /* not built */ }
  const emptyJs = `${tmp}/empty.js`;
  const waitJs = `${tmp}/wait.js`;
  Deno.writeTextFileSync(emptyJs, "");
  Deno.writeTextFileSync(
    waitJs,
    "await new Promise((r) => setTimeout(r, 5000));\n",
  );
  return {
    dist: built ? dist : undefined,
    setuser,
    deno,
    denoExe: Deno.realPathSync(deno),
    cache,
    tmp,
    emptyJs,
    waitJs,
  };
}

async function machineInfo(setup: Setup): Promise<Record<string, string>> {
  const cpu =
    /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ??
      "?";
  const mem = /MemTotal:\s*(\d+)/.exec(Deno.readTextFileSync("/proc/meminfo"))
    ?.[1];
  const first = (s: string) => s.split("\n")[0];
  const dpkg = async (pkg: string) =>
    (await capture(["dpkg-query", "-W", "-f", "${Version}", pkg])) || "?";
  return {
    nproc: await capture(["nproc"]),
    cpu,
    memory: mem ? `${(Number(mem) / 1024 / 1024).toFixed(1)} GiB` : "?",
    kernel: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: first(await capture([setup.deno, "--version"])),
    "deno (v8)": (await capture([setup.deno, "--version"])).split("\n")[1] ??
      "?",
    "my_init": setup.dist
      ? first(await capture([`${setup.dist}/my_init`, "--version"]))
      : "not built",
    tini: first(await capture(["tini", "--version"])),
    "dumb-init": first(await capture(["dumb-init", "--version"])),
    catatonit: first(await capture(["catatonit", "--version"])),
    runit: `runit ${await dpkg("runit")} (Debian)`,
    setpriv: first(await capture(["setpriv", "--version"])),
    hyperfine: first(await capture(["hyperfine", "--version"])),
    "load average (start)": loadAverage(),
  };
}

/** Processes still running with the temporary root on their command line. */
function leftovers(tmp: string): number[] {
  const pids: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${e.name}/cmdline`).includes(tmp)) {
        pids.push(Number(e.name));
      }
    } catch { /* gone */ }
  }
  return pids;
}

async function cleanUp(tmp: string): Promise<void> {
  await killAll();
  for (const pid of leftovers(tmp)) {
    console.error(`bench: warning: killing leftover process ${pid}`);
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
  try {
    Deno.removeSync(tmp, { recursive: true });
  } catch (e) {
    console.error(`bench: warning: cannot remove ${tmp}: ${e}`);
  }
}

/** The 1, 5 and 15 min load averages: timings mean little on a busy machine. */
function loadAverage(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(
    " ",
  );
}

function stamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z").replaceAll(":", "");
}

async function main(): Promise<number> {
  const { runs, only } = readKnobs();
  if (Deno.uid() !== 0) fail("must run as root (unshare --pid, mount)");
  for (
    const tool of [
      "unshare",
      "hyperfine",
      "tini",
      "dumb-init",
      "catatonit",
      "setpriv",
      "chpst",
    ]
  ) {
    if (!await works(["sh", "-c", `command -v ${tool}`])) {
      fail(`${tool} not found: run bench/run.sh`);
    }
  }
  const tmp = Deno.makeTempDirSync({ prefix: "bench-" });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    Deno.addSignalListener(sig, () => {
      console.error(`bench: ${sig}: cleaning up`);
      cleanUp(tmp).finally(() => Deno.exit(130));
    });
  }
  const began = performance.now();
  const date = new Date();
  const results: Results = {
    date: date.toISOString(),
    machine: {},
    config: {},
    figures: [],
    targets: [],
  };
  try {
    const setup = await makeSetup(tmp);
    if (!setup.dist) {
      console.error(
        "bench: warning: our tools are not built (dist/my_init --version failed): peers only",
      );
    }
    results.machine = await machineInfo(setup);
    results.config = {
      runs: runs ?? "per figure (default)",
      figures: only ? [...only].join(",") : "all",
      "DENO_DIR (launcher, floor)": setup.cache,
    };
    for (const step of STEPS) {
      if (only && !step.ids.some((id) => only.has(id))) continue;
      const n = runs ?? step.runs;
      const t0 = performance.now();
      console.error(`bench: figure ${step.ids.join("+")} (${n} runs)...`);
      try {
        const r = await step.measure(setup, n);
        results.figures.push(...r.figures);
        results.targets.push(...r.targets);
      } catch (e) {
        console.error(
          `bench: error: figure ${step.ids.join("+")}: ${
            e instanceof Error ? e.stack : e
          }`,
        );
        results.figures.push({
          id: step.ids.join("+"),
          title: "failed",
          metrics: [],
          rows: [],
          notes: [`harness error: ${e instanceof Error ? e.message : e}`],
        });
      }
      console.error(
        `bench: figure ${step.ids.join("+")} took ${
          ((performance.now() - t0) / 1000).toFixed(1)
        } s`,
      );
    }
  } finally {
    await cleanUp(tmp);
  }
  results.figures.sort((a, b) => a.id.localeCompare(b.id));
  results.targets.sort((a, b) => a.figure.localeCompare(b.figure));
  results.durationSeconds = (performance.now() - began) / 1000;
  results.machine["load average (end)"] = loadAverage();

  const out = resolve(Deno.env.get("BENCH_OUT") || "bench/results");
  Deno.mkdirSync(out, { recursive: true });
  const md = renderMarkdown(results);
  const base = `${out}/results-${stamp(date)}`;
  writeAtomic(`${base}.md`, md);
  writeAtomic(`${base}.json`, JSON.stringify(results, null, 2) + "\n");
  writeAtomic(`${out}/latest.md`, md);
  console.log(md);
  console.error(`bench: wrote ${base}.md, ${base}.json and ${out}/latest.md`);
  return 0;
}

function writeAtomic(path: string, text: string): void {
  Deno.writeTextFileSync(`${path}.new`, text);
  Deno.renameSync(`${path}.new`, path);
}

if (import.meta.main) Deno.exit(await main());
