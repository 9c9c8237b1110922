/**
 * Group membership: creating, joining and leaving a group, removing a member, and the other members' joins, leaves
 * and member lists as they arrive over the peer channel. A group has at most `MEMBER_LIMIT[coordination]` members
 * (two with DNS, the product's group; up to seven with etcd); the Primary admits joins and tells every member the
 * new list.
 */
import { NodeRole } from '../api/constants.js';
import { GroupFullError, GroupOperationError, MembershipError, NoSuchMemberError, SettingsError } from '../api/errors.js';
import type { JoinReply, LeaveMessage, LeaveReply, MemberAddress, MembersMessage, MembersReply } from '../peer/peerMessages.js';
import type { LeaveResult } from './availabilityNode.js';
import { stampOf } from './clock.js';
import { memberOf, type NodeCore } from './nodeCore.js';
import { inTakeoverOrder, withMember, withoutMember } from './memberList.js';
import { GROUP_SETTING_FIELDS, groupSettingsOf, loadSettings, MEMBER_LIMIT, type SettingsInput, type SettingsRecord } from './settings.js';
import { mergeSettings } from './settingsSync.js';
import { isOutsideGroup } from './stateView.js';
import { NodeTag } from '../../machines/nodeTags.js';

/**
 * DNS names compare case-insensitively, with or without the final dot.
 *
 * @example
 * sameName('App.Example.test.', 'app.example.test'); // true
 */
export function sameName(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');
}

/** A node's group membership, both its own operations and the other member's requests. */
export class Membership {
  readonly #core: NodeCore;

  constructor(core: NodeCore) {
    this.#core = core;
  }

  /** `AvailabilityNode.createGroup`: atomic; when it fails, the settings in force and the persisted ones are as before. */
  async create(changes: Partial<SettingsInput>): Promise<void> {
    const core = this.#core;
    if (!isOutsideGroup(core.snapshot())) throw new MembershipError('This node is already in a group.');
    const before = core.settings;
    const next = Object.keys(changes).length === 0 ? before : loadSettings({ ...before.record, ...changes });
    if (next.groupFqdn === undefined) throw new SettingsError([{ field: 'group_fqdn', rule: 'is required to create a group' }]);
    // The changes are in force while the records are written (the DNS client reads them), and taken back on failure;
    // nothing is persisted before the group exists.
    if (next !== before) core.runSettings(next);
    try {
      core.send({ type: 'CREATE_GROUP', at: stampOf(core.clock) });
      const settled = await core.settle((s) => !s.hasTag(NodeTag.creatingGroup));
      if (!settled.hasTag(NodeTag.holdsLease)) {
        throw new GroupOperationError(`Could not create the group: ${settled.context.failure?.message ?? 'unknown failure'}`);
      }
    } catch (error) {
      if (next !== before && core.settings === next && core.actor !== null) core.runSettings(before);
      throw error;
    }
    await core.persist();
  }

  /** `AvailabilityNode.joinGroup`: takes the group's settings from the Primary at `primary`, becomes Secondary. */
  async join(primary: { address: string; port?: number; scheme?: 'http' | 'https' }, changes: Partial<SettingsInput>): Promise<void> {
    const core = this.#core;
    if (!isOutsideGroup(core.snapshot())) throw new MembershipError('This node is already in a group.');
    // The changes count for this join only until it succeeds: a refused join leaves the settings as they were.
    const candidate = Object.keys(changes).length === 0 ? core.settings : loadSettings({ ...core.settings.record, ...changes });
    const group = candidate.groupFqdn ?? '';
    const target: MemberAddress = {
      nodeId: 'primary',
      address: primary.address,
      port: primary.port ?? candidate.externalPort,
      scheme: primary.scheme ?? candidate.externalScheme,
    };
    let reply: JoinReply;
    try {
      reply = await core.peer.send(target, { type: 'join', group, member: memberOf(candidate) });
    } catch (error) {
      throw new GroupOperationError(`Could not reach the Primary at ${target.address}:${target.port}.`, { cause: error });
    }
    if (!reply.accepted && reply.code === 'group_full' && reply.members !== undefined) throw new GroupFullError(group, reply.members);
    if (!reply.accepted || reply.groupSettings === undefined || reply.members?.primary == null) {
      throw new GroupOperationError(`The Primary refused the join: ${reply.reason ?? 'no reason given'}`);
    }
    core.settings = mergeSettings({ ...candidate.record, ...reply.groupSettings } as SettingsRecord, GROUP_SETTING_FIELDS, candidate.record);
    // The whole list from a Primary that sends it, else (an earlier version) the Primary alone.
    core.members = (reply.memberList ?? [reply.members.primary]).filter((member) => member.nodeId !== core.nodeId);
    core.send({ type: 'JOIN_GROUP', timers: core.settings.timers, at: stampOf(core.clock) });
    await core.persist();
    await core.settle((s) => !s.hasTag(NodeTag.resolving));
  }

