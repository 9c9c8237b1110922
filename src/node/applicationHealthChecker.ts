import type { Logger } from './logger.js';
import type { Stamp } from '../../machines/nodeMachine.types.js';
import { stampOf, type Clock, type TimerHandle } from './clock.js';
import type { ApplicationHealthProbe, ApplicationHealthResult } from './applicationHealthProbe.js';

/** What the checker needs: the probe, the clock port, its timing, and where results go. */
export interface ApplicationHealthCheckerOptions {
  readonly probe: ApplicationHealthProbe;
  readonly clock: Clock;
  /** A check starts this long after the previous one started (`health_interval`, ms). */
  readonly intervalMs: number;
  /** A check not finished by then fails and is aborted (`health_timeout`, ms; less than the interval). */
  readonly timeoutMs: number;
  /** Gets every result as it comes, stamped; must not throw (the node sends it to its machine as an event). */
  readonly report: (result: ApplicationHealthResult, at: Stamp) => void;
  readonly logger: Logger;
}

/**
 * Runs the application health check (docs/design.md rule 10) every interval on the clock port (monotonic), one at a
 * time: the next starts an interval after the previous one started, or at once when that one ran late. A check that
 * has not finished at the timeout is aborted (a command's process group is killed) and counts as failed. Each
 * result goes to `report`; a failed check's output goes to the log, truncated. The statechart never waits for it.
 *
 * @example
 * const checker = new ApplicationHealthChecker({ probe: commandProbe(['true']), clock: systemClock, intervalMs: 2000, timeoutMs: 1000, report, logger });
 * checker.start();
 * // later
 * checker.stop();
 */
export class ApplicationHealthChecker {
  readonly #options: ApplicationHealthCheckerOptions;
  #timer: TimerHandle | null = null;
  #running = false;
  #abort: AbortController | null = null;

  constructor(options: ApplicationHealthCheckerOptions) {
    this.#options = options;
  }

  /** Starts checking: the first check runs at once. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#checkOnce();
  }

  /** Stops checking: a check under way is aborted and its result dropped. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== null) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#abort?.abort();
    this.#abort = null;
  }

  async #checkOnce(): Promise<void> {
    const { probe, clock, intervalMs, timeoutMs, logger } = this.#options;
    const abort = new AbortController();
    this.#abort = abort;
    let timeout: TimerHandle | null = null;
    const timedOut = new Promise<ApplicationHealthResult>((resolve) => {
      timeout = clock.setTimeout(() => {
        abort.abort();
        resolve({ healthy: false, detail: `no result within health_timeout (${timeoutMs} ms); aborted` });
      }, timeoutMs);
    });
    let result: ApplicationHealthResult;
    // The next check starts an interval after this one's probe was called.
    const startedAt = clock.monotonicNow();
    try {
      // A probe that ignores the abort still counts as failed at the timeout.
      result = await Promise.race([probe.check(abort.signal), timedOut]);
    } catch (error) {
      result = { healthy: false, detail: `the check failed: ${(error as Error).message}` };
    }
    clock.clearTimeout(timeout);
    if (!this.#running || this.#abort !== abort) return;
    this.#abort = null;
    if (!result.healthy) logger.warn({ check: probe.description, detail: result.detail }, 'application health check failed');
    else logger.debug({ check: probe.description }, 'application health check passed');
    this.#options.report(result, stampOf(clock));
    if (this.#running) this.#nextAt(startedAt + intervalMs);
  }

  /** Starts the next check at `due` on the monotonic clock (a timer that fires early waits out the rest). */
  #nextAt(due: number): void {
    const { clock } = this.#options;
    const wait = due - clock.monotonicNow();
    if (wait <= 0) {
      void this.#checkOnce();
      return;
    }
    this.#timer = clock.setTimeout(() => {
      this.#timer = null;
      if (this.#running) this.#nextAt(due);
    }, Math.ceil(wait));
  }
}
