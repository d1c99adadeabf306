/**
 * Emptying apt's lists directory.
 *
 * @module
 */

import { listsEntryAction } from "./plan.ts";

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function removeEntries(dir: string, keep: (name: string) => boolean): string[] {
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].map((entry) => entry.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    return [`unable to read ${dir}: ${reason(e)}`];
  }
  const failures: string[] = [];
  for (const name of names) {
    if (keep(name)) continue;
    try {
      Deno.removeSync(`${dir}/${name}`, { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        failures.push(`unable to remove ${dir}/${name}: ${reason(e)}`);
      }
    }
  }
  return failures;
}

/**
 * Removes everything in `dir` but `lock`, and empties `partial/` (see
 * `listsEntryAction()`). A missing `dir` counts as empty. Returns one
 * message per entry that could not be removed.
 */
export function clearLists(dir: string): string[] {
  const failures = removeEntries(
    dir,
    (name) => listsEntryAction(name) !== "remove",
  );
  const partial = `${dir}/partial`;
  let isDirectory = false;
  try {
    isDirectory = Deno.lstatSync(partial).isDirectory;
  } catch {
    return failures; // no partial/: nothing to empty
  }
  if (isDirectory) return [...failures, ...removeEntries(partial, () => false)];
  // A partial that is not a directory is junk, not apt's download area.
  return [...failures, ...removeEntries(dir, (name) => name !== "partial")];
}
