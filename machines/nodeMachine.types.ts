import type { NodeDnsConnectionState, NodeRole, HeartbeatMethod } from '../src/api/constants.js';
import type { ApplicationHealth, TakeoverMode } from '../src/api/events.js';
import type { Heartbeat, HeartbeatProgress } from './heartbeat.js';
import type { MaintenanceFlag } from './maintenance.js';

/**
 * A moment on the node's two clocks, read by the I/O layer (never by the machine): `monotonic` milliseconds for
 * decisions, `wall` milliseconds since 1970 for display.
 */
export interface Stamp {
  readonly monotonic: number;
  readonly wall: number;
}

/** The node's timers in milliseconds, from the validated settings. */
export interface NodeTimers {
  /** Heartbeat interval (`health_report_interval`). */
  readonly heartbeatIntervalMs: number;
  /** Standby check interval (`health_check_interval`). */
  readonly checkIntervalMs: number;
  /** Failover period (`allowed_absence_interval`). */
  readonly absenceMs: number;
  /** How long a confirmed heartbeat lets the Primary act, from its send time (`lease_duration`). */
  readonly leaseMs: number;
  /**
   * The longest the peer's lease can still run on this node's clock, counted from a heartbeat this node saw: the
   * lease times the clock-drift factor of rule 3. Always shorter than `absenceMs`.
   */
  readonly leaseBoundMs: number;
  /**
   * The takeover order (rule 1): how much longer than the failover period this Secondary waits before it may take
   * over, its rank among the Secondaries × the standby check interval. 0 (or absent) for the first in the order, and
   * always in a two-member group. The node tells it (`TAKEOVER_ORDER_CHANGED`); settings do not set it.
   */
  readonly takeoverRankDelayMs?: number;
}

/** What the machine is started with. */
export interface NodeMachineInput {
  readonly nodeId: string;
  /** This node's external IPv4 address: what the group's A record holds while this node is Primary. */
  readonly address: string;
  readonly timers: NodeTimers;
  /** Whether persisted membership says this node is in a group (then it resolves its role from DNS, rule 5). */
  readonly inGroup: boolean;
  /** The highest epoch this node persisted, so epochs never go back across restarts. */
  readonly epoch?: number;
  /** The group's maintenance flag as this node persisted it (rule 9); none when absent. */
  readonly maintenance?: MaintenanceFlag;
}

/** A heartbeat the machine wants sent: the I/O layer adds the wall-clock `sentAt` when it sends it. */
export type HeartbeatIntent = Omit<Heartbeat, 'sentAt'>;

/** The group's DNS records as last read: the expectations of the next compare-and-swap. */
export interface GroupRecords {
  /** The A record's address, or null when there is none. */
  readonly address: string | null;
  /** The TXT record's exact value, or null when there is none. */
  readonly txt: string | null;
}

/** The newest heartbeat this node has seen from the group's Primary and when it was first seen. */
export interface HeartbeatObservation {
  readonly method: HeartbeatMethod;
  /** The Primary's wall-clock send time, for display (`last_heartbeat_time`). */
  readonly sentAtWall: number;
}

/** A failure worth showing to whoever asked for the operation that failed. */
export interface NodeFailure {
  readonly code: string;
  readonly message: string;
}

/**
 * Rule 1, what this node has seen of the Primary's heartbeats and when. Monotonic fields are milliseconds on this
 * node's clock.
 */
export interface ProgressWatch {
  /** The highest `(epoch, seq)` seen by either path (on a Primary: its own newest heartbeat). */
  readonly seen: HeartbeatProgress | null;
  /** Secondary side: when `seen` last rose, on the monotonic clock. */
  readonly lastProgressAt: number | null;
  /**
   * The last monotonic time at which this node knew `epoch` was current: a DNS read that showed it, or its own
   * confirmed heartbeat while it held it. A newer epoch began after this instant (heartbeat plausibility).
   */
  readonly epochKnownAt: number | null;
  /** The newest heartbeat seen (or, on a Primary, confirmed), for display. */
  readonly lastHeartbeat: HeartbeatObservation | null;
  /** Wall-clock time of the last standby check or DNS read (`last_updated`). */
  readonly lastCheckedAtWall: number | null;
  /** The newest `(epoch, seq)` seen when the running standby check began (real silence only). */
  readonly checkBaseline: HeartbeatProgress | null;
  /**
   * The monotonic time at which the absence deadline (`lastProgressAt` + failover period) was last armed: the stamp
   * of the progress or read that armed it; null while it is not armed.
   */
  readonly absenceDeadlineArmedAt: number | null;
}

