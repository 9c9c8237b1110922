import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { Heartbeat } from '../../machines/heartbeat.js';
import type { PeerTransport } from '../peer/peerTransport.js';
import type { Clock } from './clock.js';
import { delayQuantiles, type DelayQuantiles } from './delayQuantiles.js';

/**
 * The Primary's heartbeat send jitter: how much later than due each direct heartbeat left. The statechart paces
 * heartbeats one interval after the previous one, so heartbeat `(epoch, seq)` is due `(seq - previous seq) ×
 * heartbeat interval` after the previous send (a seq skipped, its send dropped while the one before was in flight,
 * counts one interval more); the jitter is the send's monotonic time minus that. It sums the timer's lateness (a
 * busy event loop, a GC pause) and the work between the timer and the send. A send earlier than due (timers round to
 * 1 ms) counts as 0. Each {@link takeWindow} returns the quantiles since the previous one and starts a new window.
 *
 * @example
 * const jitter = new HeartbeatJitter();
 * jitter.sent({ epoch: 3, seq: 10 }, 1000, 50);
 * jitter.sent({ epoch: 3, seq: 11 }, 1052, 50);
 * jitter.takeWindow() // { p50: 0.002, p99: 0.002, max: 0.002, count: 1 }
 */
export class HeartbeatJitter {
  /** Nanoseconds from 1 ns to a minute at 2 significant digits: about 30 KB (the default range takes 400 KB). */
  readonly #histogram: RecordableHistogram = createHistogram({ lowest: 1, highest: MAX_JITTER_NS, figures: 2 });
  #previous: { epoch: number; seq: number; at: number } | null = null;
  #last: DelayQuantiles | null = null;

  /** Records that heartbeat `(epoch, seq)` left at `at` (monotonic ms) while the interval was `intervalMs`. */
  sent(heartbeat: Pick<Heartbeat, 'epoch' | 'seq'>, at: number, intervalMs: number): void {
    const previous = this.#previous;
    this.#previous = { epoch: heartbeat.epoch, seq: heartbeat.seq, at };
    // A new epoch (a takeover, a new group) starts a new series: its first heartbeat was due at no earlier send.
    if (previous === null || previous.epoch !== heartbeat.epoch || heartbeat.seq <= previous.seq) return;
    const lateMs = at - previous.at - (heartbeat.seq - previous.seq) * intervalMs;
    // The histogram takes integers ≥ 1: nanoseconds, at least 1 ns; a minute late or more counts as a minute.
    this.#histogram.record(Math.min(MAX_JITTER_NS, Math.max(1, Math.round(lateMs * 1e6))));
  }

  /** The jitter since the previous call, seconds; the previous window's when no heartbeat was sent since; null before any. */
  takeWindow(): DelayQuantiles | null {
    const window = delayQuantiles(this.#histogram);
    this.#histogram.reset();
    if (window !== null) this.#last = window;
    return this.#last;
  }
}

/** The largest jitter told apart: a minute, in nanoseconds. */
const MAX_JITTER_NS = 60e9;

const jitterOfNode = new WeakMap<object, HeartbeatJitter>();

/**
 * The heartbeat jitter of `node`, measured on the peer transport {@link observeHeartbeatSends} wrapped for it; null
 * for a node without one.
 *
 * @example
 * heartbeatJitterOf(node)?.takeWindow()
 */
export function heartbeatJitterOf(node: object): HeartbeatJitter | null {
  return jitterOfNode.get(node) ?? null;
}

/**
 * Wraps `node`'s peer transport so that every direct heartbeat it sends is timed against its due time (see
 * {@link HeartbeatJitter}); {@link heartbeatJitterOf} then finds the figures. The measure lives at the transport, so
 * it holds however the statechart's actors send (the heartbeat's own `(epoch, seq)` says which one it is).
 *
 * @example
 * this.#peer = observeHeartbeatSends(this, ports.peer, clock, () => this.settings.timers.heartbeatIntervalMs);
 */
export function observeHeartbeatSends(node: object, peer: PeerTransport, clock: Clock, intervalMs: () => number): PeerTransport {
  const jitter = new HeartbeatJitter();
  jitterOfNode.set(node, jitter);
  return {
    send(to, message) {
      if (message.type === 'heartbeat') jitter.sent(message.heartbeat, clock.monotonicNow(), intervalMs());
      return peer.send(to, message);
    },
    listen: (self, receiver) => peer.listen(self, receiver),
  };
}
