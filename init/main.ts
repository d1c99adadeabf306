/**
 * my_init: PID 1 for containers, compatible with phusion/baseimage-docker's
 * my_init (flags, paths, environment variables, `*** ` log lines, shutdown
 * order) and without its defects: a main command killed by signal N gives
 * 128+N (not 0), signals are never dropped once the listeners are in place,
 * odd environment files are skipped with a warning, and shutdown waits on
 * events instead of sleeping in loops.
 *
 * This file is the checklist; each step lives in its own module. It is the
 * only file that reads Deno.args, installs signal listeners, or exits.
 *
 * Exit codes: the main command's (128+N if killed by signal N; 127 not
 * found, 126 not executable); in daemon mode 0 after a requested shutdown
 * or runsvdir's status if it died; 1 when a startup script fails, a
 * --wait-for-services deadline passes, or --skip-runit lacks a command;
 * 2 on a usage error or when stopped during start-up (as phusion); 1 when
 * not run as root. `--status`: 0 when every enabled service is up, else 1.
 *
 * @module
 */

import { restoreCallerEnv } from "../lib/runtime_env.ts";
import { writeAll } from "../lib/write_all.ts";
import { exitCodeOf } from "../lib/exit_status.ts";
import { libc } from "../lib/libc.ts";
import { signalName, SIGNALS } from "../lib/signals.ts";
import { type Options, parseCli, USAGE, VERSION } from "./cli.ts";
import { type Config, readConfig } from "./config.ts";
import { exportEnv, importEnvDir } from "./env_dir.ts";
import { Reaper } from "./reaper.ts";
import { decideSignal, HANDLED_SIGNALS } from "./signal_policy.ts";
import { describeFailure, isExecutableFile, listScripts } from "./scripts.ts";
import {
  becomeSubreaper,
  type Child,
  describeStatus,
  isTty,
  signalChild,
  start,
  stopChild,
} from "./children.ts";
import {
  control,
  readServices,
  SERVICE_DIR,
  waitForServices,
} from "./runit.ts";
import { isStopped, isUp, statusReport } from "./runit_state.ts";
import { childrenNamed, descendantsOf, readProcessTable } from "./processes.ts";
import { within } from "./time.ts";
import * as log from "./log.ts";

const PRE_SHUTDOWN_DIR = "/etc/my_init.pre_shutdown.d";
const POST_SHUTDOWN_DIR = "/etc/my_init.post_shutdown.d";
const RC_LOCAL = "/etc/rc.local";
const INSECURE_KEY_TOOL = "/usr/sbin/enable_insecure_key";

/** The shared state of one my_init run. */
class Init {
  readonly reaper = new Reaper((pid, status) =>
    log.debug(
      `Reaped orphan PID ${pid} (${
        describeStatus(status, exitCodeOf(status))
      })`,
    )
  );
  /** The main command, while it runs. */
  main?: Child;
  shuttingDown = false;
  stopSignal: number = SIGNALS.SIGTERM;
  #requested!: () => void;
  /** Resolves when TERM or INT asks for the graceful shutdown. */
  readonly shutdownRequested = new Promise<"shutdown">((resolve) => {
    this.#requested = () => resolve("shutdown");
  });

  constructor(readonly options: Options, readonly config: Config) {}

  onSignal(signal: number): void {
    const action = decideSignal(signal, {
      hasMainCommand: this.main !== undefined,
      shuttingDown: this.shuttingDown,
      rewrites: this.options.rewrites,
    });
    switch (action.kind) {
      case "shutdown":
        this.shuttingDown = true;
        this.stopSignal = action.stopSignal;
        log.info(`Received ${signalName(signal)}; shutting down...`);
        this.#requested();
        break;
      case "forward":
        log.debug(
          `Forwarding ${signalName(action.signal)} to ${this.main!.name}`,
        );
        signalChild(this.main!, action.signal);
        break;
      case "ignore":
        log.debug(`Ignoring ${signalName(signal)}: ${action.reason}`);
    }
  }