/** Rules 3 and 4, the Primary side: its own heartbeats and the lease they confirm. Monotonic fields in milliseconds. */
export interface PrimaryLease {
  /** Sequence number of the newest heartbeat this node sent. */
  readonly ownSeq: number;
  /** The TXT value this node last wrote, the expectation of its next write (rule 4). */
  readonly ownRecord: string | null;
  /** The send time of the newest confirmed heartbeat, monotonic (rule 3). */
  readonly lastConfirmedSentAt: number | null;
  /** When the peer last accepted a direct heartbeat, monotonic: is there a healthy peer to hand over to? */
  readonly peerAcceptedAt: number | null;
  /** Until when this node may act as Primary, monotonic (rules 3 and 7). */
  readonly leaseExpiresAt: number | null;
  /** The monotonic time at which the lease timer was last armed. */
  readonly leaseArmedAt: number | null;
}

/** Rules 2 and 6, a takeover this node makes: how it was started and what its compare-and-swap expects. */
export interface TakeoverInProgress {
  readonly takeoverMode: TakeoverMode | null;
  /** After a forced takeover: until when the old Primary's lease can still run, monotonic (rule 6). */
  readonly oldLeaseEndsAt: number | null;
  /** The monotonic time at which the wait for `oldLeaseEndsAt` was armed. */
  readonly oldLeaseArmedAt: number | null;
  /** The records a handover offer said the offerer left: the takeover's compare-and-swap expects exactly these. */
  readonly offeredRecords: GroupRecords | null;
  /** Who made the handover offer being taken, and how often its leftover write made the takeover retry. */
  readonly offeredBy: string | null;
  readonly offerRetries: number;
}

/** Rule 6, manual failover: a request asked on this node, and this node's answers to its peer's probe and offer. */
export interface FailoverRequest {
  /** Whether a manual failover asked on this node is still running. */
  readonly failoverPending: boolean;
  /**
   * After a handover whose answer was lost, the epoch at which the records named the peer: the manual failover asked
   * here answers `completed` only once a heartbeat of that epoch past the takeover's write shows the peer acts.
   */
  readonly newPrimaryToConfirm: number | null;
  /** How the last manual failover asked on this node ended; null while one runs or before any. */
  readonly failoverResult: FailoverResult | null;
  /** Primary side: the node whose manual failover this node's handover answers (itself, or the requesting peer). */
  readonly handoverAskedBy: string | null;
  /** Whether the last handover probe found this node ready to take over (a fresh DNS read succeeded). */
  readonly handoverReady: HandoverProbeAnswer | null;
  /** The answer to the last handover offer this node received, once decided. */
  readonly offerAnswer: HandoverAnswerBody | null;
}

/** Rule 10, application health (`health_command`/`health_url`) of this node and, as a Primary, of its peer. */
export interface ApplicationHealthWatch {
  /** This node's verdict; null while no check is configured, `unknown` until the first verdict. */
  readonly applicationHealth: ApplicationHealth | null;
  /** Failed application health checks in a row. */
  readonly healthFailures: number;
  /** Failed checks in a row that make the application unhealthy (`health_failures`). */
  readonly healthFailureLimit: number;
  /** Primary side: the Secondary's application health, as its last accepted heartbeat acknowledgement said; null: not heard. */
  readonly peerApplicationHealth: ApplicationHealth | null;
  /** Primary side: from when (monotonic) this node may hand over for application health; null until its first check while acting. */
  readonly healthHandoverAllowedFrom: number | null;
}

/**
 * The machine's context: everything it knows. Few top-level fields on purpose: XState copies the context with
 * `Object.assign` on every `assign`, and V8 turns an object built that way with more than about 19 properties into a
 * slow dictionary, which made every step (and every read of the context) several times slower. Related facts are
 * grouped by the rule that owns them; `test/nodeContext.test.ts` keeps the context a fast object.
 */
export interface NodeContext {
  readonly nodeId: string;
  readonly address: string;
  readonly timers: NodeTimers;
  readonly inGroup: boolean;
  /** The role last announced to subscribers; null before the first announcement after start. */
  readonly role: NodeRole | null;
  readonly dnsConnection: NodeDnsConnectionState;
  /** The highest epoch this node knows of. */
  readonly epoch: number;
  /** The node holding `epoch`, when known. */
  readonly holder: string | null;
  /** The records as last read: what a takeover expects to find (rule 2). */
  readonly records: GroupRecords | null;
  /** The group's maintenance flag as this node knows it (rule 9): while enabled, no takeover for absence. */
  readonly maintenance: MaintenanceFlag;
  /** Why the next role change happens, in words; set by the transition that causes it. */
  readonly reason: string;
  readonly failure: NodeFailure | null;
  readonly progress: ProgressWatch;
  readonly lease: PrimaryLease;
  readonly takeover: TakeoverInProgress;
  readonly failover: FailoverRequest;
  readonly health: ApplicationHealthWatch;
}

