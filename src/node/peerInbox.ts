/**
 * The peer inbox: every message from the other member arrives here (the peer transport calls
 * `AvailabilityNode.receivePeerMessage`). Messages for another group, or from a node that is not the other member,
 * are refused; heartbeats and handover messages go to the machine and are answered from its snapshots
 * (machines/nodeReplies.ts); joins, leaves and group settings go to membership and settings sync.
 */
import { handoverProbeReplyFor, handoverReplyFor, heartbeatAckFor, heartbeatRefusalFor, stepDownReplyFor } from '../../machines/nodeReplies.js';
import { NodeTag } from '../../machines/nodeTags.js';
import { HeartbeatRefusedError, PeerMessageRejectedError } from '../api/errors.js';
import { peerMessageSender, type PeerMessage, type PeerReplyTo } from '../peer/peerMessages.js';
import { stampOf } from './clock.js';
import { sameName, type Membership } from './membership.js';
import type { NodeCore } from './nodeCore.js';
import { groupSettingsFingerprint } from './settings.js';
import type { SettingsSync } from './settingsSync.js';

/** Answers the other member's messages. */
export class PeerInbox {
  readonly #core: NodeCore;
  readonly #membership: Membership;
  readonly #settingsSync: SettingsSync;

  constructor(core: NodeCore, membership: Membership, settingsSync: SettingsSync) {
    this.#core = core;
    this.#membership = membership;
    this.#settingsSync = settingsSync;
  }

  /**
   * Answers `message`; throws `PeerMessageRejectedError` for another group or a sender that is not the other member,
   * `HeartbeatRefusedError` for a heartbeat the machine refused.
   *
   * @example
   * const ack = await inbox.receive({ type: 'heartbeat', group, from: 'a', heartbeat });
   */
  async receive<M extends PeerMessage>(message: M): Promise<PeerReplyTo<M>> {
    const core = this.#core;
    const group = core.settings.groupFqdn;
    if (message.type !== 'join' && !sameName(message.group, group)) {
      core.logger.warn({ type: message.type, group: message.group }, 'peer message for another group refused');
      throw new PeerMessageRejectedError(`This node serves group ${group ?? '(none)'}, not ${message.group}.`);
    }
    // Only the other members of this group may move it: a removed Secondary still holds the peer secret.
    const sender = peerMessageSender(message);
    // Joins and leaves check their sender themselves.
    if (message.type !== 'join' && message.type !== 'leave' && core.member(sender) === null) {
      const members = core.members.map((member) => member.nodeId);
      core.logger.warn({ type: message.type, from: sender, member: members[0] ?? null, members }, 'peer message from a node that is not the other member refused');
      throw new PeerMessageRejectedError(`${sender} is not ${members.length > 1 ? 'a member' : 'the other member'} of group ${group ?? '(none)'}.`);
    }
    const at = stampOf(core.clock);
    switch (message.type) {
      case 'heartbeat': {
        core.send({ type: 'HEARTBEAT_RECEIVED', heartbeat: message.heartbeat, at });
        const after = core.snapshot();
        const refusal = heartbeatRefusalFor(after, message.heartbeat);
        if (refusal !== null) {
          core.logger.warn({ heartbeat: message.heartbeat, seen: after.context.progress.seen, epoch: after.context.epoch }, `direct heartbeat refused: ${refusal}`);
          throw new HeartbeatRefusedError(`Heartbeat (epoch ${message.heartbeat.epoch}, seq ${message.heartbeat.seq}) refused: ${refusal}.`);
        }
        return { ...heartbeatAckFor(after, message.heartbeat), groupSettings: groupSettingsFingerprint(core.settings.record) } as PeerReplyTo<M>;
      }
      case 'handover': {
        // Answered once the takeover the offer started is decided: the offerer learns whether this node acts now.
        core.send({ type: 'HANDOVER_OFFERED', from: message.from, epoch: message.epoch, records: message.records, askedBy: message.askedBy, at });
        return handoverReplyFor(await core.settle((s) => !s.hasTag(NodeTag.takingOver))) as PeerReplyTo<M>;
      }
      case 'handover-probe': {
        core.send({ type: 'HANDOVER_PROBED', from: message.from, epoch: message.epoch, at });
        return handoverProbeReplyFor(await core.settle((s) => !s.hasTag(NodeTag.answeringProbe))) as PeerReplyTo<M>;
      }
      case 'step-down': {
        const before = core.snapshot();
        core.send({ type: 'STEP_DOWN_REQUESTED', from: message.from, epoch: message.epoch, at });
        return stepDownReplyFor(before, core.snapshot(), message.epoch, message.from) as PeerReplyTo<M>;
      }
      case 'join':
        return (await this.#membership.acceptJoin(message.group, message.member)) as PeerReplyTo<M>;
      case 'group-settings':
        return (await this.#settingsSync.accept(message)) as PeerReplyTo<M>;
      case 'group-settings-change':
        return (await this.#settingsSync.acceptChange(message)) as PeerReplyTo<M>;
      case 'leave':
        return (await this.#membership.acceptLeave(message)) as PeerReplyTo<M>;
      case 'members':
        return (await this.#membership.acceptMembers(message)) as PeerReplyTo<M>;
    }
    throw new PeerMessageRejectedError(`Unknown peer message type.`);
  }
}
