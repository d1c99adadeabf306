/**
 * The usage-error text of the three tools, one shape for all, in s6's
 * words: `TOOL: fatal: PROBLEM`, then the usage line and where the rest
 * is.
 *
 * @module
 */

/** The text printed on stderr for a usage error of `tool`. */
export function usageErrorText(
  tool: string,
  usage: string,
  message: string,
): string {
  const line = usage.slice(0, usage.indexOf("\n"));
  return `${tool}: fatal: ${message}\n${line}\nTry '${tool} --help'.\n`;
}
