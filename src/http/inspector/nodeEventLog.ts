/**
 * A node's own event log: every change of its statechart's state, with the event that caused it, as JSON-ready
 * entries in a bounded ring. The inspector page shows it live, `/ag/inspect/log` serves it as JSON lines, and
 * `agctl inspect --trace` replays a saved copy.
 */
import { appendFile, writeFile } from 'node:fs/promises';
import type { AnyActorRef, InspectionEvent, StateValue } from 'xstate';
import type { NodeContext } from '../../../machines/nodeMachine.types.js';
import { transitionOf } from '../../node/transitionLog.js';
import { EventId } from '../../api/constants.js';
import { chartModel, eventLabel, type ChartModel } from '../../inspect/chartModel.js';
import { formatWallTime, systemClock, type Clock } from '../../node/clock.js';
import type { AvailabilityNode } from '../../node/createNode.js';

/** Name and version of the node event log format (JSON lines: this header, then one {@link NodeLogEntry} a line). */
export const NODE_LOG_FORMAT = 'ag-node-log';
export const NODE_LOG_VERSION = 1;

/** The first line of a node event log file. */
export interface NodeLogHeader {
  readonly format: typeof NODE_LOG_FORMAT;
  readonly version: typeof NODE_LOG_VERSION;
  readonly node: string;
}

/**
 * One change of the node's state. The fields match the simulator's `transition` trace entries (docs/trace-format.md),
 * so one viewer replays both; `from`, `eventLabel`, `value` and `at` are this log's additions.
 */
export interface NodeLogEntry {
  readonly kind: 'transition';
  /** Milliseconds since the log started, on the node's monotonic clock. */
  readonly t: number;
  /** Wall-clock time, for display only (ISO-8601 UTC). */
  readonly at: string;
  readonly node: string;
  /** The state label before (machines/stateLabel.ts); null for the first entry. */
  readonly from: string | null;
  /** The state label after. */
  readonly state: string;
  /** The state value after (what the label abbreviates). */
  readonly value: StateValue;
  /** The event type that caused it; `(attached)` for the state found when the log started following a node. */
  readonly event: string;
  /** The event as people read it (`after standbyCheckInterval`, `done: readGroupRecords`). */
  readonly eventLabel: string;
  readonly role: string | null;
  readonly epoch: number;
  /** Own sequence number on a Primary, newest seen sequence number otherwise. */
  readonly seq: number | null;
  readonly dnsConnection: string;
  /** The node's monotonic clock at the change (ms). */
  readonly monotonic: number;
}

/** What the log reads from a node actor's snapshot. */
type NodeSnapshotLike = { readonly value: StateValue; readonly context: NodeContext };

/** The event type of the entry recorded when a log starts following a running node. */
export const ATTACHED_EVENT = '(attached)';

/** Default number of entries kept. */
export const DEFAULT_LOG_CAPACITY = 500;

/**
 * Records a node's state changes. Wire it either as the node's `inspect` port (`createNode(settings, { inspect:
 * log.inspect })`: sees every transition from the start) or with `log.follow(node)` (attaches to the running actor
 * and re-attaches after a restart). Only changes of the state label (or of maintenance mode) are recorded, so wiring both
 * records nothing twice.
 *
 * @example
 * const log = new NodeEventLog();
 * const node = createNode(settings, { ...inMemoryPorts(), inspect: log.inspect });
 * await node.start();
 * log.entries().at(-1)?.state // 'notInGroup'
 */
export class NodeEventLog {
  readonly #capacity: number;
  readonly #clock: Clock;
  readonly #model: ChartModel;
  readonly #startedAt: number;
  readonly #entries: NodeLogEntry[] = [];
  readonly #listeners = new Set<(entry: NodeLogEntry) => void>();
  #lastLabel: string | null = null;
  /** Maintenance mode at the last entry: a change is recorded even without a change of state (the page's badge). */
  #lastMaintenance = false;
  /** The application health verdict at the last entry (rule 10). */
  #lastApplicationHealth: string | null = null;
  #dropped = 0;
  #followed: AnyActorRef | null = null;
  #unfollow: (() => void) | null = null;

  constructor(options: { capacity?: number; clock?: Clock; model?: ChartModel } = {}) {
    this.#capacity = options.capacity ?? DEFAULT_LOG_CAPACITY;
    this.#clock = options.clock ?? systemClock;
    this.#model = options.model ?? chartModel();
    this.#startedAt = this.#clock.monotonicNow();
  }

