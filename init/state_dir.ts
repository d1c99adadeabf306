/**
 * Non-root mode, acting part: making the state directory my_init writes
 * instead of root's places, and finding it again (`my_init --status` runs
 * as a process of its own). The order and the checks are decided in
 * privilege.ts.
 *
 * @module
 */

import { errorMessage } from "../lib/error_message.ts";
import {
  ownDirProblem,
  STATE_BASES,
  type StatePaths,
  statePaths,
} from "./privilege.ts";

/**
 * Makes `path` an empty directory of `uid` with `mode`: removes what an
 * earlier boot left in it (a persistent /tmp keeps it across `docker
 * restart`), after checking that it is this uid's own. Returns why it
 * cannot, or undefined.
 */
function freshOwnDir(
  path: string,
  uid: number,
  mode: number,
): string | undefined {
  try {
    const info = Deno.lstatSync(path);
    const problem = ownDirProblem(info, uid);
    if (problem !== undefined) return `${path}: ${problem}`;
    Deno.removeSync(path, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      return `${path}: ${errorMessage(e)}`;
    }
  }
  try {
    Deno.mkdirSync(path, { mode });
    // `mode` is subject to the umask.
    Deno.chmodSync(path, mode);
    return undefined;
  } catch (e) {
    return `${path}: ${errorMessage(e)}`;
  }
}

/**
 * Makes the state directories under the first of STATE_BASES where `uid`
 * can: `runit/` and `container_environment/` (mode 0700: the environment
 * holds secrets). Returns their paths, or undefined with the reason for
 * each base when none would do.
 */
export function makeStateDir(
  uid: number,
): { paths: StatePaths } | { paths: undefined; problems: string[] } {
  const problems: string[] = [];
  for (const base of STATE_BASES) {
    const paths = statePaths(base);
    const runit = `${base}/runit`;
    const problem = freshOwnDir(runit, uid, 0o755) ??
      freshOwnDir(paths.env.dir, uid, 0o700);
    if (problem === undefined) return { paths };
    problems.push(problem);
  }
  return { paths: undefined, problems };
}

/**
 * The state directory a non-root my_init made for `uid`: the first of
 * STATE_BASES whose service tree is that uid's own directory.
 */
export function findStateDir(uid: number): StatePaths | undefined {
  for (const base of STATE_BASES) {
    const paths = statePaths(base);
    try {
      if (ownDirProblem(Deno.lstatSync(paths.serviceDir), uid) === undefined) {
        return paths;
      }
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** Whether the directory `path` can be listed by this process. */
export function canList(path: string): boolean {
  try {
    Deno.readDirSync(path)[Symbol.iterator]().next();
    return true;
  } catch (e) {
    // Missing is fine: nothing to import, as in root mode.
    return e instanceof Deno.errors.NotFound;
  }
}
