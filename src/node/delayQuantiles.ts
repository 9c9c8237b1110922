import type { Histogram } from 'node:perf_hooks';

/** Delays over one window, in seconds: median, 99th percentile, the largest, and how many were measured. */
export interface DelayQuantiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly count: number;
}

/**
 * Reads a perf_hooks histogram of delays in nanoseconds as seconds, or null when it holds no sample.
 *
 * @example
 * const histogram = createHistogram();
 * histogram.record(2_000_000); // 2 ms
 * delayQuantiles(histogram) // { p50: 0.002, p99: 0.002, max: 0.002, count: 1 }
 */
export function delayQuantiles(histogram: Histogram): DelayQuantiles | null {
  if (histogram.count === 0) return null;
  return { p50: histogram.percentile(50) / 1e9, p99: histogram.percentile(99) / 1e9, max: histogram.max / 1e9, count: histogram.count };
}
