/**
 * The group's member list as one node keeps it: the other members (never itself), ordered for the takeover order
 * (docs/design.md rule 1, "The takeover order"): priority high to low, then node id. Pure functions; NodeCore keeps
 * the list.
 */
import type { MemberAddress } from '../peer/peerMessages.js';
import { DEFAULT_PRIORITY } from './settings.js';

/** A member's takeover priority: its `priority`, or the default for a member of an older version that sends none. */
export function priorityOf(member: Pick<MemberAddress, 'priority'>): number {
  return member.priority ?? DEFAULT_PRIORITY;
}

/**
 * Whether `a` comes before `b` in the takeover order: higher priority first, then the lower node id.
 *
 * @example
 * comesFirst({ nodeId: 'c', priority: 200 }, { nodeId: 'b', priority: 100 }); // true
 */
export function comesFirst(a: Pick<MemberAddress, 'nodeId' | 'priority'>, b: Pick<MemberAddress, 'nodeId' | 'priority'>): boolean {
  const pa = priorityOf(a);
  const pb = priorityOf(b);
  return pa !== pb ? pa > pb : a.nodeId < b.nodeId;
}

/**
 * `members` in the takeover order (a new array).
 *
 * @example
 * inTakeoverOrder([b, c]).map((m) => m.nodeId); // ['c', 'b'] when c has the higher priority
 */
export function inTakeoverOrder<M extends Pick<MemberAddress, 'nodeId' | 'priority'>>(members: readonly M[]): M[] {
  return [...members].sort((a, b) => (comesFirst(a, b) ? -1 : comesFirst(b, a) ? 1 : 0));
}

/**
 * A Secondary's rank in the takeover order: how many other Secondaries come before it. The Primary (`primaryId`,
 * absent or not) is not counted: the Secondaries wait for it in turn.
 *
 * @example
 * takeoverRank(self, [a, c], 'a'); // 1 when c comes before self, else 0
 */
export function takeoverRank(self: Pick<MemberAddress, 'nodeId' | 'priority'>, others: readonly MemberAddress[], primaryId: string | null): number {
  return others.filter((member) => member.nodeId !== primaryId && member.nodeId !== self.nodeId && comesFirst(member, self)).length;
}

/**
 * The list with `member` added, or replacing the member of the same node id (a node that joins again).
 *
 * @example
 * withMember([b], c); // [b, c]
 */
export function withMember(members: readonly MemberAddress[], member: MemberAddress): MemberAddress[] {
  return [...members.filter((known) => known.nodeId !== member.nodeId), member];
}

/**
 * The list without the member `nodeId`.
 *
 * @example
 * withoutMember([b, c], 'b'); // [c]
 */
export function withoutMember(members: readonly MemberAddress[], nodeId: string): MemberAddress[] {
  return members.filter((member) => member.nodeId !== nodeId);
}