/** The context's fields that group several facts: a patch changes some facts of a group and keeps the others. */
export type NodeContextGroup = 'progress' | 'lease' | 'takeover' | 'failover' | 'health';

/**
 * A change to the context, as the rules return it: top-level fields replaced, grouped fields changed one by one
 * (see `patchContext`).
 */
export type NodeContextPatch = {
  readonly [K in keyof NodeContext]?: K extends NodeContextGroup ? Partial<NodeContext[K]> : NodeContext[K];
};

/** The node asks the machine to form a new group with itself as Primary. */
export interface CreateGroupEvent {
  readonly type: 'CREATE_GROUP';
  readonly at: Stamp;
}
/** The node has joined a group (membership persisted): resolve the role from DNS. */
export interface JoinGroupEvent {
  readonly type: 'JOIN_GROUP';
  /** The group's timers, taken from its Primary. */
  readonly timers: NodeTimers;
  readonly at: Stamp;
}
/** The group's settings changed: new timers apply from the next timer armed. */
export interface SettingsChangedEvent {
  readonly type: 'SETTINGS_CHANGED';
  readonly timers: NodeTimers;
  readonly at: Stamp;
}
/**
 * This node's place in the takeover order changed (a member joined or left, another Primary, new priorities): the
 * node tells the machine the delay its rank adds to the failover period (rule 1). No clock is read for it.
 */
export interface TakeoverOrderChangedEvent {
  readonly type: 'TAKEOVER_ORDER_CHANGED';
  /** Rank among the Secondaries (how many come before this node) × the standby check interval, ms. */
  readonly takeoverRankDelayMs: number;
}
/** The node leaves its group; a Primary removes the group's records first. */
export interface LeaveGroupEvent {
  readonly type: 'LEAVE_GROUP';
  readonly at: Stamp;
}
/** A heartbeat arrived on the direct path from the peer. */
export interface HeartbeatReceivedEvent {
  readonly type: 'HEARTBEAT_RECEIVED';
  readonly heartbeat: Heartbeat;
  readonly at: Stamp;
}
/**
 * How a manual failover asked on this node ended (rule 6). `completed`: the new Primary acts. Otherwise the group
 * is as it was, or (`unconfirmed`) a DNS update went unanswered and the records decide.
 */
export interface FailoverResult {
  readonly outcome: 'completed' | 'refused' | 'failed' | 'unconfirmed';
  /** Machine-readable: `in_progress`, `not_ready`, `stale`, `dns_unreachable`, `peer_unreachable`, `lost_race`, ... */
  readonly code: string;
  readonly reason: string;
}

/** Manual failover asked on this node (rule 6). */
export interface FailoverRequestedEvent {
  readonly type: 'FAILOVER_REQUESTED';
  readonly at: Stamp;
}
/** The Primary peer stepped down and asks this node to take over now (rule 6). */
export interface HandoverOfferedEvent {
  readonly type: 'HANDOVER_OFFERED';
  readonly from: string;
  readonly epoch: number;
  /** The records the offerer left in DNS: the takeover's compare-and-swap expects exactly these. */
  readonly records: GroupRecords;
  /** The node on which the failover was asked: the offerer itself, or this node (its step-down request). */
  readonly askedBy: string;
  readonly at: Stamp;
}
/** The Primary peer asks whether this node could take over now (before it steps down, rule 6). */
export interface HandoverProbedEvent {
  readonly type: 'HANDOVER_PROBED';
  readonly from: string;
  readonly epoch: number;
  readonly at: Stamp;
}
/** The Secondary peer asks this Primary to hand over to it (rule 6). */
export interface StepDownRequestedEvent {
  readonly type: 'STEP_DOWN_REQUESTED';
  readonly from: string;
  /** The epoch the requester knows: a request from before a newer epoch is stale. */
  readonly epoch: number;
  readonly at: Stamp;
}
/** An operator asked on this node to pause (`enabled`) or resume the group's automatic takeover (rule 9). */
export interface MaintenanceRequestedEvent {
  readonly type: 'MAINTENANCE_REQUESTED';
  readonly enabled: boolean;
  readonly at: Stamp;
}
/** The application health checker started (`checked`) or stopped: the verdict starts again from `unknown` (or null). */
export interface ApplicationHealthConfiguredEvent {
  readonly type: 'APPLICATION_HEALTH_CONFIGURED';
  readonly checked: boolean;
  /** Failed checks in a row that make the application unhealthy (`health_failures`). */
  readonly failuresToFail: number;
}
/** One application health check finished (rule 10): passed or failed, at `at`. */
export interface ApplicationHealthCheckedEvent {
  readonly type: 'APPLICATION_HEALTH_CHECKED';
  readonly healthy: boolean;
  readonly at: Stamp;
}
/** Internal: a Secondary's absence deadline passed (rule 1): the last progress it saw + the failover period. */
export interface AbsenceDeadlineReachedEvent {
  readonly type: 'ABSENCE_DEADLINE_REACHED';
}
/** A heartbeat was confirmed (acknowledged by the peer or written to DNS): the lease runs from `sentAt` (rule 3). */
export interface HeartbeatConfirmation {
  /** Which path confirmed it: the peer's acknowledgement or the TXT write. */
  readonly method: HeartbeatMethod;
  readonly sentAt: Stamp;
  /** The heartbeat's wall-clock send time, for display. */
  readonly sentAtWall: number;
  readonly at: Stamp;
}

