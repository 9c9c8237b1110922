import type { Clock, TimerHandle } from '../../src/node/clock.js';

interface Timer {
  readonly id: number;
  readonly due: number;
  readonly callback: () => void;
}

/**
 * A clock the test moves by hand. `advance(ms)` fires due timers in time order and lets every promise settle after
 * each one (so I/O actors and subscriber deliveries run); `jump(ms)` moves time without firing anything, the way a
 * paused process sees time pass.
 */
export class ManualClock implements Clock {
  #now = 1_000;
  #nextId = 1;
  #timers: Timer[] = [];
  /** Added to the wall clock: a skewed node. */
  wallSkewMs = 0;

  monotonicNow(): number {
    return this.#now;
  }
  wallNow(): number {
    return Date.UTC(2026, 0, 1) + this.#now + this.wallSkewMs;
  }
  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer = { id: this.#nextId++, due: this.#now + Math.max(0, ms), callback };
    this.#timers.push(timer);
    return timer.id;
  }
  clearTimeout(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((timer) => timer.id !== handle);
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order, settling promises after each. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (;;) {
      const next = this.#earliest();
      if (next === undefined || next.due > target) break;
      this.#timers = this.#timers.filter((timer) => timer !== next);
      this.#now = Math.max(this.#now, next.due);
      next.callback();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  /** Moves time forward by `ms` in steps of `stepMs`, calling `onStep` after each: to watch a property at every step. */
  async advanceWatching(ms: number, stepMs: number, onStep: () => void): Promise<void> {
    const target = this.#now + ms;
    while (this.#now < target) {
      await this.advance(Math.min(stepMs, target - this.#now));
      onStep();
    }
  }

  /** Moves time forward by `ms` without firing timers: what a paused process finds when it resumes. */
  jump(ms: number): void {
    this.#now += ms;
  }

  /** Advances in small steps until `condition` holds; throws after `limitMs` of simulated time. */
  async advanceUntil(condition: () => boolean, limitMs: number, stepMs = 5): Promise<number> {
    const start = this.#now;
    while (!condition()) {
      if (this.#now - start > limitMs) throw new Error(`condition not met within ${limitMs} ms of simulated time`);
      await this.advance(stepMs);
    }
    return this.#now - start;
  }

  #earliest(): Timer | undefined {
    let best: Timer | undefined;
    for (const timer of this.#timers) if (best === undefined || timer.due < best.due) best = timer;
    return best;
  }
}

/** Lets every pending promise chain run (a macrotask boundary drains the whole microtask queue). */
export async function settle(): Promise<void> {
  for (let round = 0; round < 3; round += 1) await new Promise((resolve) => setImmediate(resolve));
}
