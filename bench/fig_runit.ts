/**
 * Figures 3, 4 and 7: my_init in daemon mode with runit services.
 *
 * 7 (boot): start -> all 10 services up (supervise/stat says `run`).
 * 3 (graceful stop): 10 services that exit on TERM; SIGTERM to PID 1 ->
 * PID 1 gone.
 * 4 (stubborn stop): one service that ignores TERM, KILL_PROCESS_TIMEOUT=2;
 * reported as total minus the 2 s timeout.
 *
 * Ours and phusion's my_init, interleaved. Peers have no runit shutdown
 * sequence (they forward TERM and exit), so their rows are n/a.
 *
 * @module
 */

import { findPid1, inNamespace, makeSandbox, removeSandbox } from "./_ns.ts";
import {
  namespacePids,
  poll,
  procStat,
  sleep,
  spawn,
  stop,
  waitExit,
} from "./_proc.ts";
import { type Figure, num, type Row, type Target } from "./_report.ts";
import { ratio, type Stats, summarize } from "./_stats.ts";
import {
  benchEnv,
  PEERS,
  PHUSION,
  PHUSION_PYTHON,
  phusionArgv,
  phusionMissing,
  type Setup,
} from "./_subjects.ts";

/** Graceful stop target, ms. */
export const STOP_MAX_MS = 100;
/** Issue 11: graceful stop within this factor of phusion's my_init. */
export const STOP_PHUSION_FACTOR = 0.1;
/** Allowed overrun past KILL_PROCESS_TIMEOUT, ms. */
export const STUBBORN_OVERRUN_MS = 100;
/** KILL_PROCESS_TIMEOUT of figure 4, s. */
export const STUBBORN_TIMEOUT_S = 2;

const PROMPT_RUN = "#!/bin/sh\nexec sleep infinity\n";
// TERM stays ignored across exec; runsv's TERM (and CONT) do nothing, only
// my_init's KILL after KILL_PROCESS_TIMEOUT ends it.
const STUBBORN_RUN = "#!/bin/sh\ntrap '' TERM\nexec sleep infinity\n";

/** true when every service's supervise/stat starts with `state`. */
function allIn(
  serviceDir: string,
  names: readonly string[],
  state: "run" | "down",
): true | undefined {
  for (const n of names) {
    try {
      const stat = Deno.readTextFileSync(`${serviceDir}/${n}/supervise/stat`);
      if (!stat.startsWith(state)) {
        return undefined;
      }
    } catch {
      return undefined;
    }
  }
  return true;
}

interface RunOutcome {
  bootMs?: number;
  stopMs?: number;
  /** TERM -> every service down. */
  downMs?: number;
  exitCode?: number;
  error?: string;
}

/** An init in daemon mode: ours or phusion's. */
interface Daemon {
  name: string;
  argv: readonly string[];
  /** Real path of PID 1's executable. */
  exe: string;
}

/** Ours and phusion's my_init in daemon mode, those that are available. */
function daemons(setup: Setup): Daemon[] {
  const out: Daemon[] = [];
  if (setup.dist) {
    out.push({
      name: "my_init",
      argv: [`${setup.dist}/my_init`],
      exe: setup.denoExe,
    });
  }
  const phusion = phusionArgv(setup, "my_init", []);
  if (phusion) {
    out.push({ name: PHUSION, argv: phusion, exe: setup.phusion!.exe });
  }
  return out;
}

/**
 * Boots `init` with `services`, waits until all are up, sends TERM to
 * PID 1 and times its exit. Every wait is bounded; the namespace is killed
 * on the way out.
 */
async function bootAndStop(
  setup: Setup,
  init: Daemon,
  services: Record<string, string>,
  env: Record<string, string>,
): Promise<RunOutcome> {
  const sandbox = makeSandbox(setup.tmp, services);
  const owned = spawn(inNamespace(sandbox, init.argv), {
    ...benchEnv(setup),
    ...env,
  });
  try {
    const up = await poll(
      () => allIn(sandbox.service, Object.keys(services), "run"),
      20_000,
      2,
    );
    if (!up) {
      return { error: `services not up in 20 s (log: ${tail(sandbox.log)})` };
    }
    const bootMs = performance.now() - owned.spawnedAt;
    const pid1 = await findPid1(owned.pid, init.exe, 5000);
    if (pid1 === undefined) {
      return { bootMs, error: `PID 1 is not ${init.exe}` };
    }
    // Let my_init finish whatever follows the boot before the stop.
    await sleep(300);
    const t0 = performance.now();
    Deno.kill(pid1, "SIGTERM");
    const names = Object.keys(services);
    // Polled alongside the wait for the exit; ends with it (-1: not seen).
    let exited = false;
    const down = poll(
      () =>
        exited
          ? -1
          : allIn(sandbox.service, names, "down") && performance.now(),
      25_000,
      1,
    );
    const done = await waitExit(owned, 20_000, () => describeNamespace(pid1));
    exited = true;
    const downAt = await down;
    const downMs = downAt !== undefined && downAt >= 0
      ? downAt - t0
      : undefined;
    if (!done) {
      return {
        bootMs,
        downMs,
        error:
          `PID 1 still running 20 s after TERM; processes then: ${lastTree}; log: ${
            tail(sandbox.log)
          }`,
      };
    }
    return { bootMs, downMs, stopMs: done.at - t0, exitCode: done.status.code };
  } finally {
    await stop(owned);
    removeSandbox(sandbox);
  }
}