/** Every event the node machine accepts. */
export type NodeMachineEvent =
  | CreateGroupEvent
  | JoinGroupEvent
  | SettingsChangedEvent
  | TakeoverOrderChangedEvent
  | LeaveGroupEvent
  | HeartbeatReceivedEvent
  | FailoverRequestedEvent
  | HandoverOfferedEvent
  | HandoverProbedEvent
  | StepDownRequestedEvent
  | MaintenanceRequestedEvent
  | DirectHeartbeatAckedEvent
  | DirectHeartbeatFailedEvent
  | DnsHeartbeatWrittenEvent
  | DnsHeartbeatContestedEvent
  | DnsHeartbeatFailedEvent
  | AbsenceDeadlineReachedEvent
  | ApplicationHealthConfiguredEvent
  | ApplicationHealthCheckedEvent;

/** The events that come from outside the machine (the node sends them). */
export type NodeCommandEvent = Exclude<NodeMachineEvent, HeartbeatOutcomeEvent | AbsenceDeadlineReachedEvent>;

// ---- The invoked actors' contracts: the node and the simulator implement them over their ports ----

/** Output of `readGroupRecords`: the records and the heartbeat parsed from the TXT value (null if none/invalid). */
export interface RecordsRead extends GroupRecords {
  readonly heartbeat: Heartbeat | null;
  /**
   * Just before the read was sent. The records show DNS as it was at some instant between this and `at`; a process
   * paused while the answer waited must not count the pause as the Primary's silence (rule 1).
   */
  readonly sentAt: Stamp;
  readonly at: Stamp;
}

/** Output of every write of a heartbeat record (group creation, own heartbeat, takeover). */
export interface HeartbeatWritten {
  readonly heartbeat: Heartbeat;
  /** The exact TXT value written. */
  readonly txt: string;
  /** Just before the update was sent: the lease runs from here. */
  readonly sentAt: Stamp;
  /** When the server's answer arrived. */
  readonly at: Stamp;
}

/** Input of `createGroupRecords`. */
export interface CreateRecordsInput {
  readonly heartbeat: HeartbeatIntent;
}
/** Input of `writeHeartbeatRecord`: compare-and-swap on this node's own last TXT value (rule 4). */
export interface WriteHeartbeatInput {
  readonly expectedTxt: string;
  readonly heartbeat: HeartbeatIntent;
  /** The lease deadline: the I/O layer refuses to send once it has passed (rule 7). Null when reclaiming. */
  readonly leaseExpiresAt: number | null;
}
/** Input of `offerHandover`: the handover offer's content. */
export interface HandoverOfferInput {
  readonly epoch: number;
  readonly records: GroupRecords;
  /** The node on which the failover was asked. */
  readonly askedBy: string;
}
/** Input of `takeOverRecords`: compare-and-swap of A and TXT in one update (rule 2). */
export interface TakeOverInput {
  readonly expected: GroupRecords;
  readonly heartbeat: HeartbeatIntent;
}
/** Input of `removeGroupRecords`. */
export interface RemoveRecordsInput {
  readonly expected: GroupRecords;
}

