/**
 * `make profile`: where the start-up time of my_init and setuser goes.
 *
 * Builds a copy of the sources with timestamps through the start path
 * (bench/_profile_marks.ts: the launcher's hand-over, the runtime's time
 * origin, the bundle's first statement, then each step of main), runs each
 * tool N times as PID 1 of a fresh PID namespace on a private /etc, and
 * prints the median of each phase beside the bare runtime running an empty
 * script the same way. Nothing of this is in dist/: the copy is built in a
 * temporary directory and removed.
 *
 * Clocks: START is bash's $EPOCHREALTIME in the namespace right before the
 * exec of the tool, the marks are the runtime's performance.timeOrigin +
 * performance.now(), the end is this harness seeing the process exit (all
 * wall-clock epoch times).
 *
 * Environment: PROFILE_RUNS=N (default 20). Writes
 * bench/results/profile-<date>.md and bench/results/profile-latest.md.
 * Exit codes: 0 done, 1 could not run (not root, a build or run failed).
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { etcSetup, makeSandbox, removeSandbox, UNSHARE_PID } from "./_ns.ts";
import {
  applyPatches,
  MARK_MODULE,
  parseMarks,
  patchLauncher,
  type Phase,
  type PhaseRow,
  phaseTable,
} from "./_profile_marks.ts";
import { RUN_FLAGS } from "../scripts/launcher.ts";
import { TOOL_FLAGS } from "../scripts/build.ts";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");
const SOURCES = ["lib", "init", "setuser", "install_clean", "scripts"];

const FLOOR_SCRIPT = `const t = performance.timeOrigin + performance.now();
Deno.stderr.writeSync(new TextEncoder().encode(
  \`MARKS origin \${performance.timeOrigin};js-first \${t}\\n\`,
));
`;

const RUNTIME: Phase[] = [
  {
    label: "runtime start (env -i exec, runtime to its time origin)",
    from: "launch",
    to: "origin",
  },
  {
    label: "bundle load and compile, to its first statement",
    from: "origin",
    to: "js-first",
  },
  {
    label: "module initialisation (top-level code)",
    from: "js-first",
    to: "main",
  },
  {
    label: "caller's environment from fd 9 (first FFI use)",
    from: "main",
    to: "callerenv",
  },
  { label: "option parsing", from: "callerenv", to: "parseargs" },
];

/** What is profiled: the command after START, and its phases. */
const SUBJECTS: {
  name: string;
  argv: (dist: string, tmp: string) => string[];
  phases: Phase[];
}[] = [
  {
    name: "bare runtime (floor)",
    argv: (dist, tmp) => [
      "/usr/bin/env",
      "-i",
      "--block-signal",
      `DENO_DIR=${dist}/lib/cache`,
      `${dist}/lib/deno`,
      ...RUN_FLAGS,
      ...(TOOL_FLAGS.my_init ?? []),
      `${tmp}/floor.js`,
    ],
    phases: [
      {
        label: "runtime start (env -i exec, runtime to its time origin)",
        from: "start",
        to: "origin",
      },
      {
        label: "script load and compile, to its first statement",
        from: "origin",
        to: "js-first",
      },
      { label: "exit (runtime, namespace)", from: "js-first", to: "end" },
    ],
  },
  {
    name: "my_init --skip-startup-files --skip-runit --quiet -- /bin/true",
    argv: (dist) => [
      `${dist}/my_init`,
      "--skip-startup-files",
      "--skip-runit",
      "--quiet",
      "--",
      "/bin/true",
    ],
    phases: [
      {
        label: "launcher (env --block-signal, bash, environment to fd 9)",
        from: "start",
        to: "launch",
      },
      ...RUNTIME,
      {
        label: "signalfd, root check, configuration",
        from: "parseargs",
        to: "config",
      },
      {
        label: "environment dumps (/etc/container_environment*)",
        from: "config",
        to: "envdump",
      },
      {
        label: "to the spawn (startup files skipped)",
        from: "envdump",
        to: "pre-spawn",
      },
      {
        label: "posix_spawnp, up to the child's exec",
        from: "pre-spawn",
        to: "spawned",
      },
      {
        label: "/bin/true runs, SIGCHLD, reaped",
        from: "spawned",
        to: "child-exited",
      },
      {
        label: "shutdown (kill all, reap)",
        from: "child-exited",
        to: "shutdown-done",
      },
      { label: "exit (runtime, namespace)", from: "shutdown-done", to: "end" },
    ],
  },
  {
    name: "setuser nobody /bin/true",
    argv: (dist) => [`${dist}/setuser`, "nobody", "/bin/true"],
    phases: [
      {
        label: "launcher (env --block-signal, bash, environment to fd 9)",
        from: "start",
        to: "launch",
      },
      ...RUNTIME,
      {
        label: "NSS: the user (getpwnam_r)",
        from: "parseargs",
        to: "getpwnam",
      },
      {
        label: "NSS: its groups (getgrouplist)",
        from: "getpwnam",
        to: "groups",
      },
      {
        label: "privilege drop (setgroups, setresgid, setresuid, checks)",
        from: "groups",
        to: "switched",
      },
      {
        label: "signal dispositions and mask reset",
        from: "switched",
        to: "resetsig",
      },
      {
        label: "execvpe, /bin/true runs and exits",
        from: "resetsig",
        to: "end",
      },
    ],
  },
];