let lastTree = "";

/** One line per process of the namespace: pid, state, comm (for hang reports). */
function describeNamespace(pid1: number): void {
  lastTree = namespacePids(pid1).map((p) => {
    let comm = "?";
    try {
      comm = Deno.readTextFileSync(`/proc/${p}/comm`).trim();
    } catch { /* gone */ }
    return `${comm}(${procStat(p)?.state ?? "?"})`;
  }).join(" ");
}

function tail(path: string): string {
  try {
    return Deno.readTextFileSync(path).trim().split("\n").slice(-3).join(" / ");
  } catch {
    return "none";
  }
}

function peerRows(key: string): Row[] {
  return PEERS.map((p) => ({
    subject: p,
    cells: { [key]: "n/a (no runit shutdown)" },
  }));
}

/** Per init: its samples of one quantity. */
type Samples = Map<string, number[]>;

function push(m: Samples, name: string, v: number | undefined): void {
  if (v === undefined) return;
  if (!m.has(name)) m.set(name, []);
  m.get(name)!.push(v);
}

/**
 * The cell of `name`: its samples, or why there are none (not built, not
 * available, failed).
 */
function cellFor(
  setup: Setup,
  name: string,
  samples: Samples,
): Stats | string {
  if (name === "my_init" && !setup.dist) return "not built";
  if (name === PHUSION && !setup.phusion) return phusionMissing();
  return summarize(samples.get(name) ?? []) ?? "failed";
}

/** Measures figures 3 and 7 (the same runs). */
export async function runitStop(
  setup: Setup,
  runs: number,
): Promise<{ figures: Figure[]; targets: Target[] }> {
  const services: Record<string, string> = {};
  for (let i = 1; i <= 10; i++) {
    services[`svc${String(i).padStart(2, "0")}`] = PROMPT_RUN;
  }
  const boot: Samples = new Map(), stopMs: Samples = new Map();
  const downMs: Samples = new Map();
  const notes: string[] = [];
  const exits = new Map<string, Map<number, number>>();
  const inits = daemons(setup);
  // Interleaved, so that load from elsewhere hits every init alike.
  for (let i = 0; i < runs; i++) {
    for (const init of inits) {
      const r = await bootAndStop(setup, init, services, {});
      push(downMs, init.name, r.downMs);
      push(boot, init.name, r.bootMs);
      push(stopMs, init.name, r.stopMs);
      if (r.error) notes.push(`${init.name}, run ${i + 1}: ${r.error}`);
      if (r.exitCode !== undefined) {
        const m = exits.get(init.name) ?? new Map<number, number>();
        m.set(r.exitCode, (m.get(r.exitCode) ?? 0) + 1);
        exits.set(init.name, m);
      }
    }
  }
  for (const [name, m] of exits) {
    if (m.size === 1 && m.has(0)) continue;
    notes.push(
      `${name}: exit status ${
        [...m].map(([code, n]) => `${code} (${n} runs)`).join(", ")
      }`,
    );
  }
  const subjects = ["my_init", PHUSION];
  const stopFig: Figure = {
    id: "3",
    title:
      "Graceful stop, 10 runit services that exit on TERM: SIGTERM -> PID 1 exit",
    metrics: [
      { key: "t", label: "TERM -> exit", unit: "ms", digits: 1 },
      { key: "d", label: "TERM -> all services down", unit: "ms", digits: 1 },
    ],
    ours: "my_init",
    rows: [
      ...subjects.map((s) => ({
        subject: s,
        cells: {
          t: cellFor(setup, s, stopMs),
          d: cellFor(setup, s, downMs),
        },
      })),
      ...peerRows("t"),
    ],
    notes: [
      "Services: `exec sleep infinity`. TERM is sent 300 ms after all 10 are up; " +
      "the time ends when unshare (whose child is PID 1) has exited.",
      `${PHUSION}: \`${PHUSION_PYTHON} -u my_init\` with its defaults ` +
      "(`sv -w 30 force-stop`, then TERM to runsvdir, then a 0.1 s `sv status` " +
      'loop, then kill(-1)); it exits 2 on TERM ("Init system aborted.").',
      ...notes,
    ],
  };
  const bootFig: Figure = {
    id: "7",
    title: "Boot: start -> all 10 runit services up",
    metrics: [{ key: "t", label: "time", unit: "ms", digits: 1 }],
    ours: "my_init",
    rows: [
      ...subjects.map((s) => ({
        subject: s,
        cells: { t: cellFor(setup, s, boot) },
      })),
      ...peerRows("t"),
    ],
    notes: [
      "From spawning `unshare` (includes the namespace and /etc overlay set-up, " +
      "~5 ms) to every supervise/stat reading `run` (polled every 2 ms).",
    ],
  };
  const s = summarize(stopMs.get("my_init") ?? []);
  const p = summarize(stopMs.get(PHUSION) ?? []);
  const r = ratio(s, p);
  return {
    figures: [stopFig, bootFig],
    targets: [
      {
        figure: "3",
        target: `graceful stop ≤ ${STOP_MAX_MS} ms`,
        measured: s ? `${num(s.median, 1)} ms (max ${num(s.max, 1)})` : "n/a",
        pass: s ? s.median <= STOP_MAX_MS : undefined,
      },
      {
        figure: "3",
        target: `graceful stop ≤ ${STOP_PHUSION_FACTOR}x phusion's my_init`,
        measured: s && p && r !== undefined
          ? `${num(r, 3)}x (${num(s.median, 1)} vs ${num(p.median, 1)} ms)`
          : setup.phusion
          ? "n/a"
          : `n/a (${PHUSION}: ${phusionMissing()})`,
        pass: r === undefined ? undefined : r <= STOP_PHUSION_FACTOR,
      },
    ],
  };
}