  /** The inspection observer to pass as createNode's `inspect` port. */
  readonly inspect = (event: InspectionEvent): void => {
    // Only the node's own actor (the root), not the I/O actors it invokes.
    if (event.type !== '@xstate.snapshot' || event.actorRef.sessionId !== event.rootId) return;
    this.#record(event.snapshot as unknown as NodeSnapshotLike, event.event.type);
  };

  /**
   * Follows `node`'s running actor, now and after every restart (a restart announces its first role, which
   * re-attaches the log). Returns a function that stops following.
   */
  follow(node: AvailabilityNode): () => void {
    this.#attach(node.actor);
    const unsubscribe = node.subscribe(EventId.NODE_ROLE_CHANGED, () => this.#attach(node.actor));
    return () => {
      unsubscribe();
      this.#unfollow?.();
      this.#unfollow = null;
      this.#followed = null;
    };
  }

  /** The entries kept, oldest first. */
  entries(): readonly NodeLogEntry[] {
    return this.#entries;
  }

  /** How many old entries the ring dropped. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Calls `listener` with every new entry; returns an unsubscribe function. A listener that throws is dropped. */
  subscribe(listener: (entry: NodeLogEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The log as JSON lines: a {@link NodeLogHeader}, then the entries kept. */
  toJsonLines(): string {
    const node = this.#entries[0]?.node ?? '';
    return [this.#header(node), ...this.#entries].map((line) => JSON.stringify(line)).join('\n') + '\n';
  }

  /**
   * Writes the log to `path` now and appends every new entry as it is recorded (in order). Returns a function that
   * stops writing and resolves once the pending writes are done.
   */
  async writeTo(path: string): Promise<() => Promise<void>> {
    await writeFile(path, this.toJsonLines());
    let pending: Promise<void> = Promise.resolve();
    const unsubscribe = this.subscribe((entry) => {
      pending = pending.then(() => appendFile(path, `${JSON.stringify(entry)}\n`));
    });
    return async () => {
      unsubscribe();
      await pending;
    };
  }

  #header(node: string): NodeLogHeader {
    return { format: NODE_LOG_FORMAT, version: NODE_LOG_VERSION, node };
  }

  #attach(actor: AnyActorRef | null): void {
    if (actor === null || actor === this.#followed) return;
    this.#unfollow?.();
    this.#followed = actor;
    const subscription = actor.system.inspect(this.inspect);
    this.#unfollow = () => subscription.unsubscribe();
    this.#record(actor.getSnapshot() as NodeSnapshotLike, ATTACHED_EVENT);
  }

  #record(snapshot: NodeSnapshotLike, eventType: string): void {
    const view = transitionOf(snapshot);
    const label = view.state;
    const { context } = snapshot;
    const maintenance = context.maintenance?.enabled === true;
    // Rule 10: a change of the application health verdict is recorded too (the page's application badge).
    const applicationHealth = context.health.applicationHealth ?? null;
    if (label === this.#lastLabel && maintenance === this.#lastMaintenance && applicationHealth === this.#lastApplicationHealth) return;
    this.#lastMaintenance = maintenance;
    this.#lastApplicationHealth = applicationHealth;
    const monotonic = this.#clock.monotonicNow();
    const entry: NodeLogEntry = {
      kind: 'transition',
      t: Math.round((monotonic - this.#startedAt) * 1000) / 1000,
      at: formatWallTime(this.#clock.wallNow()),
      node: context.nodeId,
      from: this.#lastLabel,
      state: label,
      value: snapshot.value,
      event: eventType,
      eventLabel: eventType === ATTACHED_EVENT ? eventType : eventLabel(this.#model, eventType),
      role: view.role,
      epoch: view.epoch,
      seq: view.seq,
      dnsConnection: view.dnsConnection,
      monotonic,
    };
    this.#lastLabel = label;
    this.#entries.push(entry);
    if (this.#entries.length > this.#capacity) {
      this.#entries.shift();
      this.#dropped += 1;
    }
    for (const listener of [...this.#listeners]) {
      try {
        listener(entry);
      } catch {
        // A broken listener (a closed stream) must not stop the recording or the other listeners.
        this.#listeners.delete(listener);
      }
    }
  }
}
