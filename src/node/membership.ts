/**
 * Group membership: creating, joining and leaving a group, removing a member, and the other member's joins and
 * leaves as they arrive over the peer channel. A group has two members exactly.
 */
import { NodeRole } from '../api/constants.js';
import { GroupFullError, GroupOperationError, MembershipError, NoSuchMemberError, SettingsError } from '../api/errors.js';
import type { JoinReply, LeaveMessage, LeaveReply, MemberAddress } from '../peer/peerMessages.js';
import type { LeaveResult } from './availabilityNode.js';
import { stampOf } from './clock.js';
import { memberOf, type NodeCore } from './nodeCore.js';
import { GROUP_SETTING_FIELDS, groupSettingsOf, loadSettings, type SettingsInput, type SettingsRecord } from './settings.js';
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
    core.peerMember = reply.members.primary;
    core.send({ type: 'JOIN_GROUP', timers: core.settings.timers, at: stampOf(core.clock) });
    await core.persist();
    await core.settle((s) => !s.hasTag(NodeTag.resolving));
  }

  /** `AvailabilityNode.leaveGroup`: leaves, then tells the other member. */
  async leave(): Promise<LeaveResult> {
    const core = this.#core;
    const snapshot = core.snapshot();
    if (isOutsideGroup(snapshot)) throw new MembershipError('This node is not in a group.');
    const peer = core.peerMember;
    const message: LeaveMessage = { type: 'leave', group: core.settings.groupFqdn ?? '', from: core.nodeId, role: snapshot.context.role === NodeRole.PRIMARY ? 'primary' : 'secondary' };
    core.send({ type: 'LEAVE_GROUP', at: stampOf(core.clock) });
    await core.settle(isOutsideGroup);
    core.peerMember = null;
    await core.persist();
    core.logger.info({ role: message.role, peer: peer?.nodeId ?? null }, 'left the group');
    return this.#tellPeer(peer, message);
  }

  /** `AvailabilityNode.removeMember`: on the acting Primary, drops the Secondary `nodeId` and tells it. */
  async remove(nodeId: string): Promise<LeaveResult> {
    const core = this.#core;
    const { context } = core.snapshot();
    if (!context.inGroup) throw new MembershipError('This node is not in a group.');
    if (nodeId === core.nodeId) throw new MembershipError('A node cannot remove itself from its group: leave the group instead (a Primary that leaves dissolves it).');
    if (context.role !== NodeRole.PRIMARY || !core.isActingPrimary()) throw new MembershipError('Members are removed on the acting Primary; this node is not it.');
    const peer = core.peerMember;
    if (peer === null || peer.nodeId !== nodeId) {
      throw new NoSuchMemberError(nodeId, `The group has no member ${nodeId} (${peer === null ? 'it has no Secondary' : `its Secondary is ${peer.nodeId}`}).`);
    }
    core.peerMember = null;
    await core.persist();
    core.logger.info({ member: peer }, 'secondary removed from the group');
    return this.#tellPeer(peer, { type: 'leave', group: core.settings.groupFqdn ?? '', from: core.nodeId, role: 'primary' });
  }

  /**
   * The Primary's side of a join. A group has two members exactly: a node with another id than the Secondary's is
   * refused (`group_full`, naming both members); the Secondary's own id may join again (a wiped `data_dir`, a new
   * address) and replaces its address.
   */
  async acceptJoin(group: string, member: MemberAddress): Promise<JoinReply> {
    const core = this.#core;
    if (!core.isActingPrimary()) return { accepted: false, code: 'not_acting_primary', reason: 'this node is not the acting Primary' };
    if (!sameName(group, core.settings.groupFqdn) && group !== '') return { accepted: false, code: 'other_group', reason: `this node serves group ${core.settings.groupFqdn}` };
    if (member.nodeId === core.nodeId) return { accepted: false, code: 'same_node', reason: 'a node cannot join itself' };
    const secondary = core.peerMember;
    if (secondary !== null && secondary.nodeId !== member.nodeId) {
      core.logger.warn({ member, secondary }, 'join refused: the group already has a Secondary');
      return {
        accepted: false,
        code: 'group_full',
        reason: `the group already has two members (Primary ${core.nodeId}, Secondary ${secondary.nodeId} at ${secondary.address}:${secondary.port})`,
        members: { primary: core.self(), secondary },
      };
    }
    core.peerMember = member;
    await core.persist();
    core.logger.info({ member, previous: secondary }, secondary === null ? 'secondary joined the group' : 'secondary joined the group again');
    return { accepted: true, groupSettings: groupSettingsOf(core.settings.record), members: { primary: core.self(), secondary: member } };
  }

  /**
   * A leave from the other member. From the Secondary: drop it. From the Primary (it dissolved the group, or removed
   * this node): leave too. Refused from a node that is not the other member.
   */
  async acceptLeave(message: LeaveMessage): Promise<LeaveReply> {
    const core = this.#core;
    const { context } = core.snapshot();
    const peer = core.peerMember;
    if (!context.inGroup) return { accepted: false, reason: 'this node is not in a group' };
    if (peer === null || peer.nodeId !== message.from) return { accepted: false, reason: `${message.from} is not a member of this node's group` };
    if (context.role !== NodeRole.PRIMARY && message.role === 'primary') {
      core.send({ type: 'LEAVE_GROUP', at: stampOf(core.clock) });
      await core.settle(isOutsideGroup);
      core.peerMember = null;
      await core.persist();
      core.logger.info({ from: message.from }, 'the Primary dissolved the group or removed this node; left the group');
      return { accepted: true };
    }
    core.peerMember = null;
    await core.persist();
    core.logger.info({ member: peer }, 'the other member left the group');
    return { accepted: true };
  }

  /** Tells the other member of a leave or a removal; never throws (the change here is done already). */
  async #tellPeer(peer: MemberAddress | null, message: LeaveMessage): Promise<LeaveResult> {
    if (peer === null) return { peer: 'none' };
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
