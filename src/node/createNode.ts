/**
 * `createNode` wires one group member from its parts: the statechart over I/O actors (nodeActors.ts), membership,
 * settings sync, peer inbox, manual failover, state view, transition log, health check; shared state: nodeCore.ts.
 */
import type { Actor, InspectionEvent } from 'xstate';
import { nodeMachine, type NodeEmitted, type NodeMachine } from '../../machines/nodeMachine.js';
import { NO_MAINTENANCE, type MaintenanceFlag } from '../../machines/maintenance.js';
import type { NodeSnapshot } from '../../machines/nodeReplies.js';
import { peerIsHealthyAt } from '../../machines/nodeRules.js';
import { snapshotLabel } from '../../machines/stateLabel.js';
import { EventId, NodeRole, type EventId as EventIdType } from '../api/constants.js';
import { MembershipError, NotActingPrimaryError } from '../api/errors.js';
import type { NodeEvent } from '../api/events.js';
import type { GroupMember, GroupMembers, NodeState } from '../api/nodeState.js';
import type { DnsAuthority } from '../dns/dnsAuthority.js';
import type { PeerMessage, PeerReplyTo } from '../peer/peerMessages.js';
import type { AvailabilityNode, LeaveResult, NodePorts, PrimaryWork, SettingsUpdate } from './availabilityNode.js';
import { formatWallTime, stampOf, systemClock } from './clock.js';
import { HealthCheckRunner } from './healthCheckRunner.js';
import { observeHeartbeatSends } from './heartbeatJitter.js';
import { silentLogger } from './logger.js';
import { ManualFailover } from './manualFailover.js';
import { Membership } from './membership.js';
import { CoordinationAuthority } from './coordinationAuthority.js';
import { AuthorityWatch } from './authorityWatch.js';
import { createNodeActors } from './nodeActors.js';
import { NodeCore } from './nodeCore.js';
import { InMemoryNodeStore, persistedMembers } from './nodeStore.js';
import { PeerInbox } from './peerInbox.js';
import { requirePorts } from './requirePorts.js';
import { GROUP_SETTING_FIELDS, groupSettingsFingerprint, loadSettings, type Settings, type SettingsInput } from './settings.js';
import { mergeSettings, SettingsSync } from './settingsSync.js';
import { allMembersOf, knowsItsRole, membersOf, nodeStateOf } from './stateView.js';
import { SubscriberRegistry, type Subscriber } from './subscriptions.js';
import { TransitionLog } from './transitionLog.js';
import { liveInspectionUrl, startLiveInspection, type LiveInspection } from '../inspect/liveInspector.js';

export type { AvailabilityNode, LeaveResult, NodePorts, PrimaryWork, SettingsUpdate } from './availabilityNode.js';

/**
 * Creates a node from settings (validated now: a `SettingsError` names every bad field) and ports. Nothing runs
 * until `start()`. A node never falls back to in-memory ports: without `ports.dns` it uses the real DNS client of
 * `dns_server` (a `SettingsError` names `tsig_name`/`tsig_secret` when the key is missing), or with
 * `coordination: "etcd"` the etcd client of `etcd_endpoints` (DNS then optional: with `dns_server` and the TSIG
 * key the acting Primary also keeps the group's A record, best effort); `ports.peer` is
 * required (a `NodePortsError` says how to get one: `inMemoryPorts()` in one process, `startNetworkedNode` on the
 * network).
 *
 * @example
 * const node = createNode({ node_id: 'a', external_ipv4_address: '127.0.0.2', group_fqdn: 'app.example.test' }, inMemoryPorts());
 * await node.start();
 * await node.createGroup();
 * node.subscribe(EventId.NODE_ROLE_CHANGED, (change) => console.log(change.previous, '->', change.new));
 */
export function createNode(settings: SettingsInput | Settings, ports: NodePorts = {}): AvailabilityNode {
  const loaded = isSettings(settings) ? settings : loadSettings(settings);
  requirePorts(loaded, ports);
  return new Node(loaded, ports);
}

function isSettings(value: SettingsInput | Settings): value is Settings {
  return typeof (value as Settings).timers === 'object' && typeof (value as Settings).record === 'object';
}

class Node implements AvailabilityNode {
  readonly #core: NodeCore;
  readonly #dns: DnsAuthority;
  /** The authority this node built from its settings (no `ports.dns`: DNS or etcd by `coordination`): closed when the node stops. */
  readonly #ownDns: CoordinationAuthority | null;
  readonly #ports: NodePorts;
  readonly #subscribers: SubscriberRegistry;
  readonly #membership: Membership;
  readonly #settingsSync: SettingsSync;
  readonly #inbox: PeerInbox;
  readonly #healthCheck: HealthCheckRunner;
  readonly #transitions: TransitionLog;
  readonly #failover: ManualFailover;
  /** The watch of the group on the authority, when it has one (etcd): the Secondary sees progress as it is committed. */
  readonly #authorityWatch: AuthorityWatch;
  #stopListening: (() => Promise<void>) | null = null;
  #live: LiveInspection | null = null;

