/**
 * `make bench`: side-by-side benchmarks of our my_init and setuser against
 * phusion's Python my_init and setuser, tini, dumb-init, catatonit, setpriv
 * and chpst, and against the bare Deno runtime they run on; then the image
 * in a container engine. Writes bench/results/results-<date>.{md,json} and
 * bench/results/latest.{md,json}, prints the Markdown, and (after a run of
 * every figure) rewrites README.md's benchmark block (bench/_readme.ts).
 *
 * Figures: 1 one-shot, 2 idle memory, 3 graceful stop, 4 stubborn stop,
 * 5 reaping, 6 setuser, 7 boot, 8 runtime flags (PID namespaces on the
 * host); 9 container `run -d` -> healthy, `stop`, `run --rm`; 10 image size
 * (podman and the docker CLI; they need `make image`); 11 PID 1's memory
 * under 1,000 orphans a second (a PID namespace on the host). Figure 11
 * alone takes BENCH_CHURN_SECONDS (10 minutes by default) of a full run.
 *
 * Environment:
 *   BENCH_RUNS=N      runs per figure (default: per figure, 1 to 20)
 *   BENCH_ONLY=1,3    only these figures (1-11; 3 and 7 share their runs)
 *   BENCH_CHURN_SECONDS=N  length of figure 11's churn (default 600; each
 *                     of its BENCH_RUNS runs takes that long)
 *   BENCH_CHURN_PHUSION=1  figure 11 also churns phusion's my_init (after
 *                     ours: as long again)
 *   BENCH_DIST=dir    where our build is (default dist)
 *   BENCH_OUT=dir     where results go (default bench/results)
 *   BENCH_README=1|0  rewrite README.md's block or not (default: only
 *                     when every figure ran)
 *   BENCH_DEBUG=1     show the output of the measured commands
 *   PHUSION_DIR=dir   phusion's my_init and setuser (default
 *                     ../shared/anchors/phusion beside the repository)
 *   PHUSION_IMAGE=ref phusion's image on the same base, for figures 9, 10
 *   NAME, VERSION     our image is NAME:VERSION (as in the Makefile)
 *
 * Exit codes: 0 when the harness ran (targets may fail: see the report),
 * 1 when it could not run (not root, a tool missing, bad BENCH_* value).
 *
 * @module
 */

import { relative, resolve } from "node:path";
import { capture, killAll } from "./_proc.ts";
import {
  type Figure,
  renderMarkdown,
  type Results,
  type Target,
} from "./_report.ts";
import {
  type Phusion,
  PHUSION_DIR,
  PHUSION_PYTHON,
  phusionMissing,
  type Setup,
} from "./_subjects.ts";
import { oneShot } from "./fig_oneshot.ts";
import { idleMemory } from "./fig_memory.ts";
import { runitStop, stubbornStop } from "./fig_runit.ts";
import { reaping } from "./fig_reap.ts";
import { churnMemory, churnSeconds } from "./fig_churn.ts";
import { setuserStart } from "./fig_setuser.ts";
import { runtimeFlags } from "./fig_flags.ts";
import { updateReadme } from "./_readme.ts";
import {
  containerLifecycle,
  imageSize,
  removeContainers,
} from "./fig_container.ts";

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
  // 10 minutes by default (BENCH_CHURN_SECONDS); one run is the figure.
  { ids: ["11"], runs: 1, measure: churnMemory },
  // Last: the engine and its containers load the machine more than the rest.
  { ids: ["9"], runs: 5, measure: containerLifecycle },
  { ids: ["10"], runs: 1, measure: imageSize },
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
        fail(
          `Invalid BENCH_ONLY figure "${id}": expected one of ${
            [...known].sort((a, b) => Number(a) - Number(b)).join(",")
          }`,
        );
      }
    }
  }
  try {
    churnSeconds(Deno.env.get("BENCH_CHURN_SECONDS"));
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
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

/** phusion's tools, when PHUSION_DIR has them and `python3 -u my_init --help` runs. */
async function findPhusion(): Promise<Phusion | undefined> {
  const myInit = `${PHUSION_DIR}/my_init`, setuser = `${PHUSION_DIR}/setuser`;
  try {
    Deno.statSync(setuser);
  } catch {
    return undefined;
  }
  if (!await works([PHUSION_PYTHON, "-u", myInit, "--help"])) return undefined;
  return { myInit, setuser, exe: Deno.realPathSync(PHUSION_PYTHON) };
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
    // A web timer, as our tools use: setTimeout would load the runtime's
    // Node timers layer (~4 MB more resident), which ours never loads.
    'await new Promise((r) => AbortSignal.timeout(5000).addEventListener("abort", r));\n',
  );
  return {
    phusion: await findPhusion(),
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
    "phusion my_init": setup.phusion
      ? `${setup.phusion.myInit} on ${
        first(await capture([PHUSION_PYTHON, "--version"]))
      }`
      : phusionMissing(),
    setpriv: first(await capture(["setpriv", "--version"])),
    hyperfine: first(await capture(["hyperfine", "--version"])),
    podman: first(await capture(["podman", "--version"])),
    "docker CLI": first(await capture(["docker", "--version"])),
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
  await removeContainers();
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
  // By number: figure 10 after 9 ("3+7" of a failed step counts as 3).
  const byNumber = (a: string, b: string) => parseInt(a) - parseInt(b);
  results.figures.sort((a, b) => byNumber(a.id, b.id));
  results.targets.sort((a, b) => byNumber(a.figure, b.figure));
  results.durationSeconds = (performance.now() - began) / 1000;
  results.machine["load average (end)"] = loadAverage();

  const out = resolve(Deno.env.get("BENCH_OUT") || "bench/results");
  Deno.mkdirSync(out, { recursive: true });
  const md = renderMarkdown(results);
  const base = `${out}/results-${stamp(date)}`;
  results.file = relative(Deno.cwd(), `${base}.md`);
  const json = JSON.stringify(results, null, 2) + "\n";
  writeAtomic(`${base}.md`, md);
  writeAtomic(`${base}.json`, json);
  writeAtomic(`${out}/latest.md`, md);
  writeAtomic(`${out}/latest.json`, json);
  console.log(md);
  console.error(
    `bench: wrote ${base}.md, ${base}.json and ${out}/latest.{md,json}`,
  );
  if (rewriteReadme(only)) {
    try {
      await updateReadme(resolve("README.md"), results, results.file);
      console.error("bench: README.md's benchmark block rewritten");
    } catch (e) {
      console.error(
        `bench: warning: README.md not rewritten: ${
          e instanceof Error ? e.message : e
        }`,
      );
    }
  }
  return 0;
}

/**
 * Whether this run rewrites README.md's benchmark block: a run of every
 * figure does, a BENCH_ONLY one not; BENCH_README=1 or 0 decides instead.
 */
function rewriteReadme(only: Set<string> | undefined): boolean {
  const knob = Deno.env.get("BENCH_README");
  if (knob === "1") return true;
  if (knob === "0") return false;
  return only === undefined;
}

function writeAtomic(path: string, text: string): void {
  Deno.writeTextFileSync(`${path}.new`, text);
  Deno.renameSync(`${path}.new`, path);
}

if (import.meta.main) Deno.exit(await main());
