/**
 * Start-up: the container environment, the insecure key, the startup
 * scripts (/etc/my_init.d/*, then /etc/rc.local), in that order.
 *
 * @module
 */

import {
  DEFAULT_ENV_PATHS,
  type EnvTargets,
  exportEnv,
  importEnvDir,
  linkEnvDir,
  RUN_ENV_PATHS,
} from "./env_dir.ts";
import {
  isExecutableFile,
  listScripts,
  runScript,
  startupDirectoryLine,
} from "./scripts.ts";
import { DEFAULT_INIT_DIRECTORY } from "./config.ts";
import type { RunState } from "./run_state.ts";
import * as log from "./log.ts";

const RC_LOCAL = "/etc/rc.local";
const INSECURE_KEY_TOOL = "/usr/sbin/enable_insecure_key";

/**
 * What `--enable-insecure-key` does in non-root mode: says in one line why
 * it is off, as sshd, cron and syslog-ng each do (README, "Running without
 * root"), instead of running the tool, which cannot write /root/.ssh and
 * would fail the boot for a key no sshd could serve.
 */
export const INSECURE_KEY_OFF =
  "Insecure SSH key: off in non-root mode: it is for root's login, and only root can write /root/.ssh and run sshd";

/** How start-up ended. */
export type StartupOutcome = "done" | "failed" | "stopped";

/**
 * Where this boot's environment went: {@link DEFAULT_ENV_PATHS}, or parts of
 * {@link RUN_ENV_PATHS} when /etc is read-only (set by the first export, so
 * that only it warns about that). Later imports read its directory, later
 * exports write its dumps.
 */
let targets: EnvTargets = DEFAULT_ENV_PATHS;

/**
 * How the dumps are written: as phusion (0640, group docker_env), or in
 * non-root mode 0600 and the writer's own group, which is all a non-root
 * process can give.
 */
let dumpOptions: { gid?: number | null; dumpMode?: number } = {};

/**
 * The warnings about the environment given so far in this boot: each export
 * after a startup script finds the same variables that a dump cannot hold,
 * and says so once, not once per script.
 */
const warned = new Set<string>();

/**
 * Imports /etc/container_environment and exports the dumps; never throws.
 * First (`afterScript` false) the environment given to the container wins,
 * and the export falls back to /run for what a read-only root keeps from
 * /etc. After a startup script the directory written first is the truth, so
 * that a script can add, change and remove variables (phusion clears and
 * reloads), and only the dumps follow it (phusion's export_envvars(False)).
 * Without a directory written (no /etc/container_environment, or nowhere
 * writable) nothing is re-imported: the image's files would take back what
 * `docker run -e` gave.
 */
export function syncEnvironment(state: RunState, afterScript: boolean): void {
  const warn = (message: string) => {
    if (warned.has(message)) return;
    warned.add(message);
    log.warn(message);
  };
  try {
    if (!afterScript && state.nonRoot !== undefined) {
      // Non-root mode: the image's directory is imported when this uid may
      // read it (root's 0700 in the image: the boot line says so), and
      // everything is written into the state directory (privilege.ts).
      if (state.nonRoot.envDirReadable) {
        state.env = importEnvDir(state.env, {
          clear: false,
          override: false,
          warn,
        });
      }
      dumpOptions = { gid: null, dumpMode: 0o600 };
      const paths = state.nonRoot.paths?.env;
      targets = paths === undefined
        ? {}
        : exportEnv(state.env, { paths, warn, ...dumpOptions });
      return;
    }
    if (!afterScript) {
      state.env = importEnvDir(state.env, {
        clear: false,
        override: false,
        warn,
      });
      targets = exportEnv(state.env, { warn, fallback: RUN_ENV_PATHS });
      // On a writable root, /run/container_environment leads to the
      // directory written (on a read-only one it is that directory).
      if (targets.dir === DEFAULT_ENV_PATHS.dir) {
        linkEnvDir(RUN_ENV_PATHS.dir, targets.dir, warn);
      }
      return;
    }
    if (targets.dir !== undefined) {
      state.env = importEnvDir(state.env, {
        paths: { ...DEFAULT_ENV_PATHS, dir: targets.dir },
        clear: true,
        override: true,
        warn,
      });
    }
    exportEnv(state.env, {
      paths: targets,
      warn,
      toDir: false,
      ...dumpOptions,
    });
  } catch (e) {
    log.warn(`Cannot sync the container environment: ${e}`);
  }
}

/** The insecure key if asked, then the startup scripts. */
export async function runStartup(state: RunState): Promise<StartupOutcome> {
  if (state.options.enableInsecureKey && state.nonRoot !== undefined) {
    log.warn(INSECURE_KEY_OFF);
  } else if (state.options.enableInsecureKey) {
    log.info("Installing insecure SSH key for user root");
    if (await runScript(state, INSECURE_KEY_TOOL) !== 0) return outcome(state);
  }
  if (state.options.skipStartupFiles) return "done";
  const dir = state.config.initDirectory;
  log.info(startupDirectoryLine(dir, DEFAULT_INIT_DIRECTORY));
  const scripts = listScripts(dir);
  if (isExecutableFile(RC_LOCAL)) scripts.push(RC_LOCAL);
  for (const script of scripts) {
    if (state.shuttingDown) return "stopped";
    if (await runScript(state, script) !== 0) return outcome(state);
    syncEnvironment(state, true);
  }
  return state.shuttingDown ? "stopped" : "done";
}

/** A script failed: because the shutdown stopped it, or on its own. */
function outcome(state: RunState): StartupOutcome {
  return state.shuttingDown ? "stopped" : "failed";
}
