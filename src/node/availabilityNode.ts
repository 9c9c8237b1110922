/**
 * The public shape of a node: {@link AvailabilityNode} (what `createNode` returns), the ports it runs on and the
 * answers of its operations. Types only; the behaviour lives in createNode.ts and the modules it wires.
 */
import type { Actor, InspectionEvent } from 'xstate';
import type { NodeMachine } from '../../machines/nodeMachine.js';
import type { MaintenanceFlag } from '../../machines/maintenance.js';
import type { EventId as EventIdType } from '../api/constants.js';
import type { GroupMember, GroupMembers, NodeState } from '../api/nodeState.js';
import type { GroupAuthority } from '../coordination/groupAuthority.js';
import type { PeerMessage, PeerReplyTo } from '../peer/peerMessages.js';
import type { PeerTransport } from '../peer/peerTransport.js';
import type { ApplicationHealthProbe } from './applicationHealthProbe.js';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { NodeStore } from './nodeStore.js';
import type { Settings, SettingsInput } from './settings.js';
import type { Subscriber } from './subscriptions.js';

/**
 * The ports a node runs on. `dns` and `peer` have no in-memory default: pass them (`inMemoryPorts()` for a node
 * inside this process), or let the settings build them (`dns_server` and the TSIG key give the real DNS client,
 * `coordination: etcd` with `etcd_endpoints` the etcd client; the signed HTTP peer transport needs an HTTP server, which `startNetworkedNode` runs).
 */
export interface NodePorts {
  /** Monotonic and wall clocks and timers; default: the system clock. */
  readonly clock?: Clock;
  /**
   * The group's authority (named `dns` since the product's authority is DNS); default, from the settings: the RFC 2136
   * + TSIG client of `dns_server` and the TSIG key, or with `coordination: etcd` the etcd client of `etcd_endpoints`.
   */
  readonly dns?: GroupAuthority;
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
   * `to` names the member that becomes Primary: asked on the Primary, it hands over to that member; asked on that
   * member, it takes over; elsewhere `MembershipError` naming the Primary (`NoSuchMemberError` for no member).
   * Without `to`, a Primary hands over to the first Secondary in the takeover order (priority, then node id).
   *
   * @example
   * await primary.failover({ to: 'c' });
   */
  failover(options?: { to?: string }): Promise<void>;
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
  /** The group's members, as the product lists them: the Primary and the first Secondary in the takeover order. */
  members(): GroupMembers;
  /**
   * Every member of the group with its role (`all_members` of `GET /group`): the Primary first, then the Secondaries
   * in the takeover order (priority high to low, then node id). Empty outside a group.
   */
  allMembers(): readonly GroupMember[];
  /** The running actor, for inspection; null before start. */
  readonly actor: Actor<NodeMachine> | null;
}
