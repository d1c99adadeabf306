/**
 * The text of a caught error, for a log line or a fatal message.
 *
 * @module
 */

/** `e`'s message when it is an Error, else `e` as text. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