  constructor(settings: Settings, ports: NodePorts) {
    this.#ports = ports;
    const clock = ports.clock ?? systemClock;
    const logger = (ports.logger ?? silentLogger()).child({ node: settings.nodeId });
    const core = new NodeCore(settings, clock, logger, ports.store ?? new InMemoryNodeStore());
    this.#core = core;
    // createNode checked the ports: a missing DNS port means dns_server and the TSIG key are set, or coordination
    // etcd with etcd_endpoints (then dns_server and the TSIG key, when set, add the DNS mirror of the A record).
    this.#ownDns = ports.dns === undefined ? new CoordinationAuthority({ settings: () => core.settings, logger }) : null;
    this.#dns = ports.dns ?? this.#ownDns!;
    // The heartbeat send jitter of /metrics is measured on the way out (heartbeatJitter.ts).
    core.peer = observeHeartbeatSends(this, ports.peer!, clock, () => core.settings.timers.heartbeatIntervalMs);
    this.#subscribers = new SubscriberRegistry(logger);
    this.#membership = new Membership(core);
    this.#settingsSync = new SettingsSync(core);
    this.#inbox = new PeerInbox(core, this.#membership, this.#settingsSync);
    this.#healthCheck = new HealthCheckRunner(core, ports.applicationHealth);
    core.onSettingsRun = () => this.#healthCheck.configure(false);
    this.#transitions = new TransitionLog(logger);
    this.#failover = new ManualFailover(core);
    this.#authorityWatch = new AuthorityWatch(core, this.#dns);
  }

  get nodeId(): string {
    return this.#core.nodeId;
  }
  get settings(): Settings {
    return this.#core.settings;
  }
  get actor(): Actor<NodeMachine> | null {
    return this.#core.actor;
  }

