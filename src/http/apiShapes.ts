import type { AvailabilityNode } from '../node/createNode.js';
import type { Settings } from '../node/settings.js';
import { memberBody, type GroupMember, type NodeState } from '../api/nodeState.js';
import { priorityOf } from '../node/memberList.js';
import type { MemberAddress } from '../peer/peerMessages.js';

/**
 * `GET /ag/api/v1/state`: the product's five keys (`heartbeat_method`, `last_heartbeat_time`, `last_updated`,
 * `node_dns_connection_state`, `node_role`), then this project's (`node_id`, `epoch`, `acting_primary`,
 * `lease_remaining_ms`, `state`). Times are ISO-8601 UTC with `+00:00`.
 *
 * @example
 * reply.send(stateBody(node.getNodeState()));
 */
export function stateBody(state: NodeState): Record<string, unknown> {
  return {
    heartbeat_method: state.heartbeatMethod,
    last_heartbeat_time: state.lastHeartbeatTime,
    last_updated: state.lastUpdated,
    node_dns_connection_state: state.nodeDnsConnectionState,
    node_role: state.nodeRole,
    node_id: state.nodeId,
    epoch: state.epoch,
    acting_primary: state.actingPrimary,
    lease_remaining_ms: state.leaseRemainingMs === null ? null : Math.round(state.leaseRemainingMs),
    state: state.state,
    application_health: state.applicationHealth,
    maintenance: state.maintenance,
  };
}

/**
 * The product's group configuration keys, the only settings `GET /group` serves in `configuration`. This project's
 * settings clients need are in `configuration_extensions`; node-only settings (`node_id`, `data_dir`, TLS files,
 * hooks, checks) and secrets are never served.
 */
export const PRODUCT_CONFIGURATION_FIELDS = [
  'allowed_absence_interval',
  'external_ipv4_address',
  'external_port',
  'external_scheme',
  'group_fqdn',
  'group_fqdn_ttl',
  'health_check_interval',
  'health_report_interval',
  'tsig_algorithm',
  'tsig_name',
  'tsig_secret',
] as const;

/**
 * `GET /group`'s `configuration`: the product's keys only, `tsig_secret` blanked as `""` (as the product serves
 * it); a setting not configured (`group_fqdn`, `tsig_name` before a group is formed) is absent, so the object
 * can be sent back as a settings body.
 *
 * @example
 * configurationBody(node.settings) // { allowed_absence_interval: 60, ..., tsig_secret: '' }
 */
export function configurationBody(settings: Settings): Record<string, unknown> {
  const record = settings.record as Record<string, unknown>;
  return Object.fromEntries(
    PRODUCT_CONFIGURATION_FIELDS.map((field) => [field, field === 'tsig_secret' ? '' : record[field]]).filter(([, value]) => value !== undefined),
  );
}

/**
 * `GET /group`'s `configuration_extensions`: this project's settings that clients need. `lease_duration` is the
 * lease in force in seconds (the setting, or 0.75 × `allowed_absence_interval`), which with the product's timers
 * in `configuration` bounds how long a failover takes; `dns_server` is this node's DNS server (`null` when none);
 * `coordination`, `etcd_endpoints` (`null` when none) and `etcd_prefix` say which authority the group runs on. The
 * etcd TLS files and credentials are node settings and are not served (the password never is).
 *
 * @example
 * configurationExtensionsBody(node.settings)
 * // { lease_duration: 45, dns_server: '127.0.0.1:5353', coordination: 'dns', etcd_endpoints: null, etcd_prefix: '/availability-group' }
 */
export function configurationExtensionsBody(settings: Settings): Record<string, unknown> {
  return {
    lease_duration: settings.leaseDuration,
    dns_server: settings.dnsServer ?? null,
    coordination: settings.coordination,
    etcd_endpoints: settings.etcdEndpoints ?? null,
    etcd_prefix: settings.etcdPrefix,
  };
}

/** A group member as the product lists it in `members`: its IPv4 address, or `null` when there is none. */
function memberAddressBody(member: MemberAddress | null): string | null {
  return member === null ? null : member.address;
}

/** A group member in `member_details` (this project's): `{node_id, address, port, scheme}`, or `null`. */
function memberDetailsBody(member: MemberAddress | null): Record<string, unknown> | null {
  return member === null ? null : { node_id: member.nodeId, address: member.address, port: member.port, scheme: member.scheme };
}

/** A member in `all_members` (this project's): `{node_id, address, port, scheme, priority, role}`. */
function allMembersBody(members: readonly GroupMember[]): Record<string, unknown>[] {
  return members.map((member) => ({
    node_id: member.nodeId,
    address: member.address,
    port: member.port,
    scheme: member.scheme,
    priority: priorityOf(member),
    role: member.role,
  }));
}

/** A group member as a 409 `group_full` answer names it in `details.members` (defined beside the error catalogue). */
export { memberBody };

/**
 * `GET /ag/api/v1/group`, in the product's shape: `configuration` (the product's keys; `tsig_secret` is `""`),
 * `members` (`{primary, secondary}`: IPv4 addresses, `null` when absent) and `state`; and this project's
 * `configuration_extensions`, `member_details` (each member's node id, address, port and scheme) and `all_members`
 * (every member with its priority and role: the Primary, then the Secondaries in the takeover order).
 *
 * @example
 * reply.send(groupBody(node));
 */
export function groupBody(node: AvailabilityNode): Record<string, unknown> {
  const state = node.getNodeState();
  return {
    configuration: configurationBody(node.settings),
    configuration_extensions: configurationExtensionsBody(node.settings),
    members: { primary: memberAddressBody(state.members.primary), secondary: memberAddressBody(state.members.secondary) },
    member_details: { primary: memberDetailsBody(state.members.primary), secondary: memberDetailsBody(state.members.secondary) },
    all_members: allMembersBody(node.allMembers()),
    state: stateBody(state),
  };
}
