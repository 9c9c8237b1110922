import type { AvailabilityNode } from '../../node/createNode.js';
import type { Clock, TimerHandle } from '../../node/clock.js';
import { InMemoryNodeStore } from '../../node/nodeStore.js';
import type { ScenarioClock, SimNodeId } from '../scenario.js';
import type { Scheduled } from './eventQueue.js';
import type { SimKernel } from './kernel.js';

/** True wall time at simulated time 0: 2026-01-01T00:00:00Z (display only). */
export const SIM_WALL_EPOCH_MS = Date.UTC(2026, 0, 1);

/** Whether a node process runs, is frozen, or is down. */
export type HostStatus = 'running' | 'paused' | 'crashed';

/** Work held while the process is paused; a timer's also says when it fell due (true time). */
interface HeldWork {
  readonly work: () => void;
  readonly timerDueAt: number | null;
}

interface SimTimer {
  cancelled: boolean;
  /** The timer's happening on the agenda; null for a timer that never fires. */
  scheduled: Scheduled | null;
}

/**
 * One simulated machine: its clocks, its persistent store (which survives crashes), and the node process running
 * on it. Every callback into the process (a timer, a delivered message, a DNS answer) goes through `deliver`, which
 * drops work of a crashed incarnation and holds work while the process is paused, so a pause freezes the node while
 * its monotonic clock keeps running. On resume the overdue timers run first, in due order, within the resume's own
 * happening (as a process continued by SIGCONT runs its timers phase first); held messages and answers follow.
 */
export class SimHost {
  readonly id: SimNodeId;
  readonly address: string;
  readonly store = new InMemoryNodeStore();
  readonly #kernel: SimKernel;
  readonly #clockSpec: ScenarioClock;
  #held: HeldWork[] = [];
  #clock: { readonly incarnation: number; readonly clock: Clock } | null = null;
  status: HostStatus = 'running';
  incarnation = 1;
  node: AvailabilityNode | null = null;

  constructor(id: SimNodeId, address: string, clockSpec: ScenarioClock, kernel: SimKernel) {
    this.id = id;
    this.address = address;
    this.#clockSpec = clockSpec;
    this.#kernel = kernel;
  }

  get rate(): number {
    return this.#clockSpec.rate;
  }

  /** The node's monotonic clock now. */
  monotonicNow(): number {
    return this.#clockSpec.monotonicOffsetMs + this.#kernel.now * this.#clockSpec.rate;
  }

  /** The node's wall clock now (skewed; display only). */
  wallNow(): number {
    return Math.round(SIM_WALL_EPOCH_MS + this.#clockSpec.wallSkewMs + this.#kernel.now * this.#clockSpec.rate);
  }

  /** Whether the process runs and is not paused. */
  get live(): boolean {
    return this.status === 'running';
  }

  /**
   * Runs `work` in the process if incarnation `incarnation` still runs; holds it while paused; drops it after a crash.
   * `timerDueAt` marks a timer's callback (it fell due now): a resume runs those before other held work.
   */
  deliver(incarnation: number, work: () => void, timerDueAt: number | null = null): void {
    if (incarnation !== this.incarnation || this.status === 'crashed') return;
    if (this.status === 'paused') this.#held.push({ work, timerDueAt });
    else work();
  }

  /** Freezes the process: its timers and inbound work wait until `resume`. */
  pause(): void {
    if (this.status === 'running') this.status = 'paused';
  }

  /**
   * Thaws the process. Its overdue timers run first, now, in the order they fell due, and `settle` lets the
   * promises each one started run before the next (a real event loop drains microtasks between timers): when the
   * resume's happening ends, the node has done what its timers demanded, e.g. noticed that its lease ran out. Held
   * messages and DNS answers are then handled as happenings at the same instant, in the order they arrived.
   */
  async resume(settle: () => Promise<void>): Promise<void> {
    if (this.status !== 'paused') return;
    this.status = 'running';
    const held = this.#held;
    this.#held = [];
    const incarnation = this.incarnation;
    const timers = held.filter((item) => item.timerDueAt !== null).sort((x, y) => x.timerDueAt! - y.timerDueAt!);
    for (const timer of timers) {
      // A crash cannot happen inside this happening, but a timer may stop the node: deliver checks again.
      this.deliver(incarnation, timer.work);
      await settle();
    }
    for (const item of held) if (item.timerDueAt === null) this.#kernel.at(this.#kernel.now, () => this.deliver(incarnation, item.work));
  }

  /** Marks the process dead: everything in flight towards it is dropped. The store survives. */
  crash(): void {
    this.status = 'crashed';
    this.#held = [];
  }

  /** A new process on this machine (after a crash): a new incarnation, running. */
  reboot(): void {
    this.incarnation += 1;
    this.status = 'running';
    this.#held = [];
  }

  /**
   * The clock port for the current incarnation: monotonic and wall time from simulated time; timers on the
   * simulation's agenda, scaled by this machine's clock rate, delivered through `deliver`.
   */
  clock(): Clock {
    const incarnation = this.incarnation;
    // One clock per incarnation: the network and DNS ask for it at every request.
    if (this.#clock?.incarnation === incarnation) return this.#clock.clock;
    const kernel = this.#kernel;
    const clock: Clock = {
      monotonicNow: () => this.monotonicNow(),
      wallNow: () => this.wallNow(),
      setTimeout: (callback: () => void, ms: number): TimerHandle => {
        const timer: SimTimer = { cancelled: false, scheduled: null };
        // An infinite delay (a variant's "never") is a timer that never fires.
        if (Number.isFinite(ms)) {
          timer.scheduled = kernel.after(Math.max(0, ms) / this.#clockSpec.rate, () => {
            if (!timer.cancelled) this.deliver(incarnation, () => !timer.cancelled && callback(), kernel.now);
          });
        }
        return timer;
      },
      clearTimeout: (handle: TimerHandle) => {
        if (handle === null || typeof handle !== 'object') return;
        const timer = handle as SimTimer;
        timer.cancelled = true;
        // A cancelled timer leaves no happening behind: the statechart re-arms timers at every heartbeat.
        if (timer.scheduled !== null) kernel.queue.cancel(timer.scheduled);
      },
    };
    this.#clock = { incarnation, clock };
    return clock;
  }
}
