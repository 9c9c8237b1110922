/**
 * What the parts of a node share (membership, settings sync, peer inbox, the node itself): its settings and other
 * member, its running actor, and the few operations on them: send an event, wait for a snapshot, persist.
 * Internal to `src/node`; `createNode` builds one per node.
 */
import { createActor, type Actor, type InspectionEvent } from 'xstate';
import { NO_MAINTENANCE, type MaintenanceFlag } from '../../machines/maintenance.js';
import type { NodeMachine } from '../../machines/nodeMachine.js';
import type { NodeCommandEvent } from '../../machines/nodeMachine.types.js';
import type { NodeSnapshot } from '../../machines/nodeReplies.js';
import { leaseIsValidAt } from '../../machines/nodeRules.js';
import { NodeRole } from '../api/constants.js';
import { GroupOperationError, MembershipError } from '../api/errors.js';
import type { MemberAddress } from '../peer/peerMessages.js';
import type { PeerTransport } from '../peer/peerTransport.js';
import { stampOf, type Clock } from './clock.js';
import type { Logger } from './logger.js';
import { inTakeoverOrder, takeoverRank } from './memberList.js';
import type { NodeStore, PersistedNode } from './nodeStore.js';
import type { Settings } from './settings.js';

/** Where the node with `settings` listens, as a group member, with its takeover priority. */
export function memberOf(settings: Settings): MemberAddress {
  return { nodeId: settings.nodeId, address: settings.externalIpv4Address, port: settings.externalPort, scheme: settings.externalScheme, priority: settings.priority };
}

/** The shared state and operations of one node. */
export class NodeCore {
  /** The validated settings in force. */
  settings: Settings;
  /**
   * The other members of the group (never this node), as this node joined it or as its Primary last told it; two
   * members (the product's group) means one here.
   */
  members: readonly MemberAddress[] = [];
  /** The member a manual failover asked here hands over to (`failover({ to })`); null: the first in the takeover order. */
  handoverTarget: string | null = null;
  /** The takeover rank delay last told to the machine (ms): the node tells it again only when it changes. */
  #takeoverRankDelayMs = 0;
  /** What the rank delay last told was computed from. */
  #takeoverOrderBasis: { holder: string | null; members: readonly MemberAddress[]; settings: Settings } | null = null;
  /** The running actor; null before start and after stop. */
  actor: Actor<NodeMachine> | null = null;
  /** The newest epoch persisted. */
  persistedEpoch = 0;
  /** The maintenance flag as last persisted (rule 9): a change is persisted after the transition that made it. */
  persistedMaintenance: MaintenanceFlag = NO_MAINTENANCE;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly store: NodeStore;
  /** The direct path to the peer (set once, by the node's constructor). */
  peer!: PeerTransport;
  /** Called after new settings are put in force (the node restarts its application health check if they changed it). */
  onSettingsRun: () => void = () => undefined;

  constructor(settings: Settings, clock: Clock, logger: Logger, store: NodeStore) {
    this.settings = settings;
    this.clock = clock;
    this.logger = logger;
    this.store = store;
  }

  get nodeId(): string {
    return this.settings.nodeId;
  }

  /** The other member `nodeId`, or null when it is not one. */
  member(nodeId: string | null): MemberAddress | null {
    return nodeId === null ? null : (this.members.find((member) => member.nodeId === nodeId) ?? null);
  }

  /**
   * The Primary this node follows: the member the newest heartbeat or records name (the holder of its epoch); in a
   * two-member group, the other member whatever is known. Step-down requests and settings changes go there.
   */
  primaryMember(): MemberAddress | null {
    const holder = this.currentSnapshot()?.context.holder ?? null;
    const named = this.member(holder);
    if (named !== null) return named;
    return this.members.length === 1 ? this.members[0]! : null;
  }

  /**
   * The member a handover goes to: the Secondary that asked for it (`askedBy`), else the one a failover asked here
   * named ({@link handoverTarget}), else the first Secondary in the takeover order.
   */
  handoverMember(askedBy: string | null = null): MemberAddress | null {
    const asker = askedBy === this.nodeId ? null : this.member(askedBy);
    return asker ?? this.member(this.handoverTarget) ?? inTakeoverOrder(this.members)[0] ?? null;
  }

  /**
   * The other member as the two-member group knows it: for a Primary (or the holder of the epoch) the member a
   * handover goes to, for a Secondary its Primary.
   */
  get peerMember(): MemberAddress | null {
    const context = this.currentSnapshot()?.context;
    if (context !== undefined && (context.role === NodeRole.PRIMARY || context.holder === this.nodeId)) return this.handoverMember(context.failover.handoverAskedBy);
    return this.primaryMember();
  }

