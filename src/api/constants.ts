/**
 * The constants a workflow compares against. Their string values are the product's (BlueCat Gateway availability
 * groups), so JSON from the HTTP API and values in code are the same strings.
 */

/**
 * A node's role in its availability group.
 *
 * @example
 * if (getNodeState().nodeRole === NodeRole.PRIMARY) { ... }
 */
export const NodeRole = {
  PRIMARY: 'primary',
  SECONDARY: 'secondary',
  NOT_IN_GROUP: 'not_in_group',
} as const;
export type NodeRole = (typeof NodeRole)[keyof typeof NodeRole];

/**
 * Whether the node can reach the group's DNS authority: `not_applicable` when the node is not in a group or the
 * group's records are gone from DNS.
 */
export const NodeDnsConnectionState = {
  CONNECTED: 'connected',
  DISCONNECTED: 'disconnected',
  NOT_APPLICABLE: 'not_applicable',
} as const;
export type NodeDnsConnectionState = (typeof NodeDnsConnectionState)[keyof typeof NodeDnsConnectionState];

/** How the newest heartbeat reached this node: straight from the peer, or read from the group's TXT record. */
export const HeartbeatMethod = {
  DIRECT: 'direct',
  DNS: 'dns',
} as const;
export type HeartbeatMethod = (typeof HeartbeatMethod)[keyof typeof HeartbeatMethod];

/**
 * The events a workflow can `subscribe()` to. `NODE_ROLE_CHANGED` is the product's; the others are this project's.
 *
 * - `NODE_ROLE_CHANGED`: the role changed ({@link NodeRoleChanged}).
 * - `DNS_CONNECTION_STATE_CHANGED`: the DNS connection state changed ({@link DnsConnectionStateChanged}).
 * - `PRIMARY_SUSPECTED`: a standby check found no new heartbeat by either path ({@link PrimarySuspected}).
 * - `TAKEOVER_STARTED`: the compare-and-swap takeover update is about to be sent ({@link TakeoverStarted}).
 * - `TAKEOVER_ABANDONED`: the takeover lost the race or could not reach DNS ({@link TakeoverAbandoned}).
 * - `LEASE_LOST`: this Primary stopped acting as Primary: lease ran out, or it was fenced ({@link LeaseLost}).
 * - `MAINTENANCE_CHANGED`: the group's maintenance mode was switched on or off, here or on the peer ({@link MaintenanceChanged}).
 * - `APPLICATION_HEALTH_CHANGED`: the node's application health check changed its verdict ({@link ApplicationHealthChanged}).
 */
export const EventId = {
  NODE_ROLE_CHANGED: 'NODE_ROLE_CHANGED',
  DNS_CONNECTION_STATE_CHANGED: 'DNS_CONNECTION_STATE_CHANGED',
  PRIMARY_SUSPECTED: 'PRIMARY_SUSPECTED',
  TAKEOVER_STARTED: 'TAKEOVER_STARTED',
  TAKEOVER_ABANDONED: 'TAKEOVER_ABANDONED',
  LEASE_LOST: 'LEASE_LOST',
  MAINTENANCE_CHANGED: 'MAINTENANCE_CHANGED',
  APPLICATION_HEALTH_CHANGED: 'APPLICATION_HEALTH_CHANGED',
} as const;
export type EventId = (typeof EventId)[keyof typeof EventId];

/** Every valid event id, in a stable order (used in error messages). */
export const EVENT_IDS: readonly EventId[] = Object.values(EventId);