  /** Runs one script to completion; stops it if shutdown is asked meanwhile. */
  async runScript(path: string, deadlineMs?: number): Promise<number> {
    log.info(`Running ${path}...`);
    const started = start(this.reaper, [path]);
    if (!started.ok) {
      log.error(started.message);
      return started.exitCode;
    }
    const child = started.child;
    const waits: Promise<unknown>[] = [child.exited];
    if (!this.shuttingDown) waits.push(this.shutdownRequested);
    const first = deadlineMs === undefined
      ? await Promise.race(waits)
      : await within(Promise.race(waits), deadlineMs);
    if (first === "shutdown" || first === "timeout") {
      if (first === "timeout") {
        log.warn(`${path} did not finish in ${(deadlineMs ?? 0) / 1000} s`);
      }
      const status = await stopChild(
        child,
        SIGNALS.SIGTERM,
        this.config.killProcessTimeout,
      );
      return status ? exitCodeOf(status) : 1;
    }
    const status = await child.exited;
    const code = exitCodeOf(status);
    if (code !== 0) log.error(describeFailure(path, status));
    return code;
  }

  /** Runs the scripts of a shutdown directory; a failure does not skip the rest. */
  async runShutdownScripts(dir: string, label: string): Promise<void> {
    const scripts = listScripts(dir);
    if (scripts.length === 0) return;
    log.info(`Running ${label} scripts...`);
    for (const script of scripts) {
      await this.runScript(script, this.config.killProcessTimeout);
    }
  }
}

function envWarn(message: string): void {
  log.warn(message);
}

/** Imports and re-exports the container environment; never throws. */
function syncEnvironment(clear: boolean): void {
  try {
    importEnvDir({ clear, override: clear, warn: envWarn });
    // After a script the directory is the truth: only the dumps follow it
    // (phusion's export_envvars(False)).
    exportEnv({ warn: envWarn, toDir: !clear });
  } catch (e) {
    log.warn(`Cannot sync the container environment: ${e}`);
  }
}

/** Startup: insecure key, /etc/my_init.d/*, /etc/rc.local. False aborts boot. */
async function runStartup(init: Init): Promise<boolean> {
  if (init.options.enableInsecureKey) {
    log.info("Installing insecure SSH key for user root");
    if (await init.runScript(INSECURE_KEY_TOOL) !== 0) return false;
  }
  if (init.options.skipStartupFiles) return true;
  const scripts = listScripts(init.config.initDirectory);
  if (isExecutableFile(RC_LOCAL)) scripts.push(RC_LOCAL);
  for (const script of scripts) {
    if (init.shuttingDown) return false;
    if (await init.runScript(script) !== 0) return false;
    // A script may have added or removed files in /etc/container_environment:
    // start the next one from exactly that set (phusion clears and reloads).
    syncEnvironment(true);
  }
  return !init.shuttingDown;
}

/** Runs the main command until it exits or shutdown is asked; its exit code. */
async function runMain(init: Init, command: string[]): Promise<number> {
  log.info(`Running ${command.join(" ")}...`);
  // Its own process group, and the terminal's foreground when stdin is one,
  // so `my_init -- bash -l` has job control and ^C reaches the command.
  const tty = isTty(0) ? 0 : undefined;
  const started = start(init.reaper, command, {
    group: true,
    foregroundTty: tty,
  });
  if (!started.ok) {
    log.error(started.message);
    return started.exitCode;
  }
  init.main = started.child;
  const first = await Promise.race([
    started.child.exited,
    init.shutdownRequested,
  ]);
  const status = first === "shutdown"
    ? await stopChild(
      started.child,
      init.stopSignal,
      init.config.killProcessTimeout,
    )
    : first;
  init.main = undefined;
  if (status === undefined) return 1;
  const code = exitCodeOf(status);
  log.info(`${command[0]} exited with ${describeStatus(status, code)}.`);
  return code;
}

