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
import { GroupOperationError, MembershipError } from '../api/errors.js';
import type { MemberAddress } from '../peer/peerMessages.js';
import type { PeerTransport } from '../peer/peerTransport.js';
import { stampOf, type Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { NodeStore, PersistedNode } from './nodeStore.js';
import type { Settings } from './settings.js';

/** Where the node with `settings` listens, as a group member. */
export function memberOf(settings: Settings): MemberAddress {
  return { nodeId: settings.nodeId, address: settings.externalIpv4Address, port: settings.externalPort, scheme: settings.externalScheme };
}

/** The shared state and operations of one node. */
export class NodeCore {
  /** The validated settings in force. */
  settings: Settings;
  /** The other member of the group, when known. */
  peerMember: MemberAddress | null = null;
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

  /**
   * Creates (does not start) the node's actor of `machine`, from the settings and the persisted epoch and
   * maintenance flag, on the node's clock; `inspect` sees its inspection events. It becomes {@link actor}.
   */
  createActor(machine: NodeMachine, inGroup: boolean, inspect: (event: InspectionEvent) => void): Actor<NodeMachine> {
    const { settings, clock } = this;
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
        peer: this.peerMember,
        epoch: Math.max(this.persistedEpoch, context?.epoch ?? 0),
        ...(this.persistedMaintenance.version === 0 ? {} : { maintenance: this.persistedMaintenance }),
      },
    };
    await this.store.save(state);
  }
}