  /**
   * Tells the machine its place in the takeover order (docs/design.md rule 1): rank × the standby check interval
   * added to its absence deadline. Called after every transition and member-list change; sends only on a change.
   */
  tellTakeoverOrder(): void {
    const snapshot = this.currentSnapshot();
    if (snapshot === null || this.actor === null) return;
    // After every transition: recomputed only when what it depends on changed (the simulator runs many steps).
    const basis = this.#takeoverOrderBasis;
    const holder = snapshot.context.holder;
    if (basis !== null && basis.holder === holder && basis.members === this.members && basis.settings === this.settings) return;
    this.#takeoverOrderBasis = { holder, members: this.members, settings: this.settings };
    const rank = takeoverRank(this.self(), this.members, holder);
    const delay = rank * this.settings.timers.checkIntervalMs;
    if (delay === this.#takeoverRankDelayMs) return;
    this.#takeoverRankDelayMs = delay;
    this.actor.send({ type: 'TAKEOVER_ORDER_CHANGED', takeoverRankDelayMs: delay });
  }

  /**
   * Creates (does not start) the node's actor of `machine`, from the settings and the persisted epoch and
   * maintenance flag, on the node's clock; `inspect` sees its inspection events. It becomes {@link actor}.
   */
  createActor(machine: NodeMachine, inGroup: boolean, inspect: (event: InspectionEvent) => void): Actor<NodeMachine> {
    const { settings, clock } = this;
    this.#takeoverRankDelayMs = 0;
    this.#takeoverOrderBasis = null;
    this.actor = createActor(machine, {
      input: {
        nodeId: settings.nodeId,
        address: settings.externalIpv4Address,
        timers: settings.timers,
        inGroup,
        epoch: this.persistedEpoch,
        maintenance: this.persistedMaintenance,
      },
      clock: { setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (id) => clock.clearTimeout(id) },
      inspect,
    });
    return this.actor;
  }

  /** Where this node listens, as a group member. */
  self(): MemberAddress {
    return memberOf(this.settings);
  }

  /** The snapshot now; `MembershipError` when the node is not started. */
  snapshot(): NodeSnapshot {
    if (this.actor === null) throw new MembershipError('This node is not started: call start() first.');
    return this.actor.getSnapshot();
  }

  /** The snapshot now, or null when the node is not started. */
  currentSnapshot(): NodeSnapshot | null {
    return this.actor?.getSnapshot() ?? null;
  }

  /** Sends `event` to the machine; `MembershipError` when the node is not started. */
  send(event: NodeCommandEvent): void {
    if (this.actor === null) throw new MembershipError('This node is not started: call start() first.');
    this.actor.send(event);
  }

  /** Role primary and a lease valid now (rule 7). */
  isActingPrimary(): boolean {
    return this.actor !== null && leaseIsValidAt(this.actor.getSnapshot().context, this.clock.monotonicNow());
  }

  /** Puts `next` in force: the settings, and the statechart's timers. Persisting is the caller's business. */
  runSettings(next: Settings): void {
    this.settings = next;
    this.send({ type: 'SETTINGS_CHANGED', timers: next.timers, at: stampOf(this.clock) });
    this.onSettingsRun();
  }

  /** Resolves with the first snapshot (now or later) that satisfies `done`; rejects if the node stops first. */
  settle(done: (snapshot: NodeSnapshot) => boolean): Promise<NodeSnapshot> {
    const actor = this.actor;
    if (actor === null) return Promise.reject(new MembershipError('This node is not started.'));
    const now = actor.getSnapshot();
    if (done(now)) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const subscription = actor.subscribe({
        next: (snapshot) => {
          if (!done(snapshot)) return;
          subscription.unsubscribe();
          resolve(snapshot);
        },
        complete: () => reject(new GroupOperationError('The node stopped before the operation completed.')),
      });
    });
  }

  /** Like {@link settle}, but gives up after `ms` on the node's clock: resolves with null then. */
  settleWithin(ms: number, done: (snapshot: NodeSnapshot) => boolean): Promise<NodeSnapshot | null> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => resolve(null), ms);
      this.settle(done).then(
        (snapshot) => {
          this.clock.clearTimeout(timer);
          resolve(snapshot);
        },
        () => {
          this.clock.clearTimeout(timer);
          resolve(null);
        },
      );
    });
  }

  /** After each transition: persists a newer epoch, and a changed maintenance flag (logged when it switches). */
  persistChanges(snapshot: NodeSnapshot): void {
    if (snapshot.context.epoch > this.persistedEpoch) {
      this.persistedEpoch = snapshot.context.epoch;
      this.persist().catch((error) => this.logger.error({ err: error }, 'could not persist the epoch'));
    }
    const maintenance = snapshot.context.maintenance;
    if (maintenance === this.persistedMaintenance) return;
    const previous = this.persistedMaintenance;
    this.persistedMaintenance = maintenance;
    if (maintenance.enabled !== previous.enabled) {
      this.logger.info(
        { maintenance: maintenance.enabled, by: maintenance.by, version: maintenance.version },
        maintenance.enabled ? 'maintenance mode on: automatic takeover paused' : 'maintenance mode off: automatic takeover resumed',
      );
    }
    this.persist().catch((error) => this.logger.error({ err: error }, 'could not persist the maintenance flag'));
  }

  /** Saves settings and membership (with the newest epoch and the maintenance flag) to the store. */
  async persist(): Promise<void> {
    const context = this.actor?.getSnapshot().context;
    const state: PersistedNode = {
      settings: this.settings.record,
      membership: {
        inGroup: context?.inGroup ?? false,
        // `peer` for nodes of earlier versions (one other member); `members` the whole list.
        peer: this.members[0] ?? null,
        ...(this.members.length > 1 ? { members: this.members } : {}),
        epoch: Math.max(this.persistedEpoch, context?.epoch ?? 0),
        ...(this.persistedMaintenance.version === 0 ? {} : { maintenance: this.persistedMaintenance }),
      },
    };
    await this.store.save(state);
  }
}
