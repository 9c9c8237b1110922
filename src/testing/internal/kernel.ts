import type { TraceEntry } from '../trace.js';
import { EventQueue, type Happening, type Scheduled } from './eventQueue.js';
import { Prng } from './prng.js';

/**
 * The simulation's single thread of time: the agenda, simulated true time (ms), the seeded randomness and the trace.
 * Nothing in the simulator reads a real clock or sets a real timer; everything waits here.
 */
export class SimKernel {
  readonly queue = new EventQueue();
  readonly rng: Prng;
  readonly entries: TraceEntry[] = [];
  now = 0;
  /** When false, only violations, faults and workload are traced (for benchmarks of raw speed). */
  readonly traceAll: boolean;

  constructor(seed: number, traceAll: boolean) {
    this.rng = new Prng(seed);
    this.traceAll = traceAll;
  }

  /** Runs `run` at simulated time `at` (never before now). */
  at(at: number, run: Happening): Scheduled {
    return this.queue.push(Math.max(at, this.now), run);
  }

  /** Runs `run` after `delay` ms of true time. */
  after(delay: number, run: Happening): Scheduled {
    return this.at(this.now + delay, run);
  }

  /** Records `entry` if this run keeps its kind. Callers of kinds kept only with the full trace test `traceAll` first, so a run without it builds none. */
  trace(entry: TraceEntry): void {
    if (this.traceAll || entry.kind === 'violation' || entry.kind === 'fault' || entry.kind === 'workload') this.entries.push(entry);
  }
}