  async start(): Promise<void> {
    const core = this.#core;
    if (core.actor !== null) throw new MembershipError('This node is already started.');
    const persisted = await core.store.load();
    const inGroup = persisted?.membership.inGroup ?? false;
    if (persisted !== null) {
      core.settings = mergeSettings(persisted.settings, inGroup ? GROUP_SETTING_FIELDS : [], core.settings.record);
      core.members = persistedMembers(persisted.membership);
      core.persistedEpoch = persisted.membership.epoch;
      core.persistedMaintenance = persisted.membership.maintenance ?? NO_MAINTENANCE;
    }
    // Before the node can act: an etcd client loads its library outside any lease (CoordinationAuthority.prepare).
    this.#ownDns?.prepare();
    const machine = (this.#ports.machine ?? nodeMachine).provide({
      actors: createNodeActors({
        clock: core.clock,
        dns: this.#dns,
        peer: core.peer,
        logger: core.logger,
        groupFqdn: () => core.settings.groupFqdn ?? '',
        ttl: () => core.settings.groupFqdnTtl,
        address: () => core.settings.externalIpv4Address,
        peerSelfId: () => core.settings.nodeId,
        otherMembers: () => core.members,
        primaryMember: () => core.primaryMember(),
        handoverMember: (askedBy) => core.handoverMember(askedBy),
        groupSettingsFingerprint: () => groupSettingsFingerprint(core.settings.record),
        peerRunsOtherSettings: () => this.#settingsSync.repair(),
      }),
    });
    // Live inspection (@statelyai/inspect) only when switched on: by the setting `inspect` or AG_INSPECT.
    const liveUrl = liveInspectionUrl(core.settings);
    this.#live = liveUrl === null ? null : await startLiveInspection(liveUrl);
    const actor = core.createActor(machine, inGroup, (event) => this.#onInspection(event));
    actor.on('*', (emitted) => this.#publish(emitted as NodeEmitted));
    actor.subscribe({
      next: (snapshot) => {
        core.persistChanges(snapshot);
        core.tellTakeoverOrder();
        this.#authorityWatch.sync();
      },
      error: (error) => core.logger.fatal({ err: error }, 'node statechart failed'),
    });
    this.#stopListening = await core.peer.listen(core.self(), (message) => this.receivePeerMessage(message));
    actor.start();
    this.#authorityWatch.sync();
    this.#healthCheck.configure(true);
    core.logger.info({ state: snapshotLabel(actor.getSnapshot()), inGroup }, 'node started');
    await core.settle(knowsItsRole);
  }

  async stop(options: { handOver?: boolean } = {}): Promise<void> {
    const core = this.#core;
    const actor = core.actor;
    if (actor === null) return;
    const peerHealthy = core.peerMember !== null && peerIsHealthyAt(actor.getSnapshot().context, core.clock.monotonicNow());
    if ((options.handOver ?? true) && this.isActingPrimary() && peerHealthy) {
      try {
        await this.failover();
      } catch (error) {
        core.logger.warn({ err: error }, 'handover before stop failed; stopping anyway');
      }
    }
    this.#healthCheck.stop();
    actor.stop();
    this.#live?.stop();
    this.#live = null;
    core.actor = null;
    await this.#stopListening?.();
    this.#stopListening = null;
    this.#authorityWatch.stop();
    await this.#ownDns?.close();
    core.logger.info('node stopped');
  }

  getNodeState(): NodeState {
    return nodeStateOf(this.#core.snapshot(), this.#core.clock.monotonicNow(), this.members());
  }

  subscribe<E extends EventIdType>(eventId: E, callback: Subscriber<E>): () => void {
    return this.#subscribers.subscribe(eventId, callback);
  }

  isActingPrimary(): boolean {
    return this.#core.isActingPrimary();
  }

  async requirePrimary<T>(work: PrimaryWork<T>): Promise<T> {
    if (!this.isActingPrimary()) throw new NotActingPrimaryError(this.getNodeState().nodeRole);
    const controller = new AbortController();
    const unsubscribe = this.subscribe(EventId.LEASE_LOST, () => controller.abort(new NotActingPrimaryError(NodeRole.SECONDARY)));
    try {
      return await work({ signal: controller.signal, epoch: this.#core.snapshot().context.epoch });
    } finally {
      unsubscribe();
    }
  }

  createGroup(changes: Partial<SettingsInput> = {}): Promise<void> {
    return this.#membership.create(changes);
  }

  joinGroup(primary: { address: string; port?: number; scheme?: 'http' | 'https' }, changes: Partial<SettingsInput> = {}): Promise<void> {
    return this.#membership.join(primary, changes);
  }

  leaveGroup(): Promise<LeaveResult> {
    return this.#membership.leave();
  }

  removeMember(nodeId: string): Promise<LeaveResult> {
    return this.#membership.remove(nodeId);
  }

  failover(options: { to?: string } = {}): Promise<void> {
    return this.#failover.run(options);
  }

  updateSettings(changes: Partial<SettingsInput>): Promise<SettingsUpdate> {
    return this.#settingsSync.update(changes);
  }

  changeGroupSettingsOnPrimary(changes: Partial<SettingsInput>): Promise<SettingsUpdate> {
    return this.#settingsSync.changeOnPrimary(changes);
  }

  async setMaintenance(enabled: boolean): Promise<MaintenanceFlag> {
    const core = this.#core;
    if (!core.snapshot().context.inGroup) throw new MembershipError('Maintenance mode pauses a group; this node is not in a group.');
    core.send({ type: 'MAINTENANCE_REQUESTED', enabled, at: stampOf(core.clock) });
    // The transition persisted a change already (NodeCore.persistChanges); this waits for that write, or makes one.
    await core.persist();
    return core.snapshot().context.maintenance;
  }

  receivePeerMessage<M extends PeerMessage>(message: M): Promise<PeerReplyTo<M>> {
    return this.#inbox.receive(message);
  }

  members(): GroupMembers {
    return membersOf(this.#core.currentSnapshot(), this.#core.self(), this.#core.members);
  }

  allMembers(): readonly GroupMember[] {
    return allMembersOf(this.#core.currentSnapshot(), this.#core.self(), this.#core.members);
  }

  #publish(emitted: NodeEmitted): void {
    const { type, ...payload } = emitted;
    // NODE_ROLE_CHANGED also carries the role under `role`, the same value as the product's `new`.
    const alias = emitted.type === EventId.NODE_ROLE_CHANGED ? { role: emitted.new } : {};
    const event = { eventId: type, ...payload, ...alias, at: formatWallTime(this.#core.clock.wallNow()) } as NodeEvent;
    this.#core.logger.info({ event, step: this.#transitions.step }, type);
    this.#subscribers.publish(type, event as never);
  }

  #onInspection(event: InspectionEvent): void {
    this.#ports.inspect?.(event);
    this.#live?.inspect(event);
    if (event.type !== '@xstate.snapshot' || event.actorRef !== this.#core.actor) return;
    // XState runs a step's emits (deferred) before it reports the step's snapshot: they were logged with this step's number.
    this.#transitions.record(event.snapshot as NodeSnapshot, event.event.type);
  }
}
