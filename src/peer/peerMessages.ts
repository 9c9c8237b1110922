import type { Heartbeat } from '../../machines/heartbeat.js';
import type { HeartbeatAck } from '../../machines/nodeMachine.types.js';

/** Where a group member listens: what the group's `members` list holds. */
export interface MemberAddress {
  readonly nodeId: string;
  readonly address: string;
  readonly port: number;
  readonly scheme: 'http' | 'https';
}

/** The Primary's heartbeat, sent straight to the Secondary. The answer is a {@link HeartbeatAck}. */
export interface HeartbeatMessage {
  readonly type: 'heartbeat';
  readonly group: string;
  readonly heartbeat: Heartbeat;
}
/** The Primary has stepped down and asks the Secondary to take over now. The answer is a {@link HandoverReply}. */
export interface HandoverMessage {
  readonly type: 'handover';
  readonly group: string;
  readonly from: string;
  readonly epoch: number;
}
/** The Secondary asks the Primary to step down so that it can take over. The answer is a {@link StepDownReply}. */
export interface StepDownMessage {
  readonly type: 'step-down';
  readonly group: string;
  readonly from: string;
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

/** Every message one node sends another. */
export type PeerMessage = HeartbeatMessage | HandoverMessage | StepDownMessage | JoinMessage | GroupSettingsMessage;

/** Answer to a direct heartbeat: the machine's acknowledgement, and the fingerprint of the group settings in force. */
export type HeartbeatReply = HeartbeatAck & { readonly groupSettings?: string };

/** Answer to a handover: whether this node will take over now. */
export interface HandoverReply {
  readonly accepted: boolean;
}
/** Answer to a step-down request: whether this node stepped down, and the epoch it knows. */
export interface StepDownReply {
  readonly steppedDown: boolean;
  readonly epoch: number;
}
/** Answer to a join: the group's settings (snake_case, as stored) and members. */
export interface JoinReply {
  readonly accepted: boolean;
  readonly reason?: string;
  readonly groupSettings?: Record<string, unknown>;
  readonly members?: { readonly primary: MemberAddress | null; readonly secondary: MemberAddress | null };
}

/** Answer to pushed group settings: whether this node now runs them, and why not. */
export interface GroupSettingsReply {
  readonly accepted: boolean;
  readonly reason?: string;
}

/** The answer type of each message type. */
export interface PeerReplyMap {
  heartbeat: HeartbeatReply;
  'group-settings': GroupSettingsReply;
  handover: HandoverReply;
  'step-down': StepDownReply;
  join: JoinReply;
}
export type PeerReplyTo<M extends PeerMessage> = PeerReplyMap[M['type']];

/** Handles messages addressed to this node and answers them. May be async (a join persists settings). */
export type PeerReceiver = <M extends PeerMessage>(message: M) => PeerReplyTo<M> | Promise<PeerReplyTo<M>>;
