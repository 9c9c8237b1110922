import { createActor, type Actor, type InspectionEvent } from 'xstate';
import type { Logger } from './logger.js';
import { nodeMachine, type NodeEmitted, type NodeMachine } from '../../machines/nodeMachine.js';
import type { NodeCommandEvent } from '../../machines/nodeMachine.types.js';
import { NO_MAINTENANCE, type MaintenanceFlag } from '../../machines/maintenance.js';
import { handoverProbeReplyFor, handoverReplyFor, heartbeatAckFor, heartbeatRefusalFor, stepDownReplyFor, type NodeSnapshot } from '../../machines/nodeReplies.js';
import { leaseIsValidAt, peerIsHealthyAt } from '../../machines/nodeRules.js';
import { stateLabel, topState } from '../../machines/stateLabel.js';
import { EventId, NodeRole, type EventId as EventIdType } from '../api/constants.js';
import {
  FailoverError,
  HeartbeatRefusedError,
  GroupFullError,
  GroupOperationError,
  MembershipError,
  NodePortsError,
  NoSuchMemberError,
  NotActingPrimaryError,
  PeerMessageRejectedError,
  SettingsError,
  type SettingsIssue,
} from '../api/errors.js';
import type { NodeEvent } from '../api/events.js';
import type { GroupMembers, NodeState } from '../api/nodeState.js';
import type { DnsAuthority } from '../dns/dnsAuthority.js';
import { SettingsDnsAuthority } from '../dns/settingsDnsAuthority.js';
import {
  peerMessageSender,
  type GroupSettingsChangeMessage,
  type GroupSettingsChangeReply,
  type GroupSettingsMessage,
  type GroupSettingsReply,
  type JoinReply,
  type LeaveMessage,
  type LeaveReply,
  type MemberAddress,
  type PeerMessage,
  type PeerReplyTo,
} from '../peer/peerMessages.js';
import type { PeerTransport } from '../peer/peerTransport.js';
import { formatWallTime, stampOf, systemClock, type Clock } from './clock.js';
import { silentLogger } from './logger.js';
import { createNodeActors } from './nodeActors.js';
import { ApplicationHealthChecker } from './applicationHealthChecker.js';
import { probeFromSettings, type ApplicationHealthProbe } from './applicationHealthProbe.js';
import { InMemoryNodeStore, type NodeStore, type PersistedNode } from './nodeStore.js';
import {
  GROUP_SETTING_FIELDS,
  groupSettingsFingerprint,
  groupSettingsOf,
  loadSettings,
  groupChangeIssues,
  isGroupSettingField,
  type Settings,
  type SettingsInput,
  type SettingsRecord,
} from './settings.js';
import { SubscriberRegistry, type Subscriber } from './subscriptions.js';
import { liveInspectionUrl, startLiveInspection, type LiveInspection } from '../inspect/liveInspector.js';

/**
 * The ports a node runs on. `dns` and `peer` have no in-memory default: pass them (`inMemoryPorts()` for a node
 * inside this process), or let the settings build them (`dns_server` and the TSIG key give the real DNS client;
 * the signed HTTP peer transport needs an HTTP server, which `startNetworkedNode` runs).
 */
export interface NodePorts {
  /** Monotonic and wall clocks and timers; default: the system clock. */
  readonly clock?: Clock;
  /** The group's DNS authority; default: the RFC 2136 + TSIG client of `dns_server` and the TSIG key in the settings. */
  readonly dns?: DnsAuthority;
  /** The direct path to the peer; required (`inMemoryPorts().peer`, or the HTTP transport of `startNetworkedNode`). */
  readonly peer?: PeerTransport;
  /** Where settings and membership persist; default: in memory. */
  readonly store?: NodeStore;
  /**
   * Where the node logs: any pino-compatible logger (pino's, a child of it, fastify's `app.log`). Default: none, the
   * library writes nothing (`createLogger()` gives the pino JSON lines on stdout that `agctl` writes).
   */
  readonly logger?: Logger;
  /** Sees every XState inspection event of the node's actor (the inspector, the simulator's trace). */
  readonly inspect?: (event: InspectionEvent) => void;
  /** The machine to run; default `nodeMachine`. The simulator passes deliberately broken variants here. */
  readonly machine?: NodeMachine;
  /**
   * Runs the application health check (docs/design.md rule 10) instead of the `health_command`/`health_url` of the
   * settings; used only when one of them is set (their timing applies). The simulator passes a simulated one.
   */
  readonly applicationHealth?: ApplicationHealthProbe;
}

/**
 * What a settings change did beyond this node. `secondary`: `updated` when the Secondary runs the new group
 * settings now; `pending` when it could not take them now (`reason` says why) and gets them with the next heartbeat
 * it acknowledges; `none` when no group setting changed or the group has no Secondary.
 */
export interface SettingsUpdate {
  readonly secondary: 'updated' | 'pending' | 'none';
  readonly reason?: string;
}

/**
 * What leaving (or removing a member) told the other member: `notified` when it took the news, `unreachable` when
 * it could not be reached and `refused` when it answered no (`reason` says why; the change happened here anyway),
 * `none` when there was no other member to tell.
 */
export interface LeaveResult {
  readonly peer: 'notified' | 'unreachable' | 'refused' | 'none';
  readonly reason?: string;
}

/** Work a workflow runs only while acting as Primary. `signal` aborts when the node stops acting as Primary. */
export type PrimaryWork<T> = (lease: { readonly signal: AbortSignal; readonly epoch: number }) => T | Promise<T>;

/**
 * One availability group member. Create it with {@link createNode}.
 */
