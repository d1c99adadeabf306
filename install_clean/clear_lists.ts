/**
 * Emptying apt's lists directory.
 *
 * @module
 */

import { errorMessage } from "../lib/error_message.ts";

function removeEntries(
  dir: string,
  keep: (name: string) => boolean,
): string[] {
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].map((entry) => entry.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    return [`unable to read ${dir}: ${errorMessage(e)}`];
  }
  const failures: string[] = [];
  for (const name of names) {
    if (keep(name)) continue;
    try {
      Deno.removeSync(`${dir}/${name}`, { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        failures.push(`unable to remove ${dir}/${name}: ${errorMessage(e)}`);
      }
    }
  }
  return failures;
}

/**
 * Removes everything in `dir`, as phusion's `rm -rf /var/lib/apt/lists/*`
 * did: the image keeps no index, lock or partial download (apt-get update
 * recreates them). A missing `dir` counts as empty. Returns one message per
 * entry that could not be removed.
 */
export function clearLists(dir: string): string[] {
  return removeEntries(dir, () => false);
}
