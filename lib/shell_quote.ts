/**
 * Quoting for POSIX sh.
 *
 * @module
 */

/**
 * Quotes `value` for POSIX sh: in single quotes, each `'` written as `'\''`.
 * Inside single quotes bash and dash take every byte literally (`$`, `` ` ``,
 * `\`, newlines, control characters, non-ASCII), so this is exact for any
 * string without NUL. Always quotes, unlike phusion's shquote(): one rule is
 * easier to trust than a list of safe characters.
 */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
