import type { EventId, NodeDnsConnectionState, NodeRole } from './constants.js';

/**
 * Handed to `NODE_ROLE_CHANGED` subscribers. `previous` is `null` on the first notification after the node starts,
 * as in the product. `new` is the product's name for the role now; `role` holds the same value under a name that
 * destructures without renaming (`({ previous, role }) => ...`). `at` is the wall-clock time of the change
 * (ISO-8601 UTC), for display only.
 */
export interface NodeRoleChanged {
  readonly eventId: typeof EventId.NODE_ROLE_CHANGED;
  readonly previous: NodeRole | null;
  /** The role now (the product's field name). */
  readonly new: NodeRole;
  /** The role now: the same value as `new`. */
  readonly role: NodeRole;
  /** The epoch the node knows at the change: the number of the Primary it serves or is. */
  readonly epoch: number;
  /** Why, in words: `primary absent`, `lease expired`, `fenced by a newer epoch`, `manual failover`, ... */
  readonly reason: string;
  readonly at: string;
}

/** Handed to `DNS_CONNECTION_STATE_CHANGED` subscribers. */
export interface DnsConnectionStateChanged {
  readonly eventId: typeof EventId.DNS_CONNECTION_STATE_CHANGED;
  readonly previous: NodeDnsConnectionState;
  readonly new: NodeDnsConnectionState;
  readonly reason: string;
  readonly at: string;
}

/** Handed to `PRIMARY_SUSPECTED` subscribers: a standby check saw no new heartbeat by either path. */
export interface PrimarySuspected {
  readonly eventId: typeof EventId.PRIMARY_SUSPECTED;
  /** Milliseconds, on this node's monotonic clock, since the newest heartbeat was first seen. */
  readonly silentForMs: number;
  /** Milliseconds of silence after which the Secondary takes over (`allowed_absence_interval`). */
  readonly absenceLimitMs: number;
  readonly epoch: number;
  readonly at: string;
}

/** Handed to `TAKEOVER_STARTED` subscribers, just before the compare-and-swap update is sent. */
export interface TakeoverStarted {
  readonly eventId: typeof EventId.TAKEOVER_STARTED;
  /** `absence` (the Primary fell silent), `handover` (the Primary stepped down for us), `forced` (manual). */
  readonly mode: TakeoverMode;
  /** The epoch this node will hold if the takeover succeeds. */
  readonly epoch: number;
  readonly at: string;
}

/** Handed to `TAKEOVER_ABANDONED` subscribers: the node stays Secondary. */
export interface TakeoverAbandoned {
  readonly eventId: typeof EventId.TAKEOVER_ABANDONED;
  /** `lost the race` (the records changed under us) or `dns unreachable`. */
  readonly reason: string;
  readonly epoch: number;
  readonly at: string;
}

/** An application health verdict: `unknown` until the first verdict after start (null in the state: no check configured). */
export type ApplicationHealth = 'healthy' | 'unhealthy' | 'unknown';

/**
 * Handed to `APPLICATION_HEALTH_CHANGED` subscribers: the node's application health check (`health_command` or
 * `health_url`) changed its verdict. `unhealthy` after `health_failures` failed checks in a row; `healthy` after
 * one passed check.
 */
export interface ApplicationHealthChanged {
  readonly eventId: typeof EventId.APPLICATION_HEALTH_CHANGED;
  readonly health: 'healthy' | 'unhealthy';
  readonly previous: ApplicationHealth;
  /** Failed checks in a row when the verdict changed (0 on a change to healthy). */
  readonly consecutiveFailures: number;
  readonly at: string;
}

/** Handed to `LEASE_LOST` subscribers: this node stopped acting as Primary. */
export interface LeaseLost {
  readonly eventId: typeof EventId.LEASE_LOST;
  /** `lease expired`, `fenced by a newer epoch`, `own heartbeat write lost the race`, `manual failover`. */
  readonly reason: string;
  readonly epoch: number;
  readonly at: string;
}

/**
 * Handed to `MAINTENANCE_CHANGED` subscribers: the group's maintenance mode (docs/design.md rule 9) changed as this
 * node knows it, by an operator here or learned from the peer. While `enabled`, no node takes over for the
 * Primary's absence; heartbeats, state and manual failover work as always.
 */
export interface MaintenanceChanged {
  readonly eventId: typeof EventId.MAINTENANCE_CHANGED;
  readonly enabled: boolean;
  /** The node on which the operator asked for the change. */
  readonly by: string;
  /** The highest epoch this node knows at the change. */
  readonly epoch: number;
  readonly at: string;
}

/** How a takeover was started. */
export type TakeoverMode = 'absence' | 'handover' | 'forced';

/** Every event a node hands to subscribers, keyed by its event id. */
export interface NodeEventMap {
  NODE_ROLE_CHANGED: NodeRoleChanged;
  DNS_CONNECTION_STATE_CHANGED: DnsConnectionStateChanged;
  PRIMARY_SUSPECTED: PrimarySuspected;
  TAKEOVER_STARTED: TakeoverStarted;
  TAKEOVER_ABANDONED: TakeoverAbandoned;
  LEASE_LOST: LeaseLost;
  MAINTENANCE_CHANGED: MaintenanceChanged;
  APPLICATION_HEALTH_CHANGED: ApplicationHealthChanged;
}

/** Any event a node hands to subscribers. */
export type NodeEvent = NodeEventMap[keyof NodeEventMap];
