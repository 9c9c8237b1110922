/**
 * The node's state as its callers see it, built from a machine snapshot through its tags (machines/nodeTags.ts) and
 * its context, never from state names: {@link nodeStateOf} (the product's NodeState), {@link membersOf}, and the
 * questions the node's operations wait on.
 */
import type { NodeSnapshot } from '../../machines/nodeReplies.js';
import { leaseIsValidAt } from '../../machines/nodeRules.js';
import { snapshotLabel } from '../../machines/stateLabel.js';
import { NodeTag } from '../../machines/nodeTags.js';
import { NodeRole } from '../api/constants.js';
import type { GroupMember, GroupMembers, NodeState } from '../api/nodeState.js';
import type { MemberAddress } from '../peer/peerMessages.js';
import { formatWallTime } from './clock.js';
import { inTakeoverOrder } from './memberList.js';

/**
 * The product's NodeState at monotonic instant `now`: `actingPrimary` checks the lease at that instant (rule 7).
 *
 * @example
 * nodeStateOf(actor.getSnapshot(), clock.monotonicNow(), members).nodeRole; // 'secondary'
 */
export function nodeStateOf(snapshot: NodeSnapshot, now: number, members: GroupMembers): NodeState {
  const { context } = snapshot;
  const nodeRole = nodeRoleOf(snapshot);
  // The product's last_updated: the Secondary's last standby check "if applicable", so none on a Primary (which may
  // have checked as a Secondary before) or outside a group.
  const lastChecked = nodeRole === NodeRole.SECONDARY ? context.progress.lastCheckedAtWall : null;
  return {
    nodeRole,
    nodeDnsConnectionState: context.dnsConnection,
    heartbeatMethod: context.progress.lastHeartbeat?.method ?? null,
    lastHeartbeatTime: context.progress.lastHeartbeat === null ? null : formatWallTime(context.progress.lastHeartbeat.sentAtWall),
    lastUpdated: lastChecked === null ? null : formatWallTime(lastChecked),
    nodeId: context.nodeId,
    epoch: context.epoch,
    actingPrimary: leaseIsValidAt(context, now),
    leaseRemainingMs: context.role === NodeRole.PRIMARY && context.lease.leaseExpiresAt !== null ? Math.max(0, context.lease.leaseExpiresAt - now) : null,
    state: snapshotLabel(snapshot),
    members,
    applicationHealth: context.health.applicationHealth,
    maintenance: context.maintenance.enabled,
  };
}

/**
 * The role `getNodeState()` reports (`node_role`): the one last announced, or, before the first announcement after
 * start, secondary in a group and not-in-group outside one.
 *
 * @example
 * nodeRoleOf(actor.getSnapshot()) // 'primary'
 */
export function nodeRoleOf(snapshot: NodeSnapshot): NodeRole {
  return snapshot.context.role ?? (snapshot.hasTag(NodeTag.inGroup) ? NodeRole.SECONDARY : NodeRole.NOT_IN_GROUP);
}

/**
 * The group's members as the product lists them: the Primary and the first Secondary in the takeover order (for
 * two members: this node, `self`, and the other member by role), from this node's view of the other `members`.
 *
 * @example
 * membersOf(snapshot, self, [b]); // { primary: self, secondary: b } on the Primary
 */
export function membersOf(snapshot: NodeSnapshot | null, self: MemberAddress, members: readonly MemberAddress[]): GroupMembers {
  const all = allMembersOf(snapshot, self, members);
  return { primary: plainMember(all.find((member) => member.role === 'primary')), secondary: plainMember(all.find((member) => member.role === 'secondary')) };
}

/**
 * Every member of the group with its role as this node knows it, the Primary first, then the Secondaries in the
 * takeover order (priority high to low, then node id); empty outside a group. This node is the Primary when its
 * role is; otherwise the Primary is the member that holds the epoch this node knows (in a two-member group, the
 * other member), and none while it is not known.
 *
 * @example
 * allMembersOf(snapshot, self, [b, c]).map((m) => `${m.nodeId}:${m.role}`); // ['a:primary', 'c:secondary', 'b:secondary']
 */
export function allMembersOf(snapshot: NodeSnapshot | null, self: MemberAddress, members: readonly MemberAddress[]): GroupMember[] {
  if (snapshot === null || !snapshot.context.inGroup) return [];
  const selfIsPrimary = snapshot.context.role === NodeRole.PRIMARY;
  const primaryId = selfIsPrimary ? self.nodeId : (members.find((member) => member.nodeId === snapshot.context.holder) ?? (members.length === 1 ? members[0] : undefined))?.nodeId;
  const everyone = [self, ...members];
  const primary = everyone.filter((member) => member.nodeId === primaryId);
  const secondaries = inTakeoverOrder(everyone.filter((member) => member.nodeId !== primaryId));
  return [...primary.map((member) => ({ ...member, role: 'primary' as const })), ...secondaries.map((member) => ({ ...member, role: 'secondary' as const }))];
}

/** A listed member as a plain address (without its role), or null. */
function plainMember(member: GroupMember | undefined): MemberAddress | null {
  if (member === undefined) return null;
  const { role: _role, ...address } = member;
  return address;
}

/**
 * The node knows its role: it no longer reads the records (rule 5) nor re-asserts itself from them.
 *
 * @example
 * await settle(knowsItsRole); // after start()
 */
export function knowsItsRole(snapshot: NodeSnapshot): boolean {
  return !snapshot.hasTag(NodeTag.resolving) && !snapshot.hasTag(NodeTag.reclaiming);
}

/**
 * The node is outside any group (it may create or join one).
 *
 * @example
 * if (!isOutsideGroup(snapshot)) throw new MembershipError('This node is already in a group.');
 */
export function isOutsideGroup(snapshot: NodeSnapshot): boolean {
  return snapshot.hasTag(NodeTag.notInGroup);
}

/**
 * The Primary acts again after a manual failover that did not complete: acting, not handing over, its lease set.
 *
 * @example
 * await settleWithin(leaseMs, actsAgainAsPrimary);
 */
export function actsAgainAsPrimary(snapshot: NodeSnapshot): boolean {
  return snapshot.hasTag(NodeTag.acting) && !snapshot.hasTag(NodeTag.handingOver) && snapshot.context.lease.leaseExpiresAt !== null;
}
