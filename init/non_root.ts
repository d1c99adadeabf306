/**
 * Non-root mode, the steps main.ts takes when my_init is not root: the
 * state directory, HOME and USER, the boot line, and the service tree that
 * runsvdir supervises. Decisions are in privilege.ts.
 *
 * @module
 */

import { lookupUser } from "../lib/passwd.ts";
import { DEFAULT_ENV_PATHS } from "./env_dir.ts";
import { ETC_SERVICE, superviseDirectory } from "./runit.ts";
import { makeServiceTree } from "./service_tree.ts";
import { canList, findStateDir, makeStateDir } from "./state_dir.ts";
import { nonRootLine, userDefaults } from "./privilege.ts";
import type { RunState } from "./run_state.ts";
import * as log from "./log.ts";

/** The passwd entry of `uid`, if it has one; never throws. */
function passwdEntry(uid: number) {
  try {
    const entry = lookupUser(String(uid));
    return entry?.uid === uid ? entry : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Enters non-root mode: makes the state directory, sets HOME, USER and
 * SVDIR where the container gave none, and says so in one line.
 */
export function enterNonRootMode(
  state: RunState,
  ids: { uid: number; gid: number },
): void {
  const entry = passwdEntry(ids.uid);
  const made = makeStateDir(ids.uid);
  const envDirReadable = canList(DEFAULT_ENV_PATHS.dir);
  state.nonRoot = { ...ids, envDirReadable, paths: made.paths };
  for (
    const [name, value] of Object.entries(
      userDefaults(state.env, ids.uid, entry),
    )
  ) {
    state.env.set(name, value);
  }
  // `sv NAME` finds the services of the tree (in services, startup
  // scripts and login shells, which get the environment).
  if (made.paths && !state.env.get("SVDIR")) {
    state.env.set("SVDIR", made.paths.serviceDir);
  }
  log.info(nonRootLine({
    ...ids,
    name: entry?.name,
    base: made.paths?.base,
    envDirReadable,
  }));
  if (made.paths === undefined) {
    for (const problem of made.problems) log.debug(problem);
  }
}

/**
 * Makes the service tree and points the supervisor at it. False, with the
 * reason logged, when there is no state directory to make it in.
 */
export function prepareServiceTree(state: RunState): boolean {
  const paths = state.nonRoot?.paths;
  if (paths === undefined) {
    log.error(
      `Cannot start runit: uid ${state.nonRoot?.uid} can write none of the ` +
        "directories where runit keeps its state",
    );
    return false;
  }
  try {
    makeServiceTree(ETC_SERVICE, paths, log.warn);
  } catch (e) {
    log.error(`Cannot start runit: ${e}`);
    return false;
  }
  superviseDirectory(paths.serviceDir);
  return true;
}

/**
 * For `my_init --status` as `uid`: reads the service tree of the my_init
 * that runs as this uid. False when there is none.
 */
export function useServiceTreeOf(uid: number): boolean {
  const paths = findStateDir(uid);
  if (paths === undefined) return false;
  superviseDirectory(paths.serviceDir);
  return true;
}
