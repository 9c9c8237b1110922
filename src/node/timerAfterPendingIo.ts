/**
 * Timers whose callbacks run after the I/O that was already waiting when they fell due.
 *
 * Node's event loop (libuv) runs due timers before it polls for I/O. After a stall of the process (the scheduler gave
 * the CPU to others, a long garbage collection), a timer that fell due during the stall therefore runs before the
 * messages that arrived during the same stall are read: a Secondary's absence deadline before the heartbeat waiting
 * in its socket, a Primary's lease or heartbeat timer before the confirmation waiting in its socket. The node would
 * count its own stall as the peer's silence. A timer made here waits, once it is due, for one more poll of the event
 * loop (it continues in `setImmediate`, which runs after the poll phase), so that what was waiting is read first.
 *
 * The delay this adds is one turn of the event loop (microseconds when idle). It never makes a decision early, and
 * the statechart's rules hold either way: what a late timer decides is judged on the monotonic stamps of the events.
 */

/** A timer of {@link setTimerAfterPendingIo}; cancel it with {@link clearTimerAfterPendingIo}. */
export interface TimerAfterPendingIo {
  /** The timer while it is not due yet; null once it fell due. */
  timeout: ReturnType<typeof setTimeout> | null;
  /** The continuation after the next poll, once the timer fell due; null before, and once it ran. */
  immediate: ReturnType<typeof setImmediate> | null;
}

/**
 * Calls `callback` once `ms` have passed and the event loop has since polled for I/O once: whatever was waiting in
 * the process's sockets when the timer fell due is handled first.
 *
 * @example
 * const timer = setTimerAfterPendingIo(() => console.log('deadline'), 150);
 * clearTimerAfterPendingIo(timer); // cancelled, whether it is due already or not
 */
export function setTimerAfterPendingIo(callback: () => void, ms: number): TimerAfterPendingIo {
  const timer: TimerAfterPendingIo = { timeout: null, immediate: null };
  timer.timeout = setTimeout(() => {
    timer.timeout = null;
    timer.immediate = setImmediate(() => {
      timer.immediate = null;
      callback();
    });
  }, ms);
  return timer;
}

/**
 * Cancels a timer of {@link setTimerAfterPendingIo}: its callback will not run, also when it is due already and only
 * waits for the poll. Cancelling one that ran or was cancelled does nothing.
 *
 * @example
 * clearTimerAfterPendingIo(setTimerAfterPendingIo(() => undefined, 10));
 */
export function clearTimerAfterPendingIo(timer: TimerAfterPendingIo): void {
  if (timer.timeout !== null) clearTimeout(timer.timeout);
  if (timer.immediate !== null) clearImmediate(timer.immediate);
  timer.timeout = null;
  timer.immediate = null;
}
