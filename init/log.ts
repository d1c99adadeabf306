/**
 * my_init's log lines: `*** message` on stderr, as phusion's my_init prints
 * them, so existing log scrapers keep working.
 *
 * @module
 */

/** Verbosity, phusion's LOG_LEVEL_* values. */
export const LogLevel = { error: 1, warn: 1, info: 2, debug: 3 } as const;

/** A level number: 1 (errors and warnings), 2 (info), 3 (debug). */
export type Level = 1 | 2 | 3;

import { writeAll } from "../lib/write_all.ts";
let level: Level = LogLevel.info;

/** Sets the verbosity: `--quiet` is warn, `-v` is debug. */
export function setLogLevel(l: Level): void {
  level = l;
}

/** Formats one log line, pinned by tests. */
export function formatLine(message: string): string {
  return `*** ${message}\n`;
}

function write(message: string): void {
  try {
    writeAll(Deno.stderr, formatLine(message));
  } catch {
    // A closed or full stderr must never take PID 1 down.
  }
}

/** Logs an error (always shown). */
export function error(message: string): void {
  write(message);
}

/** Logs a warning (always shown). */
export function warn(message: string): void {
  write(message);
}

/** Logs progress (hidden by --quiet). */
export function info(message: string): void {
  if (level >= LogLevel.info) write(message);
}

/** Logs details (shown by -v). */
export function debug(message: string): void {
  if (level >= LogLevel.debug) write(message);
}
