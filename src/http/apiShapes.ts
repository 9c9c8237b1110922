import type { AvailabilityNode } from '../node/createNode.js';
import { redactSettings } from '../node/settings.js';
import type { NodeState } from '../api/nodeState.js';
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
  };
}

/** A group member as the API lists it. */
export function memberBody(member: MemberAddress | null): Record<string, unknown> | null {
  if (member === null) return null;
  return { node_id: member.nodeId, external_ipv4_address: member.address, external_port: member.port, external_scheme: member.scheme };
}

/**
 * `GET /ag/api/v1/group`: `configuration` (secrets blanked: `tsig_secret` is `""`, tokens absent), `members` and
 * `state`.
 *
 * @example
 * reply.send(groupBody(node));
 */
export function groupBody(node: AvailabilityNode): Record<string, unknown> {
  const state = node.getNodeState();
  return {
    configuration: redactSettings(node.settings.record),
    members: { primary: memberBody(state.members.primary), secondary: memberBody(state.members.secondary) },
    state: stateBody(state),
  };
}
