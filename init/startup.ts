/**
 * Start-up: the container environment, the insecure key, the startup
 * scripts (/etc/my_init.d/*, then /etc/rc.local), in that order.
 *
 * @module
 */

import { exportEnv, importEnvDir } from "./env_dir.ts";
import { isExecutableFile, listScripts, runScript } from "./scripts.ts";
import type { RunState } from "./run_state.ts";
import * as log from "./log.ts";

const RC_LOCAL = "/etc/rc.local";
const INSECURE_KEY_TOOL = "/usr/sbin/enable_insecure_key";

/** How start-up ended. */
export type StartupOutcome = "done" | "failed" | "stopped";

/**
 * Imports /etc/container_environment and exports the dumps; never throws.
 * First (`afterScript` false) the environment given to the container wins;
 * after a startup script the directory is the truth, so that a script can
 * add, change and remove variables (phusion clears and reloads), and only
 * the dumps follow it (phusion's export_envvars(False)).
 */
export function syncEnvironment(state: RunState, afterScript: boolean): void {
  const warn = (message: string) => log.warn(message);
  try {
    state.env = importEnvDir(state.env, {
      clear: afterScript,
      override: afterScript,
      warn,
    });
    exportEnv(state.env, { warn, toDir: !afterScript });
  } catch (e) {
    log.warn(`Cannot sync the container environment: ${e}`);
  }
}

/** The insecure key if asked, then the startup scripts. */
export async function runStartup(state: RunState): Promise<StartupOutcome> {
  if (state.options.enableInsecureKey) {
    log.info("Installing insecure SSH key for user root");
    if (await runScript(state, INSECURE_KEY_TOOL) !== 0) return outcome(state);
  }
  if (state.options.skipStartupFiles) return "done";
  const scripts = listScripts(state.config.initDirectory);
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
