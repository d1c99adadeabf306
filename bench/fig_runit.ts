/**
 * Figures 3, 4 and 7: my_init in daemon mode with runit services.
 *
 * 7 (boot): start -> all 10 services up (supervise/stat says `run`).
 * 3 (graceful stop): 10 services that exit on TERM; SIGTERM to PID 1 ->
 * PID 1 gone.
 * 4 (stubborn stop): one service that ignores TERM, KILL_PROCESS_TIMEOUT=2;
 * reported as total minus the 2 s timeout.
 *
 * Peers have no runit shutdown sequence (they forward TERM and exit), so
 * their rows are n/a.
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
import { summarize } from "./_stats.ts";
import { benchEnv, PEERS, type Setup } from "./_subjects.ts";

/** Graceful stop target, ms. */
export const STOP_MAX_MS = 100;
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

/**
 * Boots my_init with `services`, waits until all are up, sends TERM to
 * PID 1 and times its exit. Every wait is bounded; the namespace is killed
 * on the way out.
 */
async function bootAndStop(
  setup: Setup,
  services: Record<string, string>,
  env: Record<string, string>,
): Promise<RunOutcome> {
  const sandbox = makeSandbox(setup.tmp, services);
  const owned = spawn(inNamespace(sandbox, [`${setup.dist}/my_init`]), {
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
    const pid1 = await findPid1(owned.pid, setup.denoExe, 5000);
    if (pid1 === undefined) {
      return { bootMs, error: "PID 1 is not the runtime" };
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

/** Measures figures 3 and 7 (the same runs). */
export async function runitStop(
  setup: Setup,
  runs: number,
): Promise<{ figures: Figure[]; targets: Target[] }> {
  const services: Record<string, string> = {};
  for (let i = 1; i <= 10; i++) {
    services[`svc${String(i).padStart(2, "0")}`] = PROMPT_RUN;
  }
  const boot: number[] = [];
  const stopMs: number[] = [];
  const downMs: number[] = [];
  const notes: string[] = [];
  if (setup.dist) {
    for (let i = 0; i < runs; i++) {
      const r = await bootAndStop(setup, services, {});
      if (r.downMs !== undefined) downMs.push(r.downMs);
      if (r.bootMs !== undefined) boot.push(r.bootMs);
      if (r.stopMs !== undefined) stopMs.push(r.stopMs);
      if (r.error) notes.push(`run ${i + 1}: ${r.error}`);
      if (r.exitCode !== undefined && r.exitCode !== 0) {
        notes.push(`run ${i + 1}: exit status ${r.exitCode}`);
      }
    }
  }
  const cell = (xs: number[]) =>
    setup.dist ? summarize(xs) ?? "failed" : "not built";
  const stopFig: Figure = {
    id: "3",
    title:
      "Graceful stop, 10 runit services that exit on TERM: SIGTERM -> PID 1 exit",
    metrics: [
      { key: "t", label: "TERM -> exit", unit: "ms", digits: 1 },
      { key: "d", label: "TERM -> all services down", unit: "ms", digits: 1 },
    ],
    rows: [
      { subject: "my_init", cells: { t: cell(stopMs), d: cell(downMs) } },
      ...peerRows("t"),
    ],
    notes: [
      "Services: `exec sleep infinity`. TERM is sent 300 ms after all 10 are up; " +
      "the time ends when unshare (whose child is PID 1) has exited.",
      "phusion's Python my_init: not measured (not obtainable offline).",
      ...notes,
    ],
  };
  const bootFig: Figure = {
    id: "7",
    title: "Boot: start -> all 10 runit services up",
    metrics: [{ key: "t", label: "time", unit: "ms", digits: 1 }],
    rows: [{ subject: "my_init", cells: { t: cell(boot) } }, ...peerRows("t")],
    notes: [
      "From spawning `unshare` (includes the namespace and /etc overlay set-up, " +
      "~5 ms) to every supervise/stat reading `run` (polled every 2 ms).",
    ],
  };
  const s = summarize(stopMs);
  return {
    figures: [stopFig, bootFig],
    targets: [{
      figure: "3",
      target: `graceful stop ≤ ${STOP_MAX_MS} ms`,
      measured: s ? `${num(s.median, 1)} ms (max ${num(s.max, 1)})` : "n/a",
      pass: s ? s.median <= STOP_MAX_MS : undefined,
    }],
  };
}

/** Measures figure 4. */
export async function stubbornStop(
  setup: Setup,
  runs: number,
): Promise<{ figures: Figure[]; targets: Target[] }> {
  const over: number[] = [];
  const downOver: number[] = [];
  const notes: string[] = [];
  if (setup.dist) {
    for (let i = 0; i < runs; i++) {
      const r = await bootAndStop(setup, { stubborn: STUBBORN_RUN }, {
        KILL_PROCESS_TIMEOUT: String(STUBBORN_TIMEOUT_S),
      });
      if (r.downMs !== undefined) {
        downOver.push(r.downMs - STUBBORN_TIMEOUT_S * 1000);
      }
      if (r.stopMs !== undefined) {
        over.push(r.stopMs - STUBBORN_TIMEOUT_S * 1000);
      }
      if (r.error) notes.push(`run ${i + 1}: ${r.error}`);
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
    rows: [
      {
        subject: "my_init",
        cells: {
          t: setup.dist ? summarize(over) ?? "failed" : "not built",
          d: setup.dist ? summarize(downOver) ?? "failed" : "",
        },
      },
      ...peerRows("t"),
    ],
    notes: ["Service: `trap '' TERM; exec sleep infinity`.", ...notes],
  };
  const s = summarize(over);
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