/** Measures figure 4. */
export async function stubbornStop(
  setup: Setup,
  runs: number,
): Promise<{ figures: Figure[]; targets: Target[] }> {
  const over: Samples = new Map(), downOver: Samples = new Map();
  const notes: string[] = [];
  const inits = daemons(setup);
  const timeoutMs = STUBBORN_TIMEOUT_S * 1000;
  for (let i = 0; i < runs; i++) {
    for (const init of inits) {
      const r = await bootAndStop(setup, init, { stubborn: STUBBORN_RUN }, {
        KILL_PROCESS_TIMEOUT: String(STUBBORN_TIMEOUT_S),
      });
      if (r.downMs !== undefined) {
        push(downOver, init.name, r.downMs - timeoutMs);
      }
      if (r.stopMs !== undefined) push(over, init.name, r.stopMs - timeoutMs);
      if (r.error) notes.push(`${init.name}, run ${i + 1}: ${r.error}`);
    }
  }
  const fig: Figure = {
    id: "4",
    title:
      `Stop with one service that ignores TERM (KILL_PROCESS_TIMEOUT=${STUBBORN_TIMEOUT_S}): total − ${STUBBORN_TIMEOUT_S} s`,
    metrics: [
      { key: "t", label: "exit overrun", unit: "ms", digits: 1 },
      { key: "d", label: "service down overrun", unit: "ms", digits: 1 },
    ],
    ours: "my_init",
    rows: [
      ...["my_init", PHUSION].map((s) => ({
        subject: s,
        cells: {
          t: cellFor(setup, s, over),
          d: cellFor(setup, s, downOver),
        },
      })),
      ...peerRows("t"),
    ],
    notes: [
      "Service: `trap '' TERM; exec sleep infinity`.",
      `${PHUSION}: \`sv -w ${STUBBORN_TIMEOUT_S} force-stop\` sends KILL after the timeout.`,
      ...notes,
    ],
  };
  const s = summarize(over.get("my_init") ?? []);
  return {
    figures: [fig],
    targets: [{
      figure: "4",
      target: `stubborn stop ≤ timeout + ${STUBBORN_OVERRUN_MS} ms`,
      measured: s
        ? `timeout + ${num(s.median, 1)} ms (max ${num(s.max, 1)})`
        : "n/a",
      pass: s ? s.median <= STUBBORN_OVERRUN_MS : undefined,
    }],
  };
}
