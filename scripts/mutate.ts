/**
 * `make mutate`: mutation testing of the pure modules with Stryker
 * (npm's `@stryker-mutator/core`, pinned in package.json). Stryker has no
 * Deno test runner: its `command` runner runs `deno test` on the mutated
 * file's own unit tests, once per mutant, and `mutate/deno_checker.mjs`
 * first sorts out the mutants `deno check` rejects (compile errors, left
 * out of the score).
 *
 * One Stryker run per file, so that each mutant runs only the tests of its
 * file (a tenth of a second instead of the second the whole list takes),
 * each run incremental: a second run tests only the mutants of code that
 * changed. Stryker's command runner cannot tell which tests a mutant's
 * result came from, so a file whose tests changed is run again whole.
 *
 * Reports under results/mutate/ (not committed): FILE/index.html and
 * FILE/mutation.json per file (FILE: the path with `/` as `_`), and
 * summary.md, the table printed at the end. Survivors listed in
 * mutate/equivalent.md are counted as equivalent; any other survivor is
 * printed, and makes the exit code 1.
 *
 * Usage: deno run -A scripts/mutate.ts [FILE...]   (default: every file below)
 *
 * @module
 */

import {
  type FileScore,
  parseEquivalents,
  type ReportMutant,
  scoreFile,
  scoreTable,
} from "./mutate_summary.ts";

/** The modules mutated, each with the unit tests run against its mutants. */
export const FILES: Record<string, string[]> = {
  "lib/env_bytes.ts": ["lib/env_bytes_test.ts"],
  "lib/cstr.ts": ["lib/cstr_test.ts"],
  "init/env.ts": ["init/env_test.ts"],
  "init/config.ts": ["init/config_test.ts"],
  "init/cli.ts": ["init/cli_test.ts"],
  "init/signal_policy.ts": ["init/signal_policy_test.ts"],
  "init/runit_state.ts": ["init/runit_state_test.ts"],
  "init/service_stop.ts": ["init/service_stop_test.ts"],
  "init/escalation.ts": ["init/escalation_test.ts"],
  "setuser/credentials.ts": ["setuser/credentials_test.ts"],
  "install_clean/plan.ts": ["install_clean/plan_test.ts"],
  "init/timer_queue.ts": ["init/timer_queue_test.ts"],
  "init/time.ts": ["init/time_test.ts"],
  "lib/signalfd.ts": ["lib/signalfd_test.ts"],
  "init/oom.ts": ["init/oom_test.ts"],
  "init/gc_policy.ts": ["init/gc_policy_test.ts"],
  "init/runit_loss.ts": ["init/runit_loss_test.ts"],
  "init/shutdown_budget.ts": ["init/shutdown_budget_test.ts"],
};

const RESULTS = "results/mutate";
const DENO = "./node_modules/.bin/deno";
const STRYKER = "./node_modules/.bin/stryker";

function slug(file: string): string {
  return file.replaceAll("/", "_");
}

async function sha256(files: readonly string[]): Promise<string> {
  const parts = await Promise.all(files.map((f) => Deno.readFile(f)));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) all.set(p, (at += p.length) - p.length);
  const digest = await crypto.subtle.digest("SHA-256", all);
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

function strykerConfig(file: string, tests: readonly string[], dir: string) {
  return {
    testRunner: "command",
    commandRunner: {
      command:
        `NO_COLOR=1 DENO_NO_PACKAGE_JSON=1 ${DENO} test -A --no-lock --no-check ${
          tests.join(" ")
        }`,
    },
    mutate: [file],
    plugins: ["./mutate/deno_checker.mjs"],
    checkers: ["deno"],
    // The instrumented copy holds every mutant at once: only the checker
    // above can say which of them compile.
    disableTypeChecks: "**/*.ts",
    reporters: ["html", "json", "progress-append-only"],
    htmlReporter: { fileName: `${dir}/index.html` },
    jsonReporter: { fileName: `${dir}/mutation.json` },
    incremental: true,
    incrementalFile: `${dir}/incremental.json`,
    tempDirName: `${dir}/.stryker-tmp`,
    cleanTempDir: "always",
    // What the sandbox copy of the repository leaves out (build/ holds the
    // debootstrapped bases).
    ignorePatterns: [
      "/build",
      "/dist",
      "/results",
      "/bench/results",
      "/tests",
      "/image",
      "/examples",
    ],
    concurrency: 2,
    timeoutMS: 10000,
  };
}

/** Runs Stryker on `file`; false when Stryker itself failed. */
async function mutateFile(file: string, tests: string[]): Promise<boolean> {
  const dir = `${RESULTS}/${slug(file)}`;
  await Deno.mkdir(dir, { recursive: true });
  const testsHash = await sha256(tests);
  if (await readText(`${dir}/tests.sha256`) !== testsHash) {
    await Deno.remove(`${dir}/incremental.json`).catch(() => {});
  }
  const config = `${dir}/stryker.config.json`;
  await Deno.writeTextFile(
    config,
    JSON.stringify(strykerConfig(file, tests, dir), null, 2) + "\n",
  );
  const log = await Deno.open(`${dir}/stryker.log`, {
    write: true,
    create: true,
    truncate: true,
  });
  const started = performance.now();
  const child = new Deno.Command(STRYKER, {
    args: ["run", config],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Both streams into the log as they come (a run takes minutes).
  const writer = log.writable.getWriter();
  const copy = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) await writer.write(chunk);
  };
  await Promise.all([copy(child.stdout), copy(child.stderr)]);
  const { code } = await child.status;
  await writer.close();
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  if (code !== 0) {
    console.error(
      `mutate: ${file}: Stryker failed (exit ${code}), see ${dir}/stryker.log`,
    );
    return false;
  }
  await Deno.writeTextFile(`${dir}/tests.sha256`, testsHash);
  console.log(`mutate: ${file}: done in ${seconds} s`);
  return true;
}

async function main(): Promise<number> {
  const chosen = Deno.args.length > 0 ? Deno.args : Object.keys(FILES);
  for (const f of chosen) {
    if (!(f in FILES)) {
      console.error(`mutate: fatal: not in the list: "${f}"`);
      return 2;
    }
  }
  const started = performance.now();
  let failed = false;
  for (const file of chosen) {
    if (!await mutateFile(file, FILES[file])) failed = true;
  }
  const equivalents = parseEquivalents(
    await readText("mutate/equivalent.md") ?? "",
  );
  const scores: FileScore[] = [];
  for (const file of chosen) {
    const report = await readText(`${RESULTS}/${slug(file)}/mutation.json`);
    if (report === undefined) continue;
    const mutants: ReportMutant[] = JSON.parse(report).files[file]?.mutants ??
      [];
    scores.push(scoreFile(file, mutants, equivalents));
  }
  const table = scoreTable(scores);
  const minutes = ((performance.now() - started) / 60000).toFixed(1);
  await Deno.writeTextFile(`${RESULTS}/summary.md`, table + "\n");
  console.log(`\n${table}\n\nmutate: ${minutes} min; reports in ${RESULTS}/`);
  let unexplained = 0;
  for (const s of scores) {
    for (const u of s.unexplained) {
      console.log(`mutate: survived: ${s.file}:${u}`);
      unexplained++;
    }
  }
  if (unexplained > 0) {
    console.log(
      `mutate: ${unexplained} survivor(s) neither killed nor in mutate/equivalent.md`,
    );
  }
  return failed || unexplained > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
