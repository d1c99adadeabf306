/**
 * my_init: PID 1 for containers, compatible with phusion/baseimage-docker's
 * my_init (flags, paths, environment variables, `*** ` log lines, shutdown
 * order) and without its defects: a main command killed by signal N gives
 * 128+N (not 0), no signal is ever lost (they wait, blocked, in a signalfd
 * from the runtime's first instruction on), odd environment input is
 * skipped with a warning or passed on byte-exact, and the shutdown waits on
 * events instead of sleeping in loops.
 *
 * This file is the checklist, read top to bottom: parse, signals,
 * environment, start-up, services, main command, shutdown. It is the only
 * file that reads Deno.args, reads signals, or exits.
 *
 * Exit codes: the main command's (128+N if killed by signal N; 127 not
 * found, 126 not executable); in daemon mode 0 after a requested shutdown
 * or runsvdir's status if it exited by itself (killed, my_init carries on:
 * runit_loss.ts); 1 when a startup script fails, a
 * --wait-for-services deadline passes, or --skip-runit lacks a command;
 * 2 on a usage error or when stopped during start-up (as phusion). Not
 * root, it runs in non-root mode (privilege.ts), and exits 1 when runit
 * finds no place for its state. `--status`: 0 when every enabled service
 * is up, else 1.
 *
 * @module
 */

import { readCallerArgs } from "../lib/caller_args.ts";
import { readCallerEnv } from "../lib/caller_env.ts";
import { exitCodeOf } from "../lib/exit_status.ts";
import { libc } from "../lib/libc.ts";
import { openSignalFd, SIGCHLD, SignalReader } from "../lib/signalfd.ts";
import { signalName } from "../lib/signals.ts";
import { usageErrorText } from "../lib/usage.ts";
import { writeAll } from "../lib/write_all.ts";
import {
  EXIT_ABORTED,
  EXIT_FAILURE,
  EXIT_SECOND_INSTANCE,
  parseArgs,
  USAGE,
  VERSION,
} from "./cli.ts";
import { readConfig } from "./config.ts";
import { becomeSubreaper, signalChild } from "./children.ts";
import {
  enterNonRootMode,
  prepareServiceTree,
  useServiceTreeOf,
} from "./non_root.ts";
import { runMainCommand } from "./main_command.ts";
import { findRunningInstance, removeMarker, writeMarker } from "./instance.ts";
import { secondInstanceMessage } from "./instance_check.ts";
import { readinessOnce } from "./runit.ts";
import { statusReport } from "./runit_state.ts";
import { RunState } from "./run_state.ts";
import { startRunit, waitForServicesUp } from "./services.ts";
import { shutdown } from "./shutdown.ts";
import { decideSignal, HANDLED_SIGNAL_NUMBERS } from "./signal_policy.ts";
import { lateThreadStarted } from "./runtime_threads.ts";
import { runStartup, syncEnvironment } from "./startup.ts";
import { watchReadable } from "./event_loop.ts";
import { every } from "./time.ts";
import { LAST_SUPERVISOR_LINE } from "./runit_loss.ts";
import * as log from "./log.ts";

/** How often the reaper runs when no SIGCHLD can be relied on (no launcher). */
const UNLAUNCHED_REAP_MS = 50;

/** What one signal does: shutdown, forward to the main command, or nothing. */
function onSignal(state: RunState, signal: number): void {
  const action = decideSignal(signal, {
    hasMainCommand: state.main !== undefined,
    shuttingDown: state.shuttingDown,
    rewrites: state.options.rewrites,
  });
  switch (action.kind) {
    case "shutdown":
      log.info(`Received ${signalName(signal)}; shutting down...`);
      state.requestShutdown(action.stopSignal);
      break;
    case "forward":
      log.debug(
        `Forwarding ${signalName(action.signal)} to ${state.main!.name}`,
      );
      signalChild(state.main!, action.signal);
      break;
    case "ignore":
      log.debug(`Ignoring ${signalName(signal)}: ${action.reason}`);
  }
}

/**
 * Reads the signalfd whenever the event loop finds it readable, for the
 * life of the process; never throws.
 */
function receiveSignals(fd: number, state: RunState): void {
  const reader = new SignalReader(fd);
  const dispatch = (signo: number) => {
    if (signo === SIGCHLD) state.reaper.reap();
    else onSignal(state, signo);
  };
  watchReadable(fd, () => {
    try {
      reader.read(dispatch);
    } catch (e) {
      // Without signals nothing is reaped: say so; the next turn retries.
      log.error(`Cannot read signals: ${e}`);
    }
  });
}