export interface AvailabilityNode {
  readonly nodeId: string;
  /** The validated settings in force (they change when the node joins a group). */
  readonly settings: Settings;
  /** Loads persisted membership, starts the statechart and listens to the peer. Resolves once the first role is known. */
  start(): Promise<void>;
  /**
   * Stops the node. With `handOver` (default true) an acting Primary whose peer accepted a direct heartbeat within
   * the last failover period hands over first.
   */
  stop(options?: { handOver?: boolean }): Promise<void>;
  /** The node's state now; `actingPrimary` checks the lease at the instant of the call (rule 7). */
  getNodeState(): NodeState;
  /**
   * Calls `callback` with every event of `eventId`, in transition order, each once; returns an unsubscribe function.
   * Throws a TypeError listing the valid ids when `eventId` is unknown.
   */
  subscribe<E extends EventIdType>(eventId: E, callback: Subscriber<E>): () => void;
  /** Role primary and a lease valid now (rule 7). */
  isActingPrimary(): boolean;
  /**
   * Runs `work` only if this node acts as Primary at the instant of the call; otherwise rejects with
   * `NotActingPrimaryError` without running it. `signal` aborts when the node stops acting as Primary.
   */
  requirePrimary<T>(work: PrimaryWork<T>): Promise<T>;
  /**
   * Forms a new group with this node as Primary (writes the A and TXT records), with `changes` applied to the
   * settings first. Atomic: when it fails, the settings in force and the persisted ones are as before.
   */
  createGroup(changes?: Partial<SettingsInput>): Promise<void>;
  /**
   * Joins the group whose Primary listens at `primary`: takes the group's settings from it, becomes Secondary.
   * `changes` (e.g. the `group_fqdn` to join) apply only if the join succeeds. Rejects with `GroupFullError` when
   * the group already has another Secondary.
   */
  joinGroup(primary: { address: string; port?: number; scheme?: 'http' | 'https' }, changes?: Partial<SettingsInput>): Promise<void>;
  /**
   * Leaves the group and tells the other member over the peer channel: a Secondary asks the Primary to drop it; a
   * Primary removes the group's records (the group is dissolved) and the Secondary leaves too. The node leaves even
   * when the other member cannot be told; `peer` says whether it was.
   */
  leaveGroup(): Promise<LeaveResult>;
  /**
   * On the acting Primary: drops the Secondary `nodeId` (a dead one, so that a replacement can join) and tells it
   * to leave if it can be reached. `NoSuchMemberError` when no Secondary has that id; `MembershipError` elsewhere.
   */
  removeMember(nodeId: string): Promise<LeaveResult>;
  /**
   * Manual failover (rule 6): a Primary hands over, a Secondary takes over. Resolves once the new Primary acts.
   * Rejects with `FailoverError` when it did not complete (the group is then as it was: a Primary rejects only once
   * it acts again; or, for `unconfirmed`, the DNS records decide), with `MembershipError` when there is no peer.
   */
  failover(): Promise<void>;
  /**
   * Changes settings: validated as a whole, persisted, timers applied. In a group, group settings change on the
   * Primary only; it pushes them to the Secondary (and again whenever the Secondary's heartbeat acknowledgement
   * shows other ones). It refuses a new `group_fqdn` or `external_scheme`, and a timer change too large to be safe
   * while one node runs the old timers (see `groupChangeIssues`).
   */
  updateSettings(changes: Partial<SettingsInput>): Promise<SettingsUpdate>;
  /**
   * On the Secondary: asks the Primary over the signed peer channel to change the group settings in `changes`
   * (other fields are ignored); the Primary validates and applies them as its own `updateSettings` would and pushes
   * them back. Resolves with the Primary's answer. Rejects with `SettingsError` naming the fields the Primary
   * refused, `GroupOperationError` when the Primary cannot be reached or cannot change them now (nothing changed),
   * `MembershipError` when this node is not a Secondary.
   *
   * @example
   * await node.changeGroupSettingsOnPrimary({ group_fqdn_ttl: 45 }); // { secondary: 'updated' }
   */
  changeGroupSettingsOnPrimary(changes: Partial<SettingsInput>): Promise<SettingsUpdate>;
  /**
   * Maintenance mode (docs/design.md rule 9): `true` pauses the group's automatic takeover (no takeover for the
   * Primary's absence), `false` resumes it. Applied on this node at once (a resumed Secondary runs its standby check
   * at once), persisted, and carried to the peer by the next heartbeat or acknowledgement. Resolves with the flag as
   * this node holds it. `MembershipError` when this node is not in a group.
   *
   * @example
   * await node.setMaintenance(true); // { enabled: true, version: 1, by: 'node-a' }
   */
  setMaintenance(enabled: boolean): Promise<MaintenanceFlag>;
  /** Answers a message from the peer; the peer transport calls this. Throws `PeerMessageRejectedError` for another group. */
  receivePeerMessage<M extends PeerMessage>(message: M): Promise<PeerReplyTo<M>>;
  /** The group's members, as the product lists them. */
  members(): GroupMembers;
  /** The running actor, for inspection; null before start. */
  readonly actor: Actor<NodeMachine> | null;
}

/**
 * Creates a node from settings (validated now: a `SettingsError` names every bad field) and ports. Nothing runs
 * until `start()`. A node never falls back to in-memory ports: without `ports.dns` it uses the real DNS client of
 * `dns_server` (a `SettingsError` names `tsig_name`/`tsig_secret` when the key is missing); `ports.peer` is
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

/** How to give a node its DNS authority and peer transport, for the messages of {@link requirePorts}. */
const PORTS_HOW_TO =
  'Pass them as ports (in one process: createNode(settings, inMemoryPorts())), or configure the network ' +
  "(dns_server, tsig_name, tsig_secret, peer_secret, api_token) and run the node with startNetworkedNode from 'availability-group/http'.";

/** Refuses ports that the settings cannot complete: no silent in-memory DNS authority or peer. */
function requirePorts(settings: Settings, ports: NodePorts): void {
  const missing: string[] = [];
  if (ports.dns === undefined && settings.dnsServer === undefined) missing.push('a DNS authority (no ports.dns, and dns_server is not set)');
  if (ports.peer === undefined && settings.peerSecret === undefined) missing.push('a peer transport (no ports.peer, and peer_secret is not set)');
  if (missing.length > 0) throw new NodePortsError(`This node has no ${missing.join(' and no ')}. ${PORTS_HOW_TO}`);
  if (ports.dns === undefined) {
    const issues: SettingsIssue[] = [];
    const rule = 'is required with dns_server when no ports.dns is given: the DNS client signs its updates with the TSIG key (a node that joins gets the key from its Primary: run it with startNetworkedNode, or pass ports.dns)';
    if (settings.tsigName === undefined) issues.push({ field: 'tsig_name', rule });
    if (settings.tsigSecret === undefined) issues.push({ field: 'tsig_secret', rule });
    if (issues.length > 0) throw new SettingsError(issues);
  }
  if (ports.peer === undefined) {
    throw new NodePortsError(
      'peer_secret is set but no peer transport was given: the signed HTTP peer transport needs an HTTP server to receive on. ' +
        "Run the node with startNetworkedNode from 'availability-group/http', or pass the transport as ports.peer (createHttpPeerTransport, registered on your server).",
    );
  }
}

