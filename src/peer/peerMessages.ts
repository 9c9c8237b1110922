import type { Heartbeat } from '../../machines/heartbeat.js';
import type { GroupRecords, HandoverAnswerBody, HandoverProbeAnswer, HeartbeatAck, StepDownAnswerBody } from '../../machines/nodeMachine.types.js';

import type { MemberAddress } from '../api/nodeState.js';

export type { MemberAddress };

/** The Primary's heartbeat, sent straight to the Secondary. The answer is a {@link HeartbeatAck}. */
export interface HeartbeatMessage {
  readonly type: 'heartbeat';
  readonly group: string;
  readonly heartbeat: Heartbeat;
}
/**
 * The Primary has stepped down and asks the Secondary to take over now, expecting exactly the records it left. The
 * answer ({@link HandoverReply}) comes once the Secondary took over, or could not.
 */
export interface HandoverMessage {
  readonly type: 'handover';
  readonly group: string;
  readonly from: string;
  readonly epoch: number;
  readonly records: GroupRecords;
  /** The node on which the failover was asked: the offerer itself, or the receiver (its step-down request). */
  readonly askedBy: string;
}
/**
 * The acting Primary asks whether the Secondary could take over now (it reads DNS afresh), before it steps down. The
 * answer is a {@link HandoverProbeReply}.
 */
export interface HandoverProbeMessage {
  readonly type: 'handover-probe';
  readonly group: string;
  readonly from: string;
  readonly epoch: number;
}
/** The Secondary asks the Primary to hand over to it. The answer is a {@link StepDownReply}. */
export interface StepDownMessage {
  readonly type: 'step-down';
  readonly group: string;
  readonly from: string;
  /** The epoch the requester knows. */
  readonly epoch: number;
}
/** A node asks the Primary to let it join as Secondary. The answer is a {@link JoinReply}. */
export interface JoinMessage {
  readonly type: 'join';
  readonly group: string;
  readonly member: MemberAddress;
}

/**
 * The Primary's group settings (snake_case, as stored), pushed to the Secondary when they change or when its
 * heartbeat acknowledgement shows it runs others. The answer is a {@link GroupSettingsReply}.
 */
export interface GroupSettingsMessage {
  readonly type: 'group-settings';
  readonly group: string;
  readonly from: string;
  /** The sender's epoch: a node that knows a newer one refuses (a replaced Primary must not reconfigure it). */
  readonly epoch: number;
  readonly groupSettings: Record<string, unknown>;
}

/**
 * The Secondary asks the Primary to change the group settings (`PUT /ag/api/v1/group` sent to the Secondary):
 * `groupSettings` holds only the group settings to change (snake_case; the TSIG secret sealed on the wire). The
 * Primary applies them as its own `PUT /group` would, pushes them back, and answers with a
 * {@link GroupSettingsChangeReply}.
 */
export interface GroupSettingsChangeMessage {
  readonly type: 'group-settings-change';
  readonly group: string;
  readonly from: string;
  /** The sender's epoch: a Primary that knows only an older one is not the group's Primary any more. */
  readonly epoch: number;
  readonly groupSettings: Record<string, unknown>;
}

/**
 * A member leaves the group, told to the other member. From a Secondary (`role: 'secondary'`): drop me from the
 * group. From the Primary (`role: 'primary'`): the group is dissolved (it left) or you were removed from it, so
 * leave it too. The answer is a {@link LeaveReply}.
 */
export interface LeaveMessage {
  readonly type: 'leave';
  readonly group: string;
  readonly from: string;
  /** The sender's role when it sent the message. */
  readonly role: 'primary' | 'secondary';
}

/**
 * The Primary tells every member the group's whole member list (itself included) after a join, a leave or a
 * removal. A member takes it only from the Primary it follows, at an epoch no older than its own. The answer is a
 * {@link MembersReply}.
 */
export interface MembersMessage {
  readonly type: 'members';
  readonly group: string;
  readonly from: string;
  /** The sender's epoch: a list from an older epoch comes from a replaced Primary. */
  readonly epoch: number;
  readonly members: readonly MemberAddress[];
}