  /** `AvailabilityNode.leaveGroup`: leaves, then tells the other member. */
  async leave(): Promise<LeaveResult> {
    const core = this.#core;
    const snapshot = core.snapshot();
    if (isOutsideGroup(snapshot)) throw new MembershipError('This node is not in a group.');
    const message: LeaveMessage = { type: 'leave', group: core.settings.groupFqdn ?? '', from: core.nodeId, role: snapshot.context.role === NodeRole.PRIMARY ? 'primary' : 'secondary' };
    // A Primary dissolves the group: every member is told. A Secondary tells its Primary, which tells the others.
    const told = message.role === 'primary' ? core.members : [core.primaryMember()].filter((member) => member !== null);
    core.send({ type: 'LEAVE_GROUP', at: stampOf(core.clock) });
    await core.settle(isOutsideGroup);
    core.members = [];
    core.handoverTarget = null;
    await core.persist();
    core.logger.info({ role: message.role, peer: told[0]?.nodeId ?? null, told: told.map((member) => member.nodeId) }, 'left the group');
    return this.#tellAll(told, message);
  }

  /** `AvailabilityNode.removeMember`: on the acting Primary, drops the Secondary `nodeId` and tells it. */
  async remove(nodeId: string): Promise<LeaveResult> {
    const core = this.#core;
    const { context } = core.snapshot();
    if (!context.inGroup) throw new MembershipError('This node is not in a group.');
    if (nodeId === core.nodeId) throw new MembershipError('A node cannot remove itself from its group: leave the group instead (a Primary that leaves dissolves it).');
    if (context.role !== NodeRole.PRIMARY || !core.isActingPrimary()) throw new MembershipError('Members are removed on the acting Primary; this node is not it.');
    const peer = core.member(nodeId);
    if (peer === null) {
      const known = core.members.map((member) => member.nodeId);
      throw new NoSuchMemberError(nodeId, `The group has no member ${nodeId} (${known.length === 0 ? 'it has no Secondary' : known.length === 1 ? `its Secondary is ${known[0]}` : `its Secondaries are ${known.join(', ')}`}).`);
    }
    core.members = withoutMember(core.members, nodeId);
    if (core.handoverTarget === nodeId) core.handoverTarget = null;
    await core.persist();
    core.tellTakeoverOrder();
    core.logger.info({ member: peer }, 'secondary removed from the group');
    this.announceMembers();
    return this.#tellAll([peer], { type: 'leave', group: core.settings.groupFqdn ?? '', from: core.nodeId, role: 'primary' });
  }

  /**
   * The Primary's side of a join. A group has at most `MEMBER_LIMIT[coordination]` members (two with DNS): a new node
   * id past it is refused (`group_full`, naming the members); a member's own id may join again (a wiped `data_dir`, a
   * new address) and replaces its address. The other members are told the new list.
   */
  async acceptJoin(group: string, member: MemberAddress): Promise<JoinReply> {
    const core = this.#core;
    if (!core.isActingPrimary()) return { accepted: false, code: 'not_acting_primary', reason: 'this node is not the acting Primary' };
    if (!sameName(group, core.settings.groupFqdn) && group !== '') return { accepted: false, code: 'other_group', reason: `this node serves group ${core.settings.groupFqdn}` };
    if (member.nodeId === core.nodeId) return { accepted: false, code: 'same_node', reason: 'a node cannot join itself' };
    const previous = core.member(member.nodeId);
    const limit = MEMBER_LIMIT[core.settings.coordination];
    if (previous === null && core.members.length + 1 >= limit) {
      const secondary = inTakeoverOrder(core.members)[0] ?? null;
      core.logger.warn({ member, members: core.members.map((known) => known.nodeId), limit }, 'join refused: the group is full');
      const all = [{ ...core.self(), role: 'primary' as const }, ...inTakeoverOrder(core.members).map((known) => ({ ...known, role: 'secondary' as const }))];
      return {
        accepted: false,
        code: 'group_full',
        reason:
          limit === 2 && secondary !== null
            ? `the group already has two members (Primary ${core.nodeId}, Secondary ${secondary.nodeId} at ${secondary.address}:${secondary.port})`
            : `the group already has ${limit} members, the limit with coordination ${core.settings.coordination} (Primary ${core.nodeId}, Secondaries ${core.members.map((known) => known.nodeId).join(', ')})`,
        members: { primary: core.self(), secondary, ...(limit === 2 ? {} : { all }) },
      };
    }
    core.members = withMember(core.members, member);
    await core.persist();
    core.tellTakeoverOrder();
    core.logger.info({ member, previous }, previous === null ? 'secondary joined the group' : 'secondary joined the group again');
    this.announceMembers(member.nodeId);
    return {
      accepted: true,
      groupSettings: groupSettingsOf(core.settings.record),
      members: { primary: core.self(), secondary: member },
      memberList: [core.self(), ...core.members],
    };
  }