function isSettings(value: SettingsInput | Settings): value is Settings {
  return typeof (value as Settings).timers === 'object' && typeof (value as Settings).record === 'object';
}

/** Node-level fields that come from the node's own configuration, never from a persisted or joined group. */
const NODE_FIELDS = [
  'node_id',
  'external_ipv4_address',
  'external_port',
  'dns_server',
  'api_token',
  'peer_secret',
  'data_dir',
  'tls_cert_file',
  'tls_key_file',
  'tls_ca_file',
  'inspect',
  'on_role_change',
  'on_role_change_timeout',
  'health_command',
  'health_url',
  'health_interval',
  'health_failures',
  'health_timeout',
] as const satisfies readonly (keyof SettingsRecord)[];

class Node implements AvailabilityNode {
  #settings: Settings;
  readonly #clock: Clock;
  readonly #dns: DnsAuthority;
  /** The DNS client this node built from its settings (no `ports.dns`): closed when the node stops. */
  readonly #ownDns: SettingsDnsAuthority | null;
  readonly #peer: PeerTransport;
  readonly #store: NodeStore;
  readonly #logger: Logger;
  readonly #ports: NodePorts;
  readonly #subscribers: SubscriberRegistry;
  #actor: Actor<NodeMachine> | null = null;
  #peerMember: MemberAddress | null = null;
  #persistedEpoch = 0;
  /** The maintenance flag as last persisted (rule 9): a change is persisted after the transition that made it. */
  #persistedMaintenance: MaintenanceFlag = NO_MAINTENANCE;
  /** Whether a manual failover asked on this node is running: a second one is refused, not queued. */
  #failoverRunning = false;
  #stopListening: (() => Promise<void>) | null = null;
  /** The application health checker running now (rule 10), and the settings it runs with. */
  #healthChecker: ApplicationHealthChecker | null = null;
  #healthCheckSettings = 'null';
  #lastTop = '';
  /** The statechart's steps so far (its own snapshots): the events one step emits are logged with the same `step`. */
  #step = 0;
  #live: LiveInspection | null = null;
  /** When the Primary last pushed its group settings to a Secondary running others (monotonic), and whether it still waits. */
  #settingsRepair: { at: number; inFlight: boolean } | null = null;
  /** The last push of group settings to the Secondary: the next one waits for it. */
  #pushes: Promise<SettingsUpdate> = Promise.resolve({ secondary: 'none' });

  constructor(settings: Settings, ports: NodePorts) {
    this.#settings = settings;
    this.#ports = ports;
    this.#clock = ports.clock ?? systemClock;
    this.#store = ports.store ?? new InMemoryNodeStore();
    this.#logger = (ports.logger ?? silentLogger()).child({ node: settings.nodeId });
    // createNode checked the ports: a missing DNS port means dns_server and the TSIG key are set.
    this.#ownDns = ports.dns === undefined ? new SettingsDnsAuthority({ settings: () => this.#settings, logger: this.#logger.child({ component: 'dns' }) }) : null;
    this.#dns = ports.dns ?? this.#ownDns!;
    this.#peer = ports.peer!;
    this.#subscribers = new SubscriberRegistry(this.#logger);
  }

  get nodeId(): string {
    return this.#settings.nodeId;
  }
  get settings(): Settings {
    return this.#settings;
  }
  get actor(): Actor<NodeMachine> | null {
    return this.#actor;
  }

