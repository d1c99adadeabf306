/**
 * The container environment as a file for pam_env's `envfile=` option,
 * pure part: which variables it can carry and the text that carries them.
 * Debian's and Ubuntu's cron start every job with the environment PAM gives
 * it (pam_getenvlist) and then the crontab's variables, which win; the
 * image's /etc/pam.d/cron reads this file with pam_env, so cron jobs get the
 * container environment (README, "Cron").
 *
 * The format is the one pam_env's `_parse_env_file()` reads in Linux-PAM
 * 1.5.2 (Debian 12, built without libeconf) and, built so, 1.5.3 (Ubuntu
 * 24.04, whose build was not checked): one `NAME=VALUE` line each, read
 * with fgets() into 8192 bytes.
 * What that parser does, and so what this file can and cannot carry:
 * - a value starting with `"` or `'` loses that character, and a quote that
 *   ends the line is dropped; every other quote stays. So a value written
 *   between double quotes comes back exactly, whatever quotes it holds;
 * - `#` ends the line anywhere (a comment), and a line ends at a newline:
 *   a value with either cannot be written;
 * - a line ending in a backslash (before trailing blanks) continues on the
 *   next one: the closing quote keeps that from happening;
 * - a name must be ASCII letters, digits and `_` (isalnum());
 * - a line longer than the buffer ends the reading of the whole file, so a
 *   variable that long is left out rather than cost the ones after it.
 *
 * @module
 */

import { encodeBytes } from "../lib/env_bytes.ts";
import { exportedEntries } from "./env.ts";

/**
 * The longest line pam_env reads, its newline included: fgets() into a
 * buffer of BUF_SIZE (8192) bytes keeps one for the NUL.
 */
export const PAM_ENV_MAX_LINE = 8191;

/**
 * A variable left out of the file, and why (for a warning, which starts
 * with {@link PAM_ENV_OMITTED}: the file's path says little to a reader).
 */
export interface PamEnvOmission {
  /** The variable's name. */
  name: string;
  /** Why it is left out, a sentence fragment. */
  reason: string;
}

/** How each reason for leaving a variable out begins. */
export const PAM_ENV_OMITTED = "cron jobs go without it";

/** Why `name`=`value` cannot be a line of the file, or undefined if it can. */
export function pamEnvProblem(name: string, value: string): string | undefined {
  if (!/^[A-Za-z0-9_]+$/.test(name)) {
    return "pam_env takes only names of ASCII letters, digits and _";
  }
  if (value.includes("\n")) return "pam_env cannot read a newline in a value";
  if (value.includes("#")) {
    return 'pam_env reads "#" as the start of a comment, even in a value';
  }
  const bytes = encodeBytes(pamEnvLine(name, value)).length;
  if (bytes > PAM_ENV_MAX_LINE) {
    return `its line of ${bytes} bytes is longer than the ${PAM_ENV_MAX_LINE} pam_env reads`;
  }
  return undefined;
}

/** One line of the file: `NAME="VALUE"` and a newline. */
function pamEnvLine(name: string, value: string): string {
  return `${name}="${value}"\n`;
}

/** The first line of the file: what it is, for whoever opens it. */
export const PAM_ENV_HEADER =
  "# The container environment, written by my_init for pam_env (cron jobs).\n";

/**
 * Renders the file from `env`: the exported variables (all but
 * NEVER_EXPORTED, in byte order of their names), each that pam_env can read
 * back byte-exact as a `NAME="VALUE"` line; the others in `omitted`.
 */
export function renderPamEnvFile(
  env: Readonly<Record<string, string>>,
): { text: string; omitted: PamEnvOmission[] } {
  const omitted: PamEnvOmission[] = [];
  let text = PAM_ENV_HEADER;
  for (const [name, value] of exportedEntries(env)) {
    const reason = pamEnvProblem(name, value);
    if (reason === undefined) text += pamEnvLine(name, value);
    else omitted.push({ name, reason: `${PAM_ENV_OMITTED}: ${reason}` });
  }
  return { text, omitted };
}
