/**
 * Summary statistics of repeated measurements.
 *
 * @module
 */

/** Median and range of a sample. */
export interface Stats {
  median: number;
  min: number;
  max: number;
  /** Number of measurements. */
  n: number;
}

/**
 * Median, min and max of `values` (the mean of the two middle values for an
 * even count); undefined for an empty sample or one with a NaN.
 */
export function summarize(values: readonly number[]): Stats | undefined {
  if (values.length === 0 || values.some((v) => Number.isNaN(v))) {
    return undefined;
  }
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

/** `a / b` of two medians, or undefined when either is missing or b is 0. */
export function ratio(
  a: Stats | undefined,
  b: Stats | undefined,
): number | undefined {
  if (!a || !b || b.median === 0) return undefined;
  return a.median / b.median;
}