/** Start-up, runit, then the main command or the wait for a stop. */
async function run(state: RunState): Promise<number | "stopping"> {
  const { options } = state;
  syncEnvironment(state, false);
  const startup = await runStartup(state);
  if (startup === "failed") return EXIT_FAILURE;
  if (startup === "stopped" || state.shuttingDown) return aborted();
  // Before anything that may fork up to the pids limit: the runtime's one
  // late thread (init/runtime_threads.ts).
  if (await lateThreadStarted() === "missing") {
    log.warn(
      "The runtime's SIGUSR1 listener thread did not appear; starting " +
        "anyway (at a pids limit, its late start could end PID 1)",
    );
  }
  if (state.shuttingDown) return aborted();
  if (!options.skipRunit) {
    if (state.nonRoot !== undefined && !prepareServiceTree(state)) {
      return EXIT_FAILURE;
    }
    if (!startRunit(state)) return EXIT_FAILURE;
  }

  if (options.command.length > 0) {
    if (options.waitForServices !== undefined) {
      const up = await waitForServicesUp(state, options.waitForServices);
      if (up === "shutdown") return aborted();
      if (up === "timeout") return EXIT_FAILURE;
    }
    if (state.shuttingDown) return aborted();
    return await runMainCommand(state);
  }
  const first = await Promise.race([
    state.runitEnded!,
    state.shutdownRequested,
  ]);
  if (first === "shutdown") return 0;
  // Killed, its runsv supervise on (init/runit_loss.ts): until the stop,
  // or until the last of them has ended.
  if (first.supervisors !== undefined) {
    const gone = Promise.all(
      first.supervisors.map((pid) => state.reaper.watch(pid)),
    );
    if (await Promise.race([gone, state.shutdownRequested]) === "shutdown") {
      return 0;
    }
    log.warn(LAST_SUPERVISOR_LINE);
  }
  const code = exitCodeOf(first.status);
  log.info(`Runit exited with status ${code}`);
  return code;
}

/** Stopped before the main command or the services ran: phusion's words and status. */
function aborted(): number {
  log.warn("Init system aborted.");
  return EXIT_ABORTED;
}

/**
 * `--status`: a line per service, 0 when every enabled one is ready (up
 * for a second, its `check` passing), else 1. Its `check` scripts get the
 * caller's environment.
 */
async function printStatus(env: ReadonlyMap<string, string>): Promise<number> {
  const report = statusReport(await readinessOnce(env));
  const text = report.lines.length
    ? report.lines.join("\n") + "\n"
    : "ok: no services\n";
  writeAll(Deno.stdout, text);
  return report.exitCode;
}

async function main(): Promise<number> {
  const caller = readCallerEnv();
  const invocation = await parseArgs(readCallerArgs(Deno.args));
  switch (invocation.kind) {
    case "help":
      writeAll(Deno.stdout, USAGE);
      return 0;
    case "version":
      writeAll(Deno.stdout, `my_init ${VERSION}\n`);
      return 0;
    case "usage-error":
      writeAll(
        Deno.stderr,
        usageErrorText("my_init", USAGE, invocation.message),
      );
      return invocation.exitCode;
    case "status":
      // Non-root mode's services are in its service tree (non_root.ts).
      if (libc().geteuid() !== 0) useServiceTreeOf(libc().geteuid());
      return await printStatus(caller.env);
  }
  const { options } = invocation;
  log.setLogLevel(options.logLevel);
  // Before anything is touched: a second my_init (`docker exec app
  // my_init -- cmd`) would run the startup scripts again and stop the
  // first one's services (init/instance_check.ts).
  const pid = libc().getpid();
  const inCharge = findRunningInstance(Deno.args.length, pid);
  if (inCharge !== undefined) {
    log.error(secondInstanceMessage(inCharge, options.command));
    return EXIT_SECOND_INSTANCE;
  }
  if (caller.problem) log.warn(`Warning: ${caller.problem}`);

  // Without the launcher (the bundle run by hand), the runtime's other
  // threads do not block our signals: one may reach them instead of the
  // signalfd, SIGCHLD included, so the reaper also runs on a timer then.
  const signals = openSignalFd([SIGCHLD, ...HANDLED_SIGNAL_NUMBERS], {
    nonblocking: true,
  });
  if (!signals.wereBlocked) {
    log.warn(
      "my_init was not started through its launcher: signals were not " +
        "blocked at start, so one may be lost or reach the runtime",
    );
  }

  const { config, warnings } = readConfig(Object.fromEntries(caller.env));
  const state = new RunState(options, config, caller.env);
  for (const w of warnings) log.warn(w);
  const uid = libc().geteuid();
  if (uid !== 0) enterNonRootMode(state, { uid, gid: libc().getegid() });
  receiveSignals(signals.fd, state);
  if (!signals.wereBlocked) {
    every(UNLAUNCHED_REAP_MS, () => state.reaper.reap());
  }
  if (pid !== 1) {
    const ok = becomeSubreaper();
    log.debug(
      ok
        ? "Not running as PID 1: registered as child subreaper"
        : "Not running as PID 1 and cannot become a child subreaper",
    );
  }

  // Not PID 1 (`docker run --init`, a pod sharing its PID namespace): a
  // second my_init finds this one through the marker.
  const marked = pid !== 1 && writeMarker(pid) === undefined;
  let code: number | "stopping";
  try {
    code = await run(state);
  } catch (e) {
    log.error(
      `Unexpected error: ${e instanceof Error ? e.stack ?? e.message : e}`,
    );
    code = EXIT_FAILURE;
  }
  const stopped = await shutdown(state);
  if (marked) removeMarker(pid);
  return code === "stopping" ? stopped ?? 1 : code;
}

// After the main command is spawned PID 1 must never die of an error: log
// whatever escapes and carry on with the shutdown.
globalThis.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  log.error(`Unhandled error: ${e.reason}`);
});
globalThis.addEventListener("error", (e) => {
  e.preventDefault();
  log.error(`Unhandled error: ${e.message}`);
});

Deno.exit(await main());