/** The peer's answer to a direct heartbeat: its acknowledgement (docs/design.md rule 3 and 4). */
export interface HeartbeatAck {
  readonly nodeId: string;
  readonly role: NodeRole;
  /** The highest epoch the peer knows. A higher one than the sender's means the sender was replaced. */
  readonly epoch: number;
  /** Whether the peer recorded this heartbeat as progress and so promises not to take over for a failover period. */
  readonly accepted: boolean;
  /** The peer's application health (rule 10); absent from a peer that does not report it (counts as unknown). */
  readonly applicationHealth?: ApplicationHealth | null;
  /** The group's maintenance flag as the peer knows it (rule 9). Absent until anyone paused the group. */
  readonly maintenance?: MaintenanceFlag;
}
/**
 * What the Primary tells its `heartbeatSender` each heartbeat interval: send this heartbeat on both paths, straight
 * to the Secondary and as the TXT record (rules 3 and 4).
 */
export interface SendHeartbeatCommand {
  readonly type: 'SEND_HEARTBEAT';
  readonly heartbeat: HeartbeatIntent;
  /** The TXT value this node last wrote: the DNS path's compare-and-swap expects it (rule 4). */
  readonly expectedTxt: string;
  /** The lease deadline: the I/O layer does not send once it has passed (rule 7): a resumed process says nothing stale. */
  readonly leaseExpiresAt: number | null;
}
/** A direct heartbeat the Secondary answered, with its acknowledgement. */
export interface DirectHeartbeatSent {
  readonly heartbeat: Heartbeat;
  readonly ack: HeartbeatAck;
  readonly sentAt: Stamp;
  readonly at: Stamp;
}
/** `heartbeatSender`: the Secondary acknowledged a direct heartbeat (accepted or not: the acknowledgement says). */
export interface DirectHeartbeatAckedEvent extends DirectHeartbeatSent {
  readonly type: 'DIRECT_HEARTBEAT_ACKED';
}
/** `heartbeatSender`: a direct heartbeat got no acknowledgement, or was not sent (no peer yet, lease run out). */
export interface DirectHeartbeatFailedEvent {
  readonly type: 'DIRECT_HEARTBEAT_FAILED';
  readonly error: unknown;
}
/** `heartbeatSender`: the heartbeat's TXT compare-and-swap was applied. */
export interface DnsHeartbeatWrittenEvent extends HeartbeatWritten {
  readonly type: 'DNS_HEARTBEAT_WRITTEN';
}
/**
 * `heartbeatSender`: the heartbeat's TXT compare-and-swap failed its prerequisite, and these are the records read
 * right after it (rule 4: another node took over, or an earlier write of this node's own was applied late).
 */
export interface DnsHeartbeatContestedEvent extends RecordsRead {
  readonly type: 'DNS_HEARTBEAT_CONTESTED';
}
/** `heartbeatSender`: the TXT write (or the read that verifies a contested one) failed, or was not sent (lease run out). */
export interface DnsHeartbeatFailedEvent {
  readonly type: 'DNS_HEARTBEAT_FAILED';
  readonly error: unknown;
}
/** What `heartbeatSender` reports: one event per path per heartbeat it sent. */
export type HeartbeatOutcomeEvent =
  | DirectHeartbeatAckedEvent
  | DirectHeartbeatFailedEvent
  | DnsHeartbeatWrittenEvent
  | DnsHeartbeatContestedEvent
  | DnsHeartbeatFailedEvent;
/**
 * The answer to a handover offer. `accepted`: the offer's receiver now acts as Primary. Otherwise it does not; the
 * reason says why (stale offer, lost race, DNS unreachable, ...).
 */
export interface HandoverAnswerBody {
  readonly accepted: boolean;
  /** Not accepted, but not refused either: the receiver's takeover went unanswered and may still be applied. */
  readonly unconfirmed?: boolean;
  readonly reason: string;
}
/** Output of `offerHandover`. */
export interface HandoverAnswer extends HandoverAnswerBody {
  readonly at: Stamp;
}
/** The answer to a handover probe: whether this node could take over now, and why not. */
export interface HandoverProbeAnswer {
  readonly ready: boolean;
  readonly reason: string;
}
/** Output of `probeHandover`. */
export interface HandoverProbed extends HandoverProbeAnswer {
  readonly at: Stamp;
}
/**
 * The answer to a step-down request. `handingOver`: the Primary stepped down and its offer follows. `busy`: a
 * failover is already under way (the reason names the new Primary). `stale`: the requester knows an old epoch.
 * `notPrimary`: the peer does not act as Primary (the requester may force the takeover).
 */
export interface StepDownAnswerBody {
  readonly outcome: 'handingOver' | 'busy' | 'stale' | 'notPrimary';
  readonly epoch: number;
  readonly reason: string;
}
/** Output of `requestStepDown`. */
export interface StepDownAnswer extends StepDownAnswerBody {
  readonly at: Stamp;
}
/** Output of `removeGroupRecords`. */
export interface RecordsRemoved {
  readonly at: Stamp;
}
