/**
 * Non-root mode's service tree: a copy of /etc/service, made of links, in a
 * directory the uid owns, that runsvdir supervises instead. runsv writes a
 * service's state into its `supervise` directory, which it makes in the
 * service's directory (root's in the image) unless a link leads elsewhere
 * (into /run/runit/supervise, root's too when /run is a root tmpfs). In the
 * tree each service is a directory of links to its files (run, finish,
 * check, down, env/, ...) with a `supervise` of its own; a `log`
 * directory gets the same treatment.
 *
 * The tree is made once, before runsvdir starts: a service added to
 * /etc/service later, or a `down` file made later, is not seen (README,
 * "Running without root").
 *
 * @module
 */

import { errorMessage } from "../lib/error_message.ts";
import { listServices } from "./runit.ts";
import { type StatePaths, superviseTarget } from "./privilege.ts";

/**
 * Makes `paths.serviceDir` from the services of `source`. A service that
 * cannot be mirrored is reported through `warn` and left out.
 */
export function makeServiceTree(
  source: string,
  paths: StatePaths,
  warn: (message: string) => void,
): void {
  Deno.mkdirSync(paths.serviceDir, { recursive: true, mode: 0o755 });
  Deno.mkdirSync(paths.superviseDir, { recursive: true, mode: 0o755 });
  for (const name of listServices(source)) {
    try {
      mirror(`${source}/${name}`, `${paths.serviceDir}/${name}`, name, paths);
    } catch (e) {
      warn(`Cannot supervise ${source}/${name}: ${errorMessage(e)}`);
    }
  }
}

/** Mirrors one service directory (and its `log` service) into `to`. */
function mirror(
  from: string,
  to: string,
  name: string,
  paths: StatePaths,
): void {
  Deno.mkdirSync(to, { mode: 0o755 });
  for (const entry of Deno.readDirSync(from)) {
    if (entry.name === "supervise") continue;
    const path = `${from}/${entry.name}`;
    if (entry.name === "log" && isDirectory(path)) {
      mirror(path, `${to}/log`, `${name}/log`, paths);
      continue;
    }
    Deno.symlinkSync(path, `${to}/${entry.name}`);
  }
  const supervise = superviseTarget(
    readLink(`${from}/supervise`),
    name,
    paths.superviseDir,
  );
  Deno.mkdirSync(supervise, { recursive: true, mode: 0o755 });
  Deno.symlinkSync(supervise, `${to}/supervise`);
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function readLink(path: string): string | undefined {
  try {
    return Deno.readLinkSync(path);
  } catch {
    return undefined;
  }
}
