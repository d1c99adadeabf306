/**
 * install_clean: installs Debian packages and leaves no apt lists or
 * package cache in the image layer.
 *
 *     install_clean [--install-recommends] [APT-OPTION...] PACKAGE...
 *
 * Runs apt-get update, apt-get install -y --no-install-recommends,
 * apt-get autoremove -y and apt-get clean, with DEBIAN_FRONTEND=
 * noninteractive and the caller's stdio, then empties /var/lib/apt/lists.
 * The cleaning also runs after a failure (see plan.ts), and after a stop
 * signal: TERM, INT and HUP are passed on to the apt-get that runs, the
 * steps left are skipped but the cleaning, and the exit code is 128+N
 * unless apt-get failed first.
 *
 * Exit codes:
 *   0        success, or --help
 *   1        usage error (no package, option without its value); not root
 *            (apt needs it: nothing is run); the lists could not be emptied
 *   126/127  apt-get could not be executed / was not found
 *   other    the status of the first apt-get that failed (128+N when it
 *            was killed by signal N)
 *
 * @module
 */

import { readCallerArgs } from "../lib/caller_args.ts";
import { readCallerEnv } from "../lib/caller_env.ts";
import { openSignalFd, SIGCHLD } from "../lib/signalfd.ts";
import { SpawnError, spawnFailureExitCode } from "../lib/spawn.ts";
import { libc, strerror } from "../lib/libc.ts";
import { writeAll } from "../lib/write_all.ts";
import { type Invocation, parseArgs, USAGE } from "./cli.ts";
import { usageErrorText } from "../lib/usage.ts";
import { executePlan, failureText, planInstall, type Step } from "./plan.ts";
import { runCommand, type SignalInbox, STOP_SIGNALS } from "./run_command.ts";
import { clearLists } from "./clear_lists.ts";

function perform(
  step: Step,
  env: ReadonlyMap<string, string>,
  inbox: SignalInbox,
): number {
  if (step.kind === "clear-lists") {
    const failures = clearLists(step.dir);
    for (const f of failures) {
      writeAll(Deno.stderr, `install_clean: warning: ${f}\n`);
    }
    return failures.length === 0 ? 0 : 1;
  }
  let status;
  try {
    status = runCommand(step.argv, env, inbox);
  } catch (e) {
    if (!(e instanceof SpawnError)) throw e;
    writeAll(
      Deno.stderr,
      `install_clean: warning: unable to run "${step.argv[0]}": ${
        strerror(e.code)
      }\n`,
    );
    return spawnFailureExitCode(e.code);
  }
  if (status !== 0) writeAll(Deno.stderr, failureText(step, status));
  return status;
}

function main(invocation: Invocation, callerEnv: Map<string, string>): never {
  if (invocation.kind === "help") {
    writeAll(Deno.stdout, USAGE);
    Deno.exit(0);
  }
  if (invocation.kind === "usage-error") {
    writeAll(
      Deno.stderr,
      usageErrorText("install_clean", USAGE, invocation.message),
    );
    Deno.exit(1);
  }
  const uid = libc().geteuid();
  if (uid !== 0) {
    // Non-root mode (README, "Running without root"): apt-get would fail
    // half-way, after its lock and list files; say why before touching
    // anything.
    writeAll(
      Deno.stderr,
      `install_clean: fatal: apt needs root, and this runs as uid ${uid}: install packages in the Dockerfile, before USER\n`,
    );
    Deno.exit(1);
  }
  const plan = planInstall(invocation);
  const env = new Map([...callerEnv, ...Object.entries(plan.env)]);
  const inbox: SignalInbox = {
    fd: openSignalFd([SIGCHLD, ...STOP_SIGNALS]).fd,
  };
  Deno.exit(
    executePlan(
      plan.steps,
      (step) => perform(step, env, inbox),
      () => inbox.stopSignal,
    ),
  );
}

const caller = readCallerEnv();
if (caller.problem) {
  writeAll(Deno.stderr, `install_clean: warning: ${caller.problem}\n`);
}
main(parseArgs(readCallerArgs(Deno.args)), caller.env);
