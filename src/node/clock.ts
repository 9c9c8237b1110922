import type { Stamp } from '../../machines/nodeMachine.types.js';
import { clearTimerAfterPendingIo, setTimerAfterPendingIo, type TimerAfterPendingIo } from './timerAfterPendingIo.js';

/** A handle for a scheduled callback, as returned by `Clock.setTimeout`. */
export type TimerHandle = unknown;

/**
 * The clock port: a monotonic clock for decisions, a wall clock for display, and timers (which XState's delays
 * use). The system clock serves real nodes; the simulator provides a simulated one with drift and skew.
 */
export interface Clock {
  /** Milliseconds on a clock that never goes back and is not set by NTP. Only differences mean anything. */
  monotonicNow(): number;
  /** Milliseconds since 1970 UTC, for display only. */
  wallNow(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock: `performance.now()` (monotonic), `Date.now()` (wall) and Node's timers, each of which runs after
 * the I/O that was waiting when it fell due ({@link setTimerAfterPendingIo}): after a stall of the process, a
 * Secondary reads the heartbeat waiting in its socket before its absence deadline, and a Primary the confirmation
 * waiting in its socket before its lease timer.
 *
 * @example
 * const node = createNode(settings, { ...inMemoryPorts(), clock: systemClock });
 */
export const systemClock: Clock = {
  monotonicNow: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (callback, ms) => setTimerAfterPendingIo(callback, ms),
  clearTimeout: (handle) => {
    // As Node's clearTimeout, nothing to cancel is no error.
    if (handle !== null && handle !== undefined) clearTimerAfterPendingIo(handle as TimerAfterPendingIo);
  },
};

/** Reads both clocks at once. */
export function stampOf(clock: Clock): Stamp {
  return { monotonic: clock.monotonicNow(), wall: clock.wallNow() };
}

/** Formats a wall-clock time the way the product's API does: ISO-8601 UTC with `+00:00`. */
export function formatWallTime(wallMs: number): string {
  return new Date(wallMs).toISOString().replace('Z', '+00:00');
}
