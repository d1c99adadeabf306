/**
 * When PID 1 collects its garbage itself.
 *
 * Under churn (a neighbour forking 1000 short-lived orphans a second) each
 * reap and signal read leaves a little garbage that outlives V8's young
 * generation; V8 then grows its old space rather than collect it, and
 * PID 1's private memory grew steadily (issue 17: RssAnon +5 MB in 10
 * minutes here), though its live heap stays ~3 MB. So the event loop asks
 * for a full collection (`gc()`, from the runtime's `--expose-gc`) once
 * enough has happened since the last one: a few ms of a busy process's
 * time every GC_MIN_INTERVAL_MS, never for an idle one.
 *
 * @module
 */

/** Turns of the event loop between two collections, at least. */
export const GC_MIN_TURNS = 1000;
/** Time between two collections, at least. */
export const GC_MIN_INTERVAL_MS = 10_000;

/** Whether to collect now, `turns` turns and `ms` ms after the last one. */
export function gcDue(turns: number, ms: number): boolean {
  return turns >= GC_MIN_TURNS && ms >= GC_MIN_INTERVAL_MS;
}
