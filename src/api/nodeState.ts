import type { HeartbeatMethod, NodeDnsConnectionState, NodeRole } from './constants.js';
import type { ApplicationHealth } from './events.js';

/** Where a group member listens: what the group's `members` list holds. */
export interface MemberAddress {
  readonly nodeId: string;
  readonly address: string;
  readonly port: number;
  readonly scheme: 'http' | 'https';
  /** Its takeover priority (`priority`, 0..1000, higher first); absent from older nodes and peers: the default, 100. */
  readonly priority?: number;
}

/**
 * A member in the HTTP API's (the product's) shape, or null.
 *
 * @example
 * memberBody({ nodeId: 'a', address: '127.0.0.2', port: 8080, scheme: 'http' }); // { node_id: 'a', external_ipv4_address: '127.0.0.2', ... }
 */
export function memberBody(member: MemberAddress | null): Record<string, unknown> | null {
  if (member === null) return null;
  return { node_id: member.nodeId, external_ipv4_address: member.address, external_port: member.port, external_scheme: member.scheme };
}

/**
 * The group's members as the product lists them (`primary`, and as `secondary` the first Secondary in the takeover
 * order), and every member with its role (`all`, this project's addition: a group may have more than two members).
 */
export interface GroupMembers {
  readonly primary: MemberAddress | null;
  readonly secondary: MemberAddress | null;
  readonly all?: readonly GroupMember[];
}

/** A member of the group with the role this node knows it in. */
export interface GroupMember extends MemberAddress {
  readonly role: 'primary' | 'secondary';
}

/**
 * A node's state, as `getNodeState()` returns it. The first five fields are the product's `get_node_state()` (in
 * camelCase; the HTTP API serves them snake_case); the rest are this project's. Times are ISO-8601 UTC with
 * `+00:00`, for display: no decision uses them.
 */
export interface NodeState {
  readonly nodeRole: NodeRole;
  readonly nodeDnsConnectionState: NodeDnsConnectionState;
  /** How the newest heartbeat travelled (on a Primary: how its newest confirmed heartbeat was confirmed). */
  readonly heartbeatMethod: HeartbeatMethod | null;
  /** The newest heartbeat's send time on the Primary's wall clock. */
  readonly lastHeartbeatTime: string | null;
  /** When this node, as Secondary, last ran its standby check (read DNS); null on a Primary and outside a group. */
  readonly lastUpdated: string | null;
  readonly nodeId: string;
  /** The highest epoch this node knows: the number of the current Primary. */
  readonly epoch: number;
  /** Role primary and a lease valid at the instant of the call (docs/design.md rule 7). */
  readonly actingPrimary: boolean;
  /** Milliseconds of lease left at the instant of the call; null when not Primary. */
  readonly leaseRemainingMs: number | null;
  /** The statechart's state, e.g. `secondary.watching` (for people and the inspector). */
  readonly state: string;
  readonly members: GroupMembers;
  /**
   * This node's application health (`health_command`/`health_url`, docs/design.md rule 10): `healthy`, `unhealthy`
   * (after `health_failures` failed checks in a row), `unknown` before the first verdict; null when no check is set.
   */
  readonly applicationHealth: ApplicationHealth | null;
  /** Whether the group's automatic takeover is paused, as this node knows (maintenance mode, docs/design.md rule 9). */
  readonly maintenance: boolean;
}