  /**
   * The Primary tells every member (but `except`, which learns the list from its join's answer) the group's whole
   * member list. Best effort and not awaited: a member that misses it is told at the next change, and a list
   * changes nothing of the rules that keep one acting Primary.
   */
  announceMembers(except: string | null = null): void {
    const core = this.#core;
    const context = core.currentSnapshot()?.context;
    if (context === undefined || context.role !== NodeRole.PRIMARY) return;
    const message: MembersMessage = { type: 'members', group: core.settings.groupFqdn ?? '', from: core.nodeId, epoch: context.epoch, members: [core.self(), ...core.members] };
    for (const member of core.members) {
      if (member.nodeId === except) continue;
      core.peer.send(member, message).then(
        (reply) => {
          if (!reply.accepted) core.logger.warn({ member: member.nodeId, reason: reply.reason }, 'a member refused the member list');
        },
        (error: unknown) => core.logger.warn({ member: member.nodeId, err: error }, 'could not tell a member the member list'),
      );
    }
  }

  /**
   * A member list from the Primary: taken only from the Primary this node follows (the holder of its epoch, or any
   * member at a newer epoch), at an epoch no older than this node's, and only if it names this node.
   */
  async acceptMembers(message: MembersMessage): Promise<MembersReply> {
    const core = this.#core;
    const { context } = core.snapshot();
    if (!context.inGroup) return { accepted: false, reason: 'this node is not in a group' };
    if (context.role === NodeRole.PRIMARY) return { accepted: false, reason: `${core.nodeId} is the Primary` };
    if (message.epoch < context.epoch) return { accepted: false, reason: `epoch ${message.epoch} is older than epoch ${context.epoch}, which this node knows` };
    if (message.epoch === context.epoch && context.holder !== null && context.holder !== message.from) {
      return { accepted: false, reason: `${message.from} is not the Primary of epoch ${context.epoch} (${context.holder} is)` };
    }
    if (!message.members.some((member) => member.nodeId === core.nodeId)) return { accepted: false, reason: `the list does not name ${core.nodeId}` };
    core.members = message.members.filter((member) => member.nodeId !== core.nodeId);
    await core.persist();
    core.tellTakeoverOrder();
    core.logger.info({ from: message.from, members: message.members.map((member) => member.nodeId) }, 'member list updated by the Primary');
    return { accepted: true };
  }

  /**
   * A leave from the other member. From the Secondary: drop it. From the Primary (it dissolved the group, or removed
   * this node): leave too. Refused from a node that is not the other member.
   */
  async acceptLeave(message: LeaveMessage): Promise<LeaveReply> {
    const core = this.#core;
    const { context } = core.snapshot();
    const peer = core.member(message.from);
    if (!context.inGroup) return { accepted: false, reason: 'this node is not in a group' };
    if (peer === null) return { accepted: false, reason: `${message.from} is not a member of this node's group` };
    if (context.role !== NodeRole.PRIMARY && message.role === 'primary') {
      if (core.primaryMember()?.nodeId !== message.from) return { accepted: false, reason: `${message.from} is not the Primary this node follows` };
      core.send({ type: 'LEAVE_GROUP', at: stampOf(core.clock) });
      await core.settle(isOutsideGroup);
      core.members = [];
      core.handoverTarget = null;
      await core.persist();
      core.logger.info({ from: message.from }, 'the Primary dissolved the group or removed this node; left the group');
      return { accepted: true };
    }
    core.members = withoutMember(core.members, message.from);
    if (core.handoverTarget === message.from) core.handoverTarget = null;
    await core.persist();
    core.tellTakeoverOrder();
    core.logger.info({ member: peer }, 'the other member left the group');
    this.announceMembers();
    return { accepted: true };
  }

  /**
   * Tells `members` of a leave or a removal, all at once; never throws (the change here is done already). The result
   * is `notified` when every one took it, else the first that did not.
   */
  async #tellAll(members: readonly MemberAddress[], message: LeaveMessage): Promise<LeaveResult> {
    if (members.length === 0) return { peer: 'none' };
    const results = await Promise.all(members.map((member) => this.#tellPeer(member, message)));
    return results.find((result) => result.peer !== 'notified') ?? results[0]!;
  }

  /** Tells one member of a leave or a removal; never throws. */
  async #tellPeer(peer: MemberAddress, message: LeaveMessage): Promise<LeaveResult> {
    const { logger } = this.#core;
    try {
      const reply = await this.#core.peer.send(peer, message);
      if (reply.accepted) return { peer: 'notified' };
      logger.warn({ peer: peer.nodeId, reason: reply.reason }, 'the other member refused the leave');
      return { peer: 'refused', reason: `${peer.nodeId} refused it: ${reply.reason ?? 'no reason given'}` };
    } catch (error) {
      logger.warn({ peer: peer.nodeId, err: error }, 'could not tell the other member; the change is made here anyway');
      return { peer: 'unreachable', reason: `${peer.nodeId} could not be reached: ${(error as Error).message}` };
    }
  }
}