/** Every message one node sends another. */
export type PeerMessage =
  | HeartbeatMessage
  | HandoverMessage
  | HandoverProbeMessage
  | StepDownMessage
  | JoinMessage
  | GroupSettingsMessage
  | GroupSettingsChangeMessage
  | LeaveMessage
  | MembersMessage;

/** Answer to a direct heartbeat: the machine's acknowledgement, and the fingerprint of the group settings in force. */
export type HeartbeatReply = HeartbeatAck & { readonly groupSettings?: string };

/** Answer to a handover: whether this node took over (it acts as Primary now), and why not. */
export type HandoverReply = HandoverAnswerBody;
/** Answer to a handover probe: whether this node could take over now, and why not. */
export type HandoverProbeReply = HandoverProbeAnswer;
/** Answer to a step-down request: whether the Primary is handing over to the requester, and why not. */
export type StepDownReply = StepDownAnswerBody;
/**
 * Why a Primary refused a join, for machines: `group_full` (the group has another Secondary; `members` lists both),
 * `not_acting_primary`, `other_group`, `same_node` (a node asked to join itself).
 */
export type JoinRefusalCode = 'group_full' | 'not_acting_primary' | 'other_group' | 'same_node';

/**
 * Answer to a join: accepted, the group's settings (snake_case, as stored) and members; refused, a `code` and a
 * `reason` (and, for `group_full`, the `members`).
 */
export interface JoinReply {
  readonly accepted: boolean;
  readonly code?: JoinRefusalCode;
  readonly reason?: string;
  readonly groupSettings?: Record<string, unknown>;
  readonly members?: { readonly primary: MemberAddress | null; readonly secondary: MemberAddress | null };
  /** Accepted: every member of the group, the joiner and the Primary included (this project's addition). */
  readonly memberList?: readonly MemberAddress[];
}

/** Answer to a member list: whether the receiver took it, and why not. */
export interface MembersReply {
  readonly accepted: boolean;
  readonly reason?: string;
}

/** Answer to a leave: whether the receiver took it (it refuses a sender that is not its group's other member). */
export interface LeaveReply {
  readonly accepted: boolean;
  readonly reason?: string;
}

/** Answer to pushed group settings: whether this node now runs them, and why not. */
export interface GroupSettingsReply {
  readonly accepted: boolean;
  readonly reason?: string;
}

/**
 * Answer to a {@link GroupSettingsChangeMessage}: accepted, where the Secondary stands (`secondary`, `reason` as in
 * the answer of `PUT /group`); refused, a `code` (`invalid`: `issues` name each field and rule;
 * `not_acting_primary`) and a `reason`. A refused change changed nothing.
 */
export interface GroupSettingsChangeReply {
  readonly accepted: boolean;
  readonly code?: 'invalid' | 'not_acting_primary';
  readonly reason?: string;
  readonly issues?: readonly { readonly field: string; readonly rule: string }[];
  readonly secondary?: 'updated' | 'pending' | 'none';
}

/** The answer type of each message type. */
export interface PeerReplyMap {
  heartbeat: HeartbeatReply;
  'group-settings': GroupSettingsReply;
  'group-settings-change': GroupSettingsChangeReply;
  handover: HandoverReply;
  'handover-probe': HandoverProbeReply;
  'step-down': StepDownReply;
  join: JoinReply;
  leave: LeaveReply;
  members: MembersReply;
}
export type PeerReplyTo<M extends PeerMessage> = PeerReplyMap[M['type']];

/** Handles messages addressed to this node and answers them. May be async (a join persists settings). */
export type PeerReceiver = <M extends PeerMessage>(message: M) => PeerReplyTo<M> | Promise<PeerReplyTo<M>>;

/**
 * The node id a message comes from: a heartbeat's holder, a join's member, every other message's `from`.
 *
 * @example
 * peerMessageSender({ type: 'step-down', group: 'app.example.test', from: 'b', epoch: 3 }) // 'b'
 */
export function peerMessageSender(message: PeerMessage): string {
  switch (message.type) {
    case 'heartbeat':
      return message.heartbeat.holder;
    case 'join':
      return message.member.nodeId;
    default:
      return message.from;
  }
}
