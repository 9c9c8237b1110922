import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { delayQuantiles, type DelayQuantiles } from './delayQuantiles.js';

/** How often the event loop is sampled, ms: a timer this late or later shows as delay. */
export const EVENT_LOOP_DELAY_RESOLUTION_MS = 20;

/**
 * The event loop delay of this process, in windows: `perf_hooks.monitorEventLoopDelay` samples the loop every
 * {@link EVENT_LOOP_DELAY_RESOLUTION_MS} ms (a libuv timer, no JavaScript runs per sample), and each
 * {@link takeWindow} returns the quantiles since the previous one and starts a new window. A window with no sample
 * (two takes within one resolution) repeats the previous window's figures. A heartbeat timer fires no earlier than
 * this delay allows: a p99 near the heartbeat interval is a Primary the Secondary may soon find absent.
 *
 * @example
 * const delay = new EventLoopDelay();
 * // ... at each scrape:
 * const window = delay.takeWindow(); // { p50: 0.0001, p99: 0.0012, max: 0.004, count: 2990 } or null
 * delay.stop();
 */
export class EventLoopDelay {
  readonly #histogram: IntervalHistogram;
  readonly #resolutionS: number;
  #last: DelayQuantiles | null = null;

  constructor(resolutionMs = EVENT_LOOP_DELAY_RESOLUTION_MS) {
    this.#resolutionS = resolutionMs / 1000;
    this.#histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.#histogram.enable();
  }

  /** The delays since the previous call (or since construction), seconds; null until the first sample. */
  takeWindow(): DelayQuantiles | null {
    const sampled = delayQuantiles(this.#histogram);
    this.#histogram.reset();
    // perf_hooks records each sample's whole wait, the resolution included: an idle loop shows the resolution.
    const window = sampled === null ? null : { ...sampled, p50: this.#lateBy(sampled.p50), p99: this.#lateBy(sampled.p99), max: this.#lateBy(sampled.max) };
    if (window !== null) this.#last = window;
    return this.#last;
  }

  #lateBy(waitS: number): number {
    return Math.max(0, waitS - this.#resolutionS);
  }

  /** Stops sampling (its timer no longer runs). */
  stop(): void {
    this.#histogram.disable();
  }
}
