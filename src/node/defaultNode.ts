import type { EventId } from '../api/constants.js';
import { NoDefaultNodeError } from '../api/errors.js';
import type { NodeState } from '../api/nodeState.js';
import type { AvailabilityNode, PrimaryWork } from './createNode.js';
import type { Subscriber } from './subscriptions.js';
import { assertEventId } from './subscriptions.js';

interface PendingSubscription {
  readonly eventId: EventId;
  readonly callback: Subscriber<EventId>;
  unsubscribe: (() => void) | null;
}

/**
 * The process's default node and the module-level subscriptions, so a workflow can be written the way the product's
 * docs show: `getNodeState()` and `subscribe(eventId, callback)` without holding a node object. Kept on `globalThis`
 * under a registered symbol, so that every copy of this library loaded in one process (a workflow that resolves
 * `availability-group` to another install than the `agctl` that loads it) shares the one default node.
 */
interface DefaultNodeRegistry {
  node: AvailabilityNode | null;
  readonly subscriptions: Set<PendingSubscription>;
}
const REGISTRY_KEY = Symbol.for('availability-group.defaultNode');
const registry: DefaultNodeRegistry = ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] ??= {
  node: null,
  subscriptions: new Set<PendingSubscription>(),
}) as DefaultNodeRegistry;
const subscriptions = registry.subscriptions;

/**
 * Makes `node` the process's default node (or clears it with null); it is the only way one is set. Module-level
 * subscriptions move to it. Set it before `node.start()` so that subscribers see the first `NODE_ROLE_CHANGED`
 * (`previous: null`). `agctl start` does this for the node it runs, before the node starts.
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
  registry.node = node;
}

/** The default node, or null. */
export function getDefaultNode(): AvailabilityNode | null {
  return registry.node;
}

/**
 * The default node's state (the product's `get_node_state()`), with the lease checked at the instant of the call.
 * Throws `NoDefaultNodeError` when no default node is set (see {@link setDefaultNode}), and `MembershipError` while
 * the default node is not started yet.
 *
 * @example
 * if (getNodeState().actingPrimary) runBatch();
 */
export function getNodeState(): NodeState {
  const node = registry.node;
  if (node === null) throw new NoDefaultNodeError();
  return node.getNodeState();
}

/**
 * Subscribes to the default node's events (the product's `subscribe(event_id, callback)`). A subscription made
 * before a default node is set starts when one is. Returns an unsubscribe function. Throws a TypeError listing the
 * valid ids when `eventId` is unknown.
 *
 * @example
 * subscribe(EventId.NODE_ROLE_CHANGED, ({ previous, role }) => console.log(previous, '->', role));
 */
export function subscribe<E extends EventId>(eventId: E, callback: Subscriber<E>): () => void {
  assertEventId(eventId);
  const subscription: PendingSubscription = {
    eventId,
    callback: callback as Subscriber<EventId>,
    unsubscribe: registry.node === null ? null : registry.node.subscribe(eventId, callback),
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
  const node = registry.node;
  if (node === null) return Promise.reject(new NoDefaultNodeError());
  return node.requirePrimary(work);
}