/** Stops every service, then runsvdir, re-issuing `down` until none is up. */
async function stopRunit(
  init: Init,
  runsvdir: Child,
  runsvdirExited: boolean,
): Promise<void> {
  await init.runShutdownScripts(PRE_SHUTDOWN_DIR, "pre-shutdown");
  log.debug("Stopping runit services...");
  // One `d` per service: runsv answers every `d` with another TERM, and a
  // second TERM makes some daemons cut their graceful stop short. It is
  // re-issued only to services that could not take it (no runsv yet: it may
  // be starting right now, phusion #315) or that came back up.
  const asked = new Set<string>();
  const down = (views: ReturnType<typeof readServices>) => {
    for (const v of views) {
      if (v.state === "down") asked.delete(v.name);
      else if (!asked.has(v.name) && control(SERVICE_DIR, v.name, "d")) {
        asked.add(v.name);
      }
    }
  };
  const all = (views: ReturnType<typeof readServices>) =>
    views.every(isStopped);
  down(readServices());
  let stopped = await waitForServices(
    SERVICE_DIR,
    all,
    init.config.killProcessTimeout,
    down,
  );
  if (!stopped) {
    const left = readServices().filter((v) => !isStopped(v)).map((v) => v.name);
    log.warn(
      `Services still up after ${init.config.killProcessTimeout / 1000} s: ${
        left.join(", ")
      }. Killing them.`,
    );
    for (const name of left) control(SERVICE_DIR, name, "k");
    const killed = new Set(left);
    stopped = await waitForServices(SERVICE_DIR, all, 5000, (views) => {
      for (const v of views) {
        if (
          !isStopped(v) && !killed.has(v.name) &&
          control(SERVICE_DIR, v.name, "dk")
        ) {
          killed.add(v.name);
        }
      }
    });
    if (!stopped) log.error("Some services could not be stopped; carrying on");
  }
  if (!runsvdirExited) {
    if (stopped) {
      // Every service is down, so runsvdir and the runsv processes supervise
      // nothing: end them at once. Asked politely they take up to a second
      // (runsv exits ~0.8 s after TERM, runsvdir can miss a HUP that lands
      // outside its wait for up to 5 s: measured), which was most of
      // phusion's stop time. Log services (svlogd) see the end of their pipe,
      // flush and exit; anything else left gets TERM from the kill-all.
      log.info(`Shutting down runit daemon (PID ${runsvdir.pid})...`);
      for (const pid of childrenNamed(runsvdir.pid, "runsv")) {
        libc().kill(pid, SIGNALS.SIGKILL);
      }
      signalChild(runsvdir, SIGNALS.SIGKILL);
      if (await within(runsvdir.exited, 5000) === "timeout") {
        log.error(
          `runit daemon (PID ${runsvdir.pid}) survived SIGKILL; carrying on without it`,
        );
      }
    } else {
      // HUP, not TERM: runsvdir then sends TERM to every runsv, which exit
      // once their service is down. On TERM runsvdir would exit alone and
      // leave them running.
      await stopChild(runsvdir, SIGNALS.SIGHUP, init.config.killProcessTimeout);
    }
  }
  await init.runShutdownScripts(POST_SHUTDOWN_DIR, "post-shutdown");
}

/** Start-up, runit, the main command or the wait, and the shutdown. */
async function run(init: Init): Promise<number> {
  syncEnvironment(false);
  if (!await runStartup(init)) {
    if (!init.shuttingDown) return 1;
    // Stopped during start-up: phusion's words and exit status.
    log.warn("Init system aborted.");
    return 2;
  }

  const { options } = init;
  let runsvdir: Child | undefined;
  if (!options.skipRunit) {
    log.info("Booting runit daemon...");
    const started = start(init.reaper, ["runsvdir", "-P", SERVICE_DIR]);
    if (!started.ok) {
      log.error(`Cannot start runit: ${started.message}`);
      return 1;
    }
    runsvdir = started.child;
    runsvdir.name = "runit daemon";
    log.info(`Runit started as PID ${runsvdir.pid}`);
  }

  let code = 0;
  let runsvdirExited = false;
  try {
    if (options.command.length > 0) {
      if (options.waitForServices !== undefined) {
        const ms = options.waitForServices * 1000;
        const up = await Promise.race([
          waitForServices(
            SERVICE_DIR,
            (v) => v.every((s) => s.disabled || isUp(s)),
            ms,
          ),
          init.shutdownRequested,
        ]);
        if (up === "shutdown") return 0;
        if (!up) {
          const notUp = readServices().filter((s) => !s.disabled && !isUp(s))
            .map((s) => s.name);
          log.error(
            `Services not up after ${options.waitForServices} s: ${
              notUp.join(", ")
            }`,
          );
          return 1;
        }
      }
      code = await runMain(init, options.command);
    } else if (runsvdir) {
      const first = await Promise.race([
        runsvdir.exited,
        init.shutdownRequested,
      ]);
      if (first !== "shutdown") {
        runsvdirExited = true;
        code = exitCodeOf(first);
        log.info(`Runit exited with status ${code}`);
      }
    }
  } finally {
    init.shuttingDown = true;
    if (runsvdir) {
      try {
        await stopRunit(init, runsvdir, runsvdirExited);
      } catch (e) {
        log.error(`Error while stopping runit: ${e}`);
      }
    }
  }
  return code;
}

