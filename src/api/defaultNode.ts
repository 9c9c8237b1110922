import type { EventId } from './constants.js';
import { NoDefaultNodeError } from './errors.js';
import type { NodeState } from './nodeState.js';
import type { AvailabilityNode, PrimaryWork } from '../node/createNode.js';
import type { Subscriber } from '../node/subscriptions.js';
import { assertEventId } from '../node/subscriptions.js';

/**
 * The process's default node, so a workflow can be written the way the product's docs show:
 * `getNodeState()` and `subscribe(eventId, callback)` without holding a node object.
 */
let defaultNode: AvailabilityNode | null = null;

interface PendingSubscription {
  readonly eventId: EventId;
  readonly callback: Subscriber<EventId>;
  unsubscribe: (() => void) | null;
}
const subscriptions = new Set<PendingSubscription>();

/**
 * Makes `node` the process's default node (or clears it with null). Module-level subscriptions move to it.
 * `agctl start` does this for the node it runs.
 *
 * @example
 * setDefaultNode(node);
 * getNodeState().nodeRole; // the node's role
 */
export function setDefaultNode(node: AvailabilityNode | null): void {
  for (const subscription of subscriptions) {
    subscription.unsubscribe?.();
    subscription.unsubscribe = node === null ? null : node.subscribe(subscription.eventId, subscription.callback);
  }
  defaultNode = node;
}

/** The default node, or null. */
export function getDefaultNode(): AvailabilityNode | null {
  return defaultNode;
}

/**
 * The default node's state (the product's `get_node_state()`), with the lease checked at the instant of the call.
 * Throws `NoDefaultNodeError` when no default node is set.
 *
 * @example
 * if (getNodeState().actingPrimary) runBatch();
 */
export function getNodeState(): NodeState {
  if (defaultNode === null) throw new NoDefaultNodeError();
  return defaultNode.getNodeState();
}

/**
 * Subscribes to the default node's events (the product's `subscribe(event_id, callback)`). A subscription made
 * before a default node is set starts when one is. Returns an unsubscribe function. Throws a TypeError listing the
 * valid ids when `eventId` is unknown.
 *
 * @example
 * subscribe(EventId.NODE_ROLE_CHANGED, ({ previous, new: role }) => console.log(previous, '->', role));
 */
export function subscribe<E extends EventId>(eventId: E, callback: Subscriber<E>): () => void {
  assertEventId(eventId);
  const subscription: PendingSubscription = {
    eventId,
    callback: callback as Subscriber<EventId>,
    unsubscribe: defaultNode === null ? null : defaultNode.subscribe(eventId, callback),
  };
  subscriptions.add(subscription);
  return () => {
    subscription.unsubscribe?.();
    subscriptions.delete(subscription);
  };
}

/**
 * Runs `work` only while the default node acts as Primary (the one-line guard for Primary-only workflows); rejects
 * with `NotActingPrimaryError` otherwise.
 *
 * @example
 * await requirePrimary(async ({ signal }) => syncRecords({ signal }));
 */
export function requirePrimary<T>(work: PrimaryWork<T>): Promise<T> {
  if (defaultNode === null) return Promise.reject(new NoDefaultNodeError());
  return defaultNode.requirePrimary(work);
}