async function run(
  argv: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** A failure that ends the run; main() reports it after cleaning up. */
class Fatal extends Error {}

function fail(message: string): never {
  throw new Fatal(message);
}

/** Copies the sources into `tmp`, adds the timestamps, builds into tmp/dist. */
async function buildInstrumented(tmp: string): Promise<string> {
  const listed = await new Deno.Command("git", {
    args: ["ls-files", "-co", "--exclude-standard", "--", ...SOURCES],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  if (!listed.success) fail("git ls-files failed");
  const files = new TextDecoder().decode(listed.stdout).split("\n").filter(
    Boolean,
  );
  for (const file of [...files, "deno.json"]) {
    Deno.mkdirSync(dirname(`${tmp}/${file}`), { recursive: true });
    const text = Deno.readTextFileSync(`${ROOT}/${file}`);
    Deno.writeTextFileSync(`${tmp}/${file}`, applyPatches(file, text));
  }
  Deno.writeTextFileSync(`${tmp}/lib/_mark.ts`, MARK_MODULE);
  const built = await run(
    [
      Deno.execPath(),
      "run",
      "-A",
      "--no-lock",
      "scripts/build.ts",
      "--out=dist",
    ],
    { cwd: tmp, env: { DENO_NO_PACKAGE_JSON: "1" } },
  );
  if (built.code !== 0) {
    fail(`build of the instrumented copy failed:\n${built.stderr}`);
  }
  const dist = `${tmp}/dist`;
  for (const tool of ["my_init", "setuser"]) {
    Deno.writeTextFileSync(
      `${dist}/${tool}`,
      patchLauncher(Deno.readTextFileSync(`${dist}/${tool}`)),
    );
  }
  Deno.writeTextFileSync(`${tmp}/floor.js`, FLOOR_SCRIPT);
  return dist;
}

function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** One run as PID 1 of a fresh namespace: the marks, with START and the end. */
async function once(tmp: string, argv: string[]): Promise<Map<string, number>> {
  const sandbox = makeSandbox(tmp);
  try {
    const script = `${
      etcSetup(sandbox)
    }\necho "START $EPOCHREALTIME" >&2\nexec ${argv.map(shQuote).join(" ")}`;
    const r = await run([...UNSHARE_PID, "bash", "-c", script]);
    const end = performance.timeOrigin + performance.now();
    if (r.code !== 0) {
      fail(`${argv.join(" ")} exited with ${r.code}:\n${r.stderr}`);
    }
    const marks = parseMarks(r.stderr);
    marks.set("end", end);
    return marks;
  } finally {
    removeSandbox(sandbox);
  }
}

function render(name: string, rows: PhaseRow[], runs: number): string {
  const lines = [
    `### ${name}`,
    "",
    "| phase | median | min–max | share |",
    "| --- | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const bold = r.label === "total" ? "**" : "";
    lines.push(
      `| ${bold}${r.label}${bold} | ${r.stats.median.toFixed(1)} ms | ${
        r.stats.min.toFixed(1)
      }–${r.stats.max.toFixed(1)} | ${(r.share * 100).toFixed(0)} % |`,
    );
  }
  lines.push("", `${runs} runs.`, "");
  return lines.join("\n");
}

async function main(): Promise<number> {
  if (Deno.uid() !== 0) fail("must run as root (unshare --pid, mount)");
  const runsText = Deno.env.get("PROFILE_RUNS") || "20";
  const runs = Number(runsText);
  if (!Number.isInteger(runs) || runs < 1) {
    fail(`Invalid PROFILE_RUNS "${runsText}": expected a positive integer`);
  }
  const tmp = Deno.makeTempDirSync({ prefix: "profile-" });
  const date = new Date();
  const sections: string[] = [];
  try {
    const dist = await buildInstrumented(tmp);
    for (const subject of SUBJECTS) {
      const argv = subject.argv(dist, tmp);
      for (let i = 0; i < 3; i++) await once(tmp, argv); // fills the code cache
      const samples = [];
      for (let i = 0; i < runs; i++) samples.push(await once(tmp, argv));
      sections.push(
        render(subject.name, phaseTable(samples, subject.phases), runs),
      );
      console.error(`profile: ${subject.name}: done`);
    }
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
  const load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3)
    .join(" ");
  const md = [
    `# Start-up profile (${date.toISOString()})`,
    "",
    "Each tool as PID 1 of a fresh PID namespace on a private /etc, from bash's",
    "`exec` of it to this harness seeing it exit; medians. Made by",
    "`make profile` (bench/profile.ts) from a copy of the sources with",
    `timestamps added. Runtime: ${Deno.version.deno}. Load average: ${load}.`,
    "",
    ...sections,
  ].join("\n");
  const out = resolve(ROOT, "bench/results");
  Deno.mkdirSync(out, { recursive: true });
  const stamp = date.toISOString().replace(/\.\d+Z$/, "Z").replaceAll(":", "");
  Deno.writeTextFileSync(`${out}/profile-${stamp}.md`, md);
  Deno.writeTextFileSync(`${out}/profile-latest.md`, md);
  console.log(md);
  return 0;
}

if (import.meta.main) {
  let code = 1;
  try {
    code = await main();
  } catch (e) {
    if (!(e instanceof Fatal)) throw e;
    console.error(`profile: fatal: ${e.message}`);
  }
  Deno.exit(code);
}