/** Sends TERM to every process, waits, then KILL: the last step. */
async function killAll(init: Init): Promise<void> {
  log.info("Killing all processes...");
  const c = libc();
  const pid1 = c.getpid() === 1;
  // Not PID 1 (tests, nested use): kill(-1) would hit every process of the
  // user on the host, so only our own descendants are signalled.
  const send = (signal: number) => {
    const targets = pid1 ? [-1] : descendantsOf(c.getpid(), readProcessTable());
    for (const pid of targets) c.kill(pid, signal);
  };
  send(SIGNALS.SIGTERM);
  send(SIGNALS.SIGCONT);
  const done = await within(
    init.reaper.whenNoChildren(),
    init.config.killAllProcessesTimeout,
  );
  if (done !== "timeout") return;
  log.warn("Not all processes have exited in time. Forcing them to exit.");
  send(SIGNALS.SIGKILL);
  await within(init.reaper.whenNoChildren(), 5000);
}

function printStatus(): number {
  const report = statusReport(readServices());
  const text = report.lines.length
    ? report.lines.join("\n") + "\n"
    : "ok: no services\n";
  writeAll(Deno.stdout, text);
  return report.exitCode;
}

/**
 * Signal listeners, installed the moment this module runs and never removed.
 * The runtime catches TERM, INT and HUP itself from start-up on, and one
 * that finds no JS listener kills PID 1 with SIGSEGV; so the listeners come
 * before anything else (argument parsing loads node:util, which takes
 * milliseconds), and signals that arrive before the Init exists are queued
 * and replayed to it.
 */
const signals = (() => {
  let target: Init | undefined;
  const early: number[] = [];
  let earlyChld = false;
  Deno.addSignalListener("SIGTERM", () => deliver(SIGNALS.SIGTERM));
  Deno.addSignalListener("SIGCHLD", () => {
    if (target) target.reaper.reap();
    else earlyChld = true;
  });
  function deliver(signal: number): void {
    if (target) target.onSignal(signal);
    else early.push(signal);
  }
  for (const name of HANDLED_SIGNALS) {
    if (name === "SIGTERM") continue;
    try {
      Deno.addSignalListener(name, () => deliver(SIGNALS[name]));
    } catch {
      // Not every signal can be listened to on every runtime version; the
      // rest still work.
    }
  }
  return {
    attach(init: Init): void {
      target = init;
      for (const signal of early.splice(0)) init.onSignal(signal);
      if (earlyChld) init.reaper.reap();
    },
  };
})();

async function main(): Promise<number> {
  restoreCallerEnv();
  const cli = await parseCli(Deno.args);
  switch (cli.action) {
    case "help":
      writeAll(Deno.stdout, USAGE);
      return 0;
    case "version":
      writeAll(Deno.stdout, `my_init ${VERSION}\n`);
      return 0;
    case "usage-error":
      writeAll(Deno.stderr, `my_init: ${cli.message}\nTry 'my_init --help'.\n`);
      return cli.exitCode;
    case "status":
      return printStatus();
  }
  const { options } = cli;
  log.setLogLevel(options.logLevel);
  const uid = libc().getuid();
  if (uid !== 0) {
    // `docker run --user 1000`: every step below needs root. Say so once,
    // first, instead of a page of permission errors.
    log.error(
      `my_init must run as root (running as uid ${uid}): it writes ` +
        "/etc/container_environment, runs the startup scripts and supervises " +
        "the services. Start the container without --user and run each " +
        "service as its user with /sbin/setuser.",
    );
    return 1;
  }
  const { config, warnings } = readConfig(Deno.env.toObject());
  const init = new Init(options, config);

  signals.attach(init);
  for (const w of warnings) log.warn(w);
  if (libc().getpid() !== 1) {
    const ok = becomeSubreaper();
    log.debug(
      ok
        ? "Not running as PID 1: registered as child subreaper"
        : "Not running as PID 1 and cannot become a child subreaper",
    );
  }

  let code: number;
  try {
    code = await run(init);
  } catch (e) {
    log.error(
      `Unexpected error: ${e instanceof Error ? e.stack ?? e.message : e}`,
    );
    code = 1;
  }
  if (options.killAllOnExit) {
    try {
      await killAll(init);
    } catch (e) {
      log.error(`Error while killing all processes: ${e}`);
    }
  }
  init.reaper.reap();
  return code;
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