  async start(): Promise<void> {
    if (this.#actor !== null) throw new MembershipError('This node is already started.');
    const persisted = await this.#store.load();
    const inGroup = persisted?.membership.inGroup ?? false;
    if (persisted !== null) {
      this.#settings = this.#mergeSettings(persisted.settings, inGroup ? GROUP_SETTING_FIELDS : []);
      this.#peerMember = persisted.membership.peer;
      this.#persistedEpoch = persisted.membership.epoch;
      this.#persistedMaintenance = persisted.membership.maintenance ?? NO_MAINTENANCE;
    }
    const machine = (this.#ports.machine ?? nodeMachine).provide({
      actors: createNodeActors({
        clock: this.#clock,
        dns: this.#dns,
        peer: this.#peer,
        logger: this.#logger,
        groupFqdn: () => this.#settings.groupFqdn ?? '',
        ttl: () => this.#settings.groupFqdnTtl,
        address: () => this.#settings.externalIpv4Address,
        peerSelfId: () => this.#settings.nodeId,
        peerMember: () => this.#peerMember,
        groupSettingsFingerprint: () => groupSettingsFingerprint(this.#settings.record),
        peerRunsOtherSettings: () => this.#repairPeerSettings(),
      }),
    });
    // Live inspection (@statelyai/inspect) only when switched on: by the setting `inspect` or AG_INSPECT.
    const liveUrl = liveInspectionUrl(this.#settings);
    this.#live = liveUrl === null ? null : await startLiveInspection(liveUrl);
    const actor = createActor(machine, {
      input: {
        nodeId: this.#settings.nodeId,
        address: this.#settings.externalIpv4Address,
        timers: this.#settings.timers,
        inGroup,
        epoch: this.#persistedEpoch,
        maintenance: this.#persistedMaintenance,
      },
      clock: { setTimeout: (fn, ms) => this.#clock.setTimeout(fn, ms), clearTimeout: (id) => this.#clock.clearTimeout(id) },
      inspect: (event) => this.#onInspection(event),
    });
    this.#actor = actor;
    actor.on('*', (emitted) => this.#publish(emitted as NodeEmitted));
    actor.subscribe({
      next: (snapshot) => this.#afterTransition(snapshot),
      error: (error) => this.#logger.fatal({ err: error }, 'node statechart failed'),
    });
    this.#stopListening = await this.#peer.listen(this.#selfMember(), (message) => this.receivePeerMessage(message));
    actor.start();
    this.#configureHealthChecker(true);
    this.#logger.info({ state: stateLabel(actor.getSnapshot().value), inGroup }, 'node started');
    await this.#settle((s) => !s.matches('resolving') && !s.matches('reclaiming'));
  }

  async stop(options: { handOver?: boolean } = {}): Promise<void> {
    const actor = this.#actor;
    if (actor === null) return;
    const peerHealthy = this.#peerMember !== null && peerIsHealthyAt(actor.getSnapshot().context, this.#clock.monotonicNow());
    if ((options.handOver ?? true) && this.isActingPrimary() && peerHealthy) {
      try {
        await this.failover();
      } catch (error) {
        this.#logger.warn({ err: error }, 'handover before stop failed; stopping anyway');
      }
    }
    this.#healthChecker?.stop();
    this.#healthChecker = null;
    actor.stop();
    this.#live?.stop();
    this.#live = null;
    this.#actor = null;
    await this.#stopListening?.();
    this.#stopListening = null;
    this.#ownDns?.close();
    this.#logger.info('node stopped');
  }

  getNodeState(): NodeState {
    const snapshot = this.#snapshot();
    const { context } = snapshot;
    const now = this.#clock.monotonicNow();
    const acting = leaseIsValidAt(context, now);
    const nodeRole = context.role ?? (context.inGroup ? NodeRole.SECONDARY : NodeRole.NOT_IN_GROUP);
    // The product's last_updated: the Secondary's last standby check "if applicable", so none on a Primary (which may
    // have checked as a Secondary before) or outside a group.
    const lastChecked = nodeRole === NodeRole.SECONDARY ? context.lastCheckedAtWall : null;
    return {
      nodeRole,
      nodeDnsConnectionState: context.dnsConnection,
      heartbeatMethod: context.lastHeartbeat?.method ?? null,
      lastHeartbeatTime: context.lastHeartbeat === null ? null : formatWallTime(context.lastHeartbeat.sentAtWall),
      lastUpdated: lastChecked === null ? null : formatWallTime(lastChecked),
      nodeId: context.nodeId,
      epoch: context.epoch,
      actingPrimary: acting,
      leaseRemainingMs: context.role === NodeRole.PRIMARY && context.leaseExpiresAt !== null ? Math.max(0, context.leaseExpiresAt - now) : null,
      state: stateLabel(snapshot.value),
      members: this.members(),
      applicationHealth: context.applicationHealth,
      maintenance: context.maintenance.enabled,
    };
  }

  subscribe<E extends EventIdType>(eventId: E, callback: Subscriber<E>): () => void {
    return this.#subscribers.subscribe(eventId, callback);
  }

  isActingPrimary(): boolean {
    return this.#actor !== null && leaseIsValidAt(this.#actor.getSnapshot().context, this.#clock.monotonicNow());
  }

  async requirePrimary<T>(work: PrimaryWork<T>): Promise<T> {
    if (!this.isActingPrimary()) throw new NotActingPrimaryError(this.getNodeState().nodeRole);
    const controller = new AbortController();
    const unsubscribe = this.subscribe(EventId.LEASE_LOST, () => controller.abort(new NotActingPrimaryError(NodeRole.SECONDARY)));
    try {
      return await work({ signal: controller.signal, epoch: this.#snapshot().context.epoch });
    } finally {
      unsubscribe();
    }
  }

  async createGroup(changes: Partial<SettingsInput> = {}): Promise<void> {
    const snapshot = this.#snapshot();
    if (!snapshot.matches('notInGroup')) throw new MembershipError('This node is already in a group.');
    const before = this.#settings;
    const next = Object.keys(changes).length === 0 ? before : loadSettings({ ...before.record, ...changes });
    if (next.groupFqdn === undefined) throw new SettingsError([{ field: 'group_fqdn', rule: 'is required to create a group' }]);
    // The changes are in force while the records are written (the DNS client reads them), and taken back on failure;
    // nothing is persisted before the group exists.
    if (next !== before) this.#runSettings(next);
    try {
      this.#send({ type: 'CREATE_GROUP', at: stampOf(this.#clock) });
      const settled = await this.#settle((s) => !s.matches('creatingGroup'));
      if (!settled.matches('primary')) {
        throw new GroupOperationError(`Could not create the group: ${settled.context.failure?.message ?? 'unknown failure'}`);
      }
    } catch (error) {
      if (next !== before && this.#settings === next && this.#actor !== null) this.#runSettings(before);
      throw error;
    }
    await this.#persist();
  }

  async joinGroup(primary: { address: string; port?: number; scheme?: 'http' | 'https' }, changes: Partial<SettingsInput> = {}): Promise<void> {
    if (!this.#snapshot().matches('notInGroup')) throw new MembershipError('This node is already in a group.');
    // The changes count for this join only until it succeeds: a refused join leaves the settings as they were.
    const candidate = Object.keys(changes).length === 0 ? this.#settings : loadSettings({ ...this.#settings.record, ...changes });
    const group = candidate.groupFqdn ?? '';
    const target: MemberAddress = {
      nodeId: 'primary',
      address: primary.address,
      port: primary.port ?? candidate.externalPort,
      scheme: primary.scheme ?? candidate.externalScheme,
    };
    let reply: JoinReply;
    try {
      reply = await this.#peer.send(target, { type: 'join', group, member: memberOf(candidate) });
    } catch (error) {
      throw new GroupOperationError(`Could not reach the Primary at ${target.address}:${target.port}.`, { cause: error });
    }
    if (!reply.accepted && reply.code === 'group_full' && reply.members !== undefined) throw new GroupFullError(group, reply.members);
    if (!reply.accepted || reply.groupSettings === undefined || reply.members?.primary == null) {
      throw new GroupOperationError(`The Primary refused the join: ${reply.reason ?? 'no reason given'}`);
    }
    this.#settings = this.#mergeSettings({ ...candidate.record, ...reply.groupSettings } as SettingsRecord, GROUP_SETTING_FIELDS, candidate.record);
    this.#peerMember = reply.members.primary;
    this.#send({ type: 'JOIN_GROUP', timers: this.#settings.timers, at: stampOf(this.#clock) });
    await this.#persist();
    await this.#settle((s) => !s.matches('resolving'));
  }

  async leaveGroup(): Promise<LeaveResult> {
    const snapshot = this.#snapshot();
    const { context } = snapshot;
    if (snapshot.matches('notInGroup')) throw new MembershipError('This node is not in a group.');
    const peer = this.#peerMember;
    const message: LeaveMessage = { type: 'leave', group: this.#settings.groupFqdn ?? '', from: this.nodeId, role: context.role === NodeRole.PRIMARY ? 'primary' : 'secondary' };
    this.#send({ type: 'LEAVE_GROUP', at: stampOf(this.#clock) });
    await this.#settle((s) => s.matches('notInGroup'));
    this.#peerMember = null;
    await this.#persist();
    this.#logger.info({ role: message.role, peer: peer?.nodeId ?? null }, 'left the group');
    return this.#tellPeer(peer, message);
  }

  async removeMember(nodeId: string): Promise<LeaveResult> {
    const { context } = this.#snapshot();
    if (!context.inGroup) throw new MembershipError('This node is not in a group.');
    if (nodeId === this.nodeId) throw new MembershipError('A node cannot remove itself from its group: leave the group instead (a Primary that leaves dissolves it).');
    if (context.role !== NodeRole.PRIMARY || !this.isActingPrimary()) throw new MembershipError('Members are removed on the acting Primary; this node is not it.');
    const peer = this.#peerMember;
    if (peer === null || peer.nodeId !== nodeId) {
      throw new NoSuchMemberError(nodeId, `The group has no member ${nodeId} (${peer === null ? 'it has no Secondary' : `its Secondary is ${peer.nodeId}`}).`);
    }
    this.#peerMember = null;
    await this.#persist();
    this.#logger.info({ member: peer }, 'secondary removed from the group');
    return this.#tellPeer(peer, { type: 'leave', group: this.#settings.groupFqdn ?? '', from: this.nodeId, role: 'primary' });
  }

  async failover(): Promise<void> {
    const before = this.#snapshot();
    if (before.matches('notInGroup')) throw new MembershipError('This node is not in a group.');
    if (this.#peerMember === null && !before.matches('secondary')) throw new MembershipError('The group has no Secondary to hand over to.');
    if (this.#failoverRunning) throw new FailoverError('refused', 'in_progress', 'Manual failover refused: one asked on this node is still running.', this.isActingPrimary());
    this.#failoverRunning = true;
    try {
      const wasPrimary = before.context.role === NodeRole.PRIMARY;
      this.#send({ type: 'FAILOVER_REQUESTED', at: stampOf(this.#clock) });
      // The machine settles every request: completed only once the new Primary acts (rule 6).
      const settled = await this.#settle((s) => !s.context.failoverPending);
      const result = settled.context.failoverResult ?? { outcome: 'failed', code: 'unknown', reason: 'the failover ended without a result' };
      if (result.outcome === 'completed') return;
      // A failover that did not complete leaves the group as it was: a Primary answers once it acts again.
      if (wasPrimary) await this.#settleWithin(this.#settings.timers.leaseMs, (s) => s.matches({ primary: { authority: 'acting' } }) && s.context.leaseExpiresAt !== null);
      const acting = this.isActingPrimary();
      const where = wasPrimary ? (acting ? ' This node still acts as Primary.' : ' This node does not act as Primary now.') : '';
      throw new FailoverError(result.outcome, result.code, `Manual failover did not complete: ${result.reason}.${where}`, acting);
    } finally {
      this.#failoverRunning = false;
    }
  }

  async updateSettings(changes: Partial<SettingsInput>): Promise<SettingsUpdate> {
    const current = this.#settings;
    const next = loadSettings({ ...current.record, ...changes });
    const context = this.#snapshot().context;
    const groupChanged = context.inGroup && groupSettingsFingerprint(next.record) !== groupSettingsFingerprint(current.record);
    if (groupChanged) {
      if (context.role !== NodeRole.PRIMARY) throw new MembershipError('Group settings are changed on the Primary; this node is not the Primary.');
      const issues = groupChangeIssues(current, next);
      if (issues.length > 0) throw new SettingsError(issues);
    }
    // The Primary first, then the Secondary: with the check above, either may run the new timers before the other,
    // and a push (or a repair racing it) always carries the Primary's settings as they are when it is sent.
    this.#runSettings(next);
    await this.#persist();
    return groupChanged ? this.#pushGroupSettings() : { secondary: 'none' };
  }

  async changeGroupSettingsOnPrimary(changes: Partial<SettingsInput>): Promise<SettingsUpdate> {
    const { context } = this.#snapshot();
    const primary = this.#peerMember;
    if (!context.inGroup || context.role === NodeRole.PRIMARY || primary === null) {
      throw new MembershipError('Group settings are forwarded to the Primary by a Secondary that knows its Primary; this node is not one.');
    }
    const groupSettings = Object.fromEntries(Object.entries(changes).filter(([field]) => isGroupSettingField(field)));
    const message: GroupSettingsChangeMessage = { type: 'group-settings-change', group: this.#settings.groupFqdn ?? '', from: this.nodeId, epoch: context.epoch, groupSettings };
    const where = `The Primary ${primary.nodeId} (${primary.address}:${primary.port})`;
    let reply: GroupSettingsChangeReply;
    try {
      reply = await this.#peer.send(primary, message);
    } catch (error) {
      const what = error instanceof PeerMessageRejectedError ? 'refused the request' : 'could not be reached';
      throw new GroupOperationError(`${where} ${what} to change the group settings (${(error as Error).message}); nothing was changed.`, { cause: error });
    }
    if (!reply.accepted) {
      if (reply.code === 'invalid' && reply.issues !== undefined && reply.issues.length > 0) throw new SettingsError(reply.issues);
      throw new GroupOperationError(`${where} could not change the group settings now: ${reply.reason ?? 'no reason given'}; nothing was changed.`);
    }
    return { secondary: reply.secondary ?? 'none', ...(reply.reason === undefined ? {} : { reason: reply.reason }) };
  }

  async receivePeerMessage<M extends PeerMessage>(message: M): Promise<PeerReplyTo<M>> {
    const group = this.#settings.groupFqdn;
    if (message.type !== 'join' && !sameName(message.group, group)) {
      this.#logger.warn({ type: message.type, group: message.group }, 'peer message for another group refused');
      throw new PeerMessageRejectedError(`This node serves group ${group ?? '(none)'}, not ${message.group}.`);
    }
    // Only the other member of this group may move it: a removed Secondary still holds the peer secret.
    const sender = peerMessageSender(message);
    // Joins and leaves check their sender themselves.
    if (message.type !== 'join' && message.type !== 'leave' && sender !== this.#peerMember?.nodeId) {
      this.#logger.warn({ type: message.type, from: sender, member: this.#peerMember?.nodeId ?? null }, 'peer message from a node that is not the other member refused');
      throw new PeerMessageRejectedError(`${sender} is not the other member of group ${group ?? '(none)'}.`);
    }
    const at = stampOf(this.#clock);
    switch (message.type) {
      case 'heartbeat': {
        this.#send({ type: 'HEARTBEAT_RECEIVED', heartbeat: message.heartbeat, at });
        const after = this.#snapshot();
        const refusal = heartbeatRefusalFor(after, message.heartbeat);
        if (refusal !== null) {
          this.#logger.warn({ heartbeat: message.heartbeat, seen: after.context.seen, epoch: after.context.epoch }, `direct heartbeat refused: ${refusal}`);
          throw new HeartbeatRefusedError(`Heartbeat (epoch ${message.heartbeat.epoch}, seq ${message.heartbeat.seq}) refused: ${refusal}.`);
        }
        return { ...heartbeatAckFor(after, message.heartbeat), groupSettings: groupSettingsFingerprint(this.#settings.record) } as PeerReplyTo<M>;
      }
      case 'handover': {
        // Answered once the takeover the offer started is decided: the offerer learns whether this node acts now.
        this.#send({ type: 'HANDOVER_OFFERED', from: message.from, epoch: message.epoch, records: message.records, askedBy: message.askedBy, at });
        return handoverReplyFor(await this.#settle((s) => !s.matches('takingOver'))) as PeerReplyTo<M>;
      }
      case 'handover-probe': {
        this.#send({ type: 'HANDOVER_PROBED', from: message.from, epoch: message.epoch, at });
        return handoverProbeReplyFor(await this.#settle((s) => !s.matches({ secondary: 'probing' }))) as PeerReplyTo<M>;
      }
      case 'step-down': {
        const before = this.#snapshot();
        this.#send({ type: 'STEP_DOWN_REQUESTED', from: message.from, epoch: message.epoch, at });
        return stepDownReplyFor(before, this.#snapshot(), message.epoch, message.from) as PeerReplyTo<M>;
      }
      case 'join':
        return (await this.#acceptJoin(message.group, message.member)) as PeerReplyTo<M>;
      case 'group-settings':
        return (await this.#acceptGroupSettings(message)) as PeerReplyTo<M>;
      case 'group-settings-change':
        return (await this.#acceptGroupSettingsChange(message)) as PeerReplyTo<M>;
      case 'leave':
        return (await this.#acceptLeave(message)) as PeerReplyTo<M>;
    }
    throw new PeerMessageRejectedError(`Unknown peer message type.`);
  }

  members(): GroupMembers {
    const context = this.#actor?.getSnapshot().context;
    if (context === undefined || !context.inGroup) return { primary: null, secondary: null };
    const self = this.#selfMember();
    return context.role === NodeRole.PRIMARY ? { primary: self, secondary: this.#peerMember } : { primary: this.#peerMember, secondary: self };
  }

  /**
   * The Primary's side of a join. A group has two members exactly: a node with another id than the Secondary's is
   * refused (`group_full`, naming both members); the Secondary's own id may join again (a wiped `data_dir`, a new
   * address) and replaces its address.
   */
  async #acceptJoin(group: string, member: MemberAddress): Promise<JoinReply> {
    if (!this.isActingPrimary()) return { accepted: false, code: 'not_acting_primary', reason: 'this node is not the acting Primary' };
    if (!sameName(group, this.#settings.groupFqdn) && group !== '') return { accepted: false, code: 'other_group', reason: `this node serves group ${this.#settings.groupFqdn}` };
    if (member.nodeId === this.nodeId) return { accepted: false, code: 'same_node', reason: 'a node cannot join itself' };
    const secondary = this.#peerMember;
    if (secondary !== null && secondary.nodeId !== member.nodeId) {
      this.#logger.warn({ member, secondary }, 'join refused: the group already has a Secondary');
      return {
        accepted: false,
        code: 'group_full',
        reason: `the group already has two members (Primary ${this.nodeId}, Secondary ${secondary.nodeId} at ${secondary.address}:${secondary.port})`,
        members: { primary: this.#selfMember(), secondary },
      };
    }
    this.#peerMember = member;
    await this.#persist();
    this.#logger.info({ member, previous: secondary }, secondary === null ? 'secondary joined the group' : 'secondary joined the group again');
    return { accepted: true, groupSettings: groupSettingsOf(this.#settings.record), members: { primary: this.#selfMember(), secondary: member } };
  }

  /**
   * A leave from the other member. From the Secondary: drop it. From the Primary (it dissolved the group, or removed
   * this node): leave too. Refused from a node that is not the other member.
   */
  async #acceptLeave(message: LeaveMessage): Promise<LeaveReply> {
    const { context } = this.#snapshot();
    const peer = this.#peerMember;
    if (!context.inGroup) return { accepted: false, reason: 'this node is not in a group' };
    if (peer === null || peer.nodeId !== message.from) return { accepted: false, reason: `${message.from} is not a member of this node's group` };
    if (context.role !== NodeRole.PRIMARY && message.role === 'primary') {
      this.#send({ type: 'LEAVE_GROUP', at: stampOf(this.#clock) });
      await this.#settle((s) => s.matches('notInGroup'));
      this.#peerMember = null;
      await this.#persist();
      this.#logger.info({ from: message.from }, 'the Primary dissolved the group or removed this node; left the group');
      return { accepted: true };
    }
    this.#peerMember = null;
    await this.#persist();
    this.#logger.info({ member: peer }, 'the other member left the group');
    return { accepted: true };
  }

  /** Tells the other member of a leave or a removal; never throws (the change here is done already). */
  async #tellPeer(peer: MemberAddress | null, message: LeaveMessage): Promise<LeaveResult> {
    if (peer === null) return { peer: 'none' };
    try {
      const reply = await this.#peer.send(peer, message);
      if (reply.accepted) return { peer: 'notified' };
      this.#logger.warn({ peer: peer.nodeId, reason: reply.reason }, 'the other member refused the leave');
      return { peer: 'refused', reason: `${peer.nodeId} refused it: ${reply.reason ?? 'no reason given'}` };
    } catch (error) {
      this.#logger.warn({ peer: peer.nodeId, err: error }, 'could not tell the other member; the change is made here anyway');
      return { peer: 'unreachable', reason: `${peer.nodeId} could not be reached: ${(error as Error).message}` };
    }
  }

  /**
   * The Primary's side of a change asked on the Secondary (`PUT /group` there): applied as this node's own
   * `updateSettings`, which pushes the settings back to the Secondary before the answer.
   */
  async #acceptGroupSettingsChange(message: GroupSettingsChangeMessage): Promise<GroupSettingsChangeReply> {
    const { context } = this.#snapshot();
    if (!this.isActingPrimary()) return { accepted: false, code: 'not_acting_primary', reason: `${this.nodeId} is not the acting Primary` };
    if (message.epoch > context.epoch) return { accepted: false, code: 'not_acting_primary', reason: `${message.from} knows epoch ${message.epoch}, newer than epoch ${context.epoch} of ${this.nodeId}` };
    const issues = Object.keys(message.groupSettings)
      .filter((field) => !isGroupSettingField(field))
      .map((field) => ({ field, rule: 'is not a group setting: node settings change on their own node' }));
    if (issues.length > 0) return { accepted: false, code: 'invalid', reason: new SettingsError(issues).message, issues };
    try {
      const update = await this.updateSettings(message.groupSettings as Partial<SettingsInput>);
      this.#logger.info({ from: message.from, fields: Object.keys(message.groupSettings) }, "group settings changed at the Secondary's request");
      return { accepted: true, secondary: update.secondary, ...(update.reason === undefined ? {} : { reason: update.reason }) };
    } catch (error) {
      if (error instanceof SettingsError) return { accepted: false, code: 'invalid', reason: error.message, issues: error.issues };
      if (error instanceof MembershipError) return { accepted: false, code: 'not_acting_primary', reason: error.message };
      throw error;
    }
  }

  /** The Secondary's side of a push: run the Primary's group settings, unless the sender is not its Primary. */
  async #acceptGroupSettings(message: GroupSettingsMessage): Promise<GroupSettingsReply> {
    const { context } = this.#snapshot();
    if (!context.inGroup) return { accepted: false, reason: 'this node is not in a group' };
    if (context.role === NodeRole.PRIMARY) return { accepted: false, reason: 'this node is the Primary' };
    if (message.epoch < context.epoch) return { accepted: false, reason: `epoch ${message.epoch} is older than epoch ${context.epoch}, which this node knows` };
    let next: Settings;
    try {
      // Only the pushed values count: a group setting the Primary left unset falls back to its default here too.
      next = this.#mergeSettings(message.groupSettings as SettingsRecord, GROUP_SETTING_FIELDS);
    } catch (error) {
      if (error instanceof SettingsError) return { accepted: false, reason: error.message };
      throw error;
    }
    const changed = GROUP_SETTING_FIELDS.filter((field) => next.record[field] !== this.#settings.record[field]);
    this.#settings = next;
    this.#send({ type: 'SETTINGS_CHANGED', timers: next.timers, at: stampOf(this.#clock) });
    await this.#persist();
    this.#logger.info({ from: message.from, changed }, 'group settings updated by the Primary');
    return { accepted: true };
  }

  /**
   * The Primary's side of a push, queued behind any push in flight so that the Secondary receives them in order.
   * Never rejects: a Secondary that does not take the settings now gets them with a later heartbeat.
   */
  #pushGroupSettings(): Promise<SettingsUpdate> {
    const push = this.#pushes.then(() => this.#sendGroupSettings());
    this.#pushes = push;
    return push;
  }

  /** Sends the group settings in force now, with the epoch known now. */
  async #sendGroupSettings(): Promise<SettingsUpdate> {
    const peer = this.#peerMember;
    const context = this.#actor?.getSnapshot().context;
    if (peer === null || context === undefined) return { secondary: 'none' };
    const settings = this.#settings;
    const message: GroupSettingsMessage = { type: 'group-settings', group: settings.groupFqdn ?? '', from: this.nodeId, epoch: context.epoch, groupSettings: groupSettingsOf(settings.record) };
    try {
      const reply = await this.#peer.send(peer, message);
      if (reply.accepted) return { secondary: 'updated' };
      this.#logger.warn({ peer: peer.nodeId, reason: reply.reason }, 'the Secondary refused the group settings');
      return { secondary: 'pending', reason: `the Secondary refused them: ${reply.reason ?? 'no reason given'}` };
    } catch (error) {
      this.#logger.warn({ peer: peer.nodeId, err: error }, 'could not push the group settings to the Secondary');
      return { secondary: 'pending', reason: `the Secondary could not be reached: ${(error as Error).message}` };
    }
  }

  /**
   * A heartbeat acknowledgement showed the Secondary running other group settings (it missed a push): push them
   * again, one push at a time and at most once per failover period.
   */
  #repairPeerSettings(): void {
    const now = this.#clock.monotonicNow();
    const last = this.#settingsRepair;
    if (last !== null && (last.inFlight || now - last.at < this.#settings.timers.absenceMs)) return;
    // Called from inside the heartbeat actor: it must never throw, or the heartbeat would count as failed.
    const context = this.#actor?.getSnapshot().context;
    if (context === undefined || context.role !== NodeRole.PRIMARY) return;
    const repair = { at: now, inFlight: true };
    this.#settingsRepair = repair;
    this.#logger.info({ peer: this.#peerMember?.nodeId }, 'the Secondary runs other group settings; pushing the current ones');
    void this.#pushGroupSettings().finally(() => (repair.inFlight = false));
  }

  #selfMember(): MemberAddress {
    return memberOf(this.#settings);
  }

  /**
   * Rule 10: (re)starts the application health checker when its settings changed (or at start): the machine's
   * verdict starts again from `unknown`, or null when no check is configured. Each result goes to the machine.
   */
  #configureHealthChecker(starting: boolean): void {
    const health = this.#settings.applicationHealth;
    const key = JSON.stringify(health);
    if (!starting && key === this.#healthCheckSettings) return;
    this.#healthCheckSettings = key;
    this.#healthChecker?.stop();
    this.#healthChecker = null;
    const probe = health === null ? null : (this.#ports.applicationHealth ?? probeFromSettings(health));
    this.#send({ type: 'APPLICATION_HEALTH_CONFIGURED', checked: probe !== null, failuresToFail: health?.failures ?? 1 });
    if (health === null || probe === null) return;
    const checker = new ApplicationHealthChecker({
      probe,
      clock: this.#clock,
      intervalMs: health.intervalMs,
      timeoutMs: health.timeoutMs,
      logger: this.#logger.child({ component: 'application-health' }),
      report: (result, at) => {
        if (this.#healthChecker === checker && this.#actor !== null) this.#actor.send({ type: 'APPLICATION_HEALTH_CHECKED', healthy: result.healthy, at });
      },
    });
    this.#healthChecker = checker;
    this.#logger.info({ check: probe.description, intervalMs: health.intervalMs, timeoutMs: health.timeoutMs, failures: health.failures }, 'application health check started');
    checker.start();
  }

  /** Puts `next` in force: the settings, and the statechart's timers. Persisting is the caller's business. */
  #runSettings(next: Settings): void {
    this.#settings = next;
    this.#send({ type: 'SETTINGS_CHANGED', timers: next.timers, at: stampOf(this.#clock) });
    this.#configureHealthChecker(false);
  }

  /** Settings from `base` for `groupFields`, the node's own configuration (`own`) for node fields; validated as a whole. */
  #mergeSettings(base: SettingsRecord, groupFields: readonly (keyof SettingsRecord)[], own: SettingsRecord = this.#settings.record): Settings {
    const merged: Record<string, unknown> = { ...own };
    for (const field of groupFields) merged[field] = base[field];
    for (const field of NODE_FIELDS) merged[field] = own[field];
    for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
    return loadSettings(merged);
  }

  #snapshot(): NodeSnapshot {
    if (this.#actor === null) throw new MembershipError('This node is not started: call start() first.');
    return this.#actor.getSnapshot();
  }

  #send(event: NodeCommandEvent): void {
    if (this.#actor === null) throw new MembershipError('This node is not started: call start() first.');
    this.#actor.send(event);
  }

  /** Like {@link #settle}, but gives up after `ms` on the node's clock: resolves with null then. */
  #settleWithin(ms: number, done: (snapshot: NodeSnapshot) => boolean): Promise<NodeSnapshot | null> {
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(() => resolve(null), ms);
      this.#settle(done).then(
        (snapshot) => {
          this.#clock.clearTimeout(timer);
          resolve(snapshot);
        },
        () => {
          this.#clock.clearTimeout(timer);
          resolve(null);
        },
      );
    });
  }

  /** Resolves with the first snapshot (now or later) that satisfies `done`; rejects if the node stops first. */
  #settle(done: (snapshot: NodeSnapshot) => boolean): Promise<NodeSnapshot> {
    const actor = this.#actor;
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

  #publish(emitted: NodeEmitted): void {
    const { type, ...payload } = emitted;
    // NODE_ROLE_CHANGED also carries the role under `role`, the same value as the product's `new`.
    const alias = emitted.type === EventId.NODE_ROLE_CHANGED ? { role: emitted.new } : {};
    const event = { eventId: type, ...payload, ...alias, at: formatWallTime(this.#clock.wallNow()) } as NodeEvent;
    this.#logger.info({ event, step: this.#step }, type);
    this.#subscribers.publish(type, event as never);
  }

  #afterTransition(snapshot: NodeSnapshot): void {
    if (snapshot.context.epoch > this.#persistedEpoch) {
      this.#persistedEpoch = snapshot.context.epoch;
      this.#persist().catch((error) => this.#logger.error({ err: error }, 'could not persist the epoch'));
    }
    const maintenance = snapshot.context.maintenance;
    if (maintenance !== this.#persistedMaintenance) {
      const previous = this.#persistedMaintenance;
      this.#persistedMaintenance = maintenance;
      if (maintenance.enabled !== previous.enabled) {
        this.#logger.info(
          { maintenance: maintenance.enabled, by: maintenance.by, version: maintenance.version },
          maintenance.enabled ? 'maintenance mode on: automatic takeover paused' : 'maintenance mode off: automatic takeover resumed',
        );
      }
      this.#persist().catch((error) => this.#logger.error({ err: error }, 'could not persist the maintenance flag'));
    }
  }

  async setMaintenance(enabled: boolean): Promise<MaintenanceFlag> {
    if (!this.#snapshot().context.inGroup) throw new MembershipError('Maintenance mode pauses a group; this node is not in a group.');
    this.#send({ type: 'MAINTENANCE_REQUESTED', enabled, at: stampOf(this.#clock) });
    // The transition persisted a change already (#afterTransition); this waits for that write, or makes one.
    await this.#persist();
    return this.#snapshot().context.maintenance;
  }

  #onInspection(event: InspectionEvent): void {
    this.#ports.inspect?.(event);
    this.#live?.inspect(event);
    if (event.type !== '@xstate.snapshot' || event.actorRef !== this.#actor) return;
    // XState runs a step's emits (deferred) before it reports the step's snapshot: they were logged with this step's number.
    this.#step += 1;
    const snapshot = event.snapshot as NodeSnapshot;
    const top = topState(snapshot.value);
    // A Primary makes several sub-state transitions per heartbeat: describe them only when someone reads debug logs.
    if (top === this.#lastTop && !(this.#logger.isLevelEnabled?.('debug') ?? true)) return;
    const details = {
      to: stateLabel(snapshot.value),
      event: event.event.type,
      epoch: snapshot.context.epoch,
      seq: snapshot.context.role === NodeRole.PRIMARY ? snapshot.context.ownSeq : (snapshot.context.seen?.seq ?? null),
    };
    if (top !== this.#lastTop) this.#logger.info({ from: this.#lastTop || null, ...details }, 'transition');
    else this.#logger.debug(details, 'transition');
    this.#lastTop = top;
  }

  async #persist(): Promise<void> {
    const context = this.#actor?.getSnapshot().context;
    const state: PersistedNode = {
      settings: this.#settings.record,
      membership: {
        inGroup: context?.inGroup ?? false,
        peer: this.#peerMember,
        epoch: Math.max(this.#persistedEpoch, context?.epoch ?? 0),
        ...(this.#persistedMaintenance.version === 0 ? {} : { maintenance: this.#persistedMaintenance }),
      },
    };
    await this.#store.save(state);
  }
}

/** Where the node with `settings` listens, as a group member. */
function memberOf(settings: Settings): MemberAddress {
  return { nodeId: settings.nodeId, address: settings.externalIpv4Address, port: settings.externalPort, scheme: settings.externalScheme };
}

/** DNS names compare case-insensitively, with or without the final dot. */
function sameName(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');
}
