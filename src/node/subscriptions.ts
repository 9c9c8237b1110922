import type { Logger } from './logger.js';
import { EVENT_IDS, type EventId } from '../api/constants.js';
import type { NodeEventMap } from '../api/events.js';

/** A subscriber's callback; it may return a promise, which is awaited before its next event. */
export type Subscriber<E extends EventId> = (event: NodeEventMap[E]) => void | Promise<void>;

interface Subscription {
  readonly eventId: EventId;
  readonly callback: (event: never) => void | Promise<void>;
  readonly queue: unknown[];
  draining: boolean;
  active: boolean;
}

/**
 * Delivers a node's events to its subscribers with these guarantees:
 * - every subscriber gets every event of its id once, in the order the machine's transitions emitted them;
 * - delivery never runs inside the machine's transition: the machine does not wait for any subscriber;
 * - a callback that throws (or rejects) is logged, and the other subscribers and its own later events still run;
 * - a slow async callback delays only its own later events (each subscriber has its own queue).
 *
 * Delivery uses microtasks, not timers, so a simulated run stays deterministic.
 */
export class SubscriberRegistry {
  readonly #subscriptions = new Set<Subscription>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /**
   * Adds a subscriber; returns a function that removes it (events already queued for it are dropped).
   * Throws a TypeError listing the valid ids when `eventId` is unknown.
   */
  subscribe<E extends EventId>(eventId: E, callback: Subscriber<E>): () => void {
    assertEventId(eventId);
    if (typeof callback !== 'function') throw new TypeError('subscribe(eventId, callback): callback must be a function.');
    const subscription: Subscription = { eventId, callback: callback as Subscription['callback'], queue: [], draining: false, active: true };
    this.#subscriptions.add(subscription);
    return () => {
      subscription.active = false;
      subscription.queue.length = 0;
      this.#subscriptions.delete(subscription);
    };
  }

  /** Queues `event` for every subscriber of its id. */
  publish<E extends EventId>(eventId: E, event: NodeEventMap[E]): void {
    for (const subscription of this.#subscriptions) {
      if (subscription.eventId !== eventId) continue;
      subscription.queue.push(event);
      if (!subscription.draining) {
        subscription.draining = true;
        queueMicrotask(() => void this.#drain(subscription));
      }
    }
  }

  /** Number of active subscriptions. */
  get size(): number {
    return this.#subscriptions.size;
  }

  async #drain(subscription: Subscription): Promise<void> {
    while (subscription.active && subscription.queue.length > 0) {
      const event = subscription.queue.shift();
      try {
        await subscription.callback(event as never);
      } catch (error) {
        this.#logger.error({ err: error, eventId: subscription.eventId }, 'subscriber callback failed');
      }
    }
    subscription.draining = false;
  }
}

/** Throws a TypeError naming the valid ids unless `eventId` is one. */
export function assertEventId(eventId: unknown): asserts eventId is EventId {
  if (!(EVENT_IDS as readonly unknown[]).includes(eventId)) {
    throw new TypeError(`Unknown event id ${JSON.stringify(eventId)}; valid ids are ${EVENT_IDS.join(', ')}.`);
  }
}
