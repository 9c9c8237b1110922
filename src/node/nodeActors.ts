import { fromPromise } from 'xstate';
import type { Logger } from './logger.js';
import type { Heartbeat } from '../../machines/heartbeat.js';
import type {
  CreateRecordsInput,
  DirectHeartbeatSent,
  GroupRecords,
  HandoverAnswer,
  HandoverOfferInput,
  HandoverProbed,
  HeartbeatAck,
  HeartbeatIntent,
  HeartbeatWritten,
  RecordsRead,
  RecordsRemoved,
  RemoveRecordsInput,
  SendHeartbeatCommand,
  StepDownAnswer,
  TakeOverInput,
  WriteHeartbeatInput,
} from '../../machines/nodeMachine.types.js';
import { LeaseExpiredError, PeerUnreachableError } from '../api/errors.js';
import type { GroupAuthority, RecordsExpectation, RecordsReplacement } from '../coordination/groupAuthority.js';
import { formatHeartbeatRecord, parseHeartbeatRecord } from '../dns/heartbeatRecord.js';
import type { MemberAddress } from '../peer/peerMessages.js';
import type { PeerTransport } from '../peer/peerTransport.js';
import { stampOf, type Clock } from './clock.js';
import { combinedAcknowledgement } from './combinedAcknowledgement.js';
import { heartbeatSender } from './heartbeatSender.js';

/**
 * The heartbeat in the group's TXT value, or null when there is none; a TXT value that is not a heartbeat record is
 * logged (warn) and counts as none. Used for every view of the records: a standby check's read and the watch.
 *
 * @example
 * heartbeatOfRecords({ address: '127.0.0.2', txt: 'hello' }, logger) // null, and a warning
 */
export function heartbeatOfRecords(records: GroupRecords, logger: Logger): Heartbeat | null {
  const heartbeat = records.txt === null ? null : parseHeartbeatRecord(records.txt);
  if (records.txt !== null && heartbeat === null) logger.warn({ txt: records.txt }, 'group TXT record is not a heartbeat record; ignored');
  return heartbeat;
}

/** What the I/O actors need to know about their node, read at each call (settings can change after a join). */
export interface NodeActorContext {
  readonly clock: Clock;
  readonly dns: GroupAuthority;
  readonly peer: PeerTransport;
  readonly logger: Logger;
  /** The group's FQDN. */
  groupFqdn(): string;
  /** TTL of the group's records, seconds. */
  ttl(): number;
  /** This node's address: what the A record holds while it is Primary. */
  address(): string;
  /** This node's id, as it introduces itself to the peer. */
  peerSelfId(): string;
  /** The other members of the group (the Primary's direct heartbeats go to each). */
  otherMembers(): readonly MemberAddress[];
  /** The Primary this node follows (step-down requests go there), or null when it is not known. */
  primaryMember(): MemberAddress | null;
  /** The member a handover goes to: the Secondary `askedBy` when one asked, else the one chosen here; null: none. */
  handoverMember(askedBy: string | null): MemberAddress | null;
  /** The fingerprint of the group settings this node runs. */
  groupSettingsFingerprint(): string;
  /** Called when a heartbeat acknowledgement shows the peer running other group settings. */
  peerRunsOtherSettings(): void;
}

/**
 * Builds the machine's I/O actors over the ports: the one implementation of "how a node talks to DNS and its peer"
 * that the real node and the simulator share. Every output carries clock stamps taken here, so the machine itself
 * never reads a clock.
 *
 * @example
 * const machine = nodeMachine.provide({ actors: createNodeActors(context) });
 */
export function createNodeActors(ctx: NodeActorContext) {
  /** Stamps the heartbeat at the instant it leaves, writes it with a compare-and-swap, stamps the answer. */
  async function writeHeartbeat(
    intent: HeartbeatIntent,
    expectation: RecordsExpectation,
    replacement: (txt: string) => RecordsReplacement,
  ): Promise<HeartbeatWritten> {
    const sentAt = stampOf(ctx.clock);
    const heartbeat: Heartbeat = { ...intent, sentAt: Math.round(sentAt.wall) };
    const txt = formatHeartbeatRecord(heartbeat);
    await ctx.dns.compareAndSwap(ctx.groupFqdn(), expectation, replacement(txt), { ttl: ctx.ttl() });
    return { heartbeat, txt, sentAt, at: stampOf(ctx.clock) };
  }

  function requirePeer(peer: MemberAddress | null): MemberAddress {
    if (peer === null) throw new PeerUnreachableError('This node has no peer in its group yet.');
    return peer;
  }

  /** Reads A and TXT afresh (no cache), stamped when the read left and when its answer came. */
  async function readRecords(): Promise<RecordsRead> {
    const sentAt = stampOf(ctx.clock);
    const records = await ctx.dns.read(ctx.groupFqdn());
    return { ...records, heartbeat: heartbeatOfRecords(records, ctx.logger), sentAt, at: stampOf(ctx.clock) };
  }

  /** A TXT heartbeat: a compare-and-swap on this node's own last value (rule 4), never sent past the lease (rule 7). */
  async function writeOwnHeartbeat(input: WriteHeartbeatInput): Promise<HeartbeatWritten> {
    // Rule 7: a Primary whose lease ran out (a paused process, a slow event loop) must not write as Primary.
    if (input.leaseExpiresAt !== null && ctx.clock.monotonicNow() >= input.leaseExpiresAt) throw new LeaseExpiredError();
    return writeHeartbeat(input.heartbeat, { address: ctx.address(), txt: input.expectedTxt }, (txt) => ({ txt }));
  }

  /** One member's acknowledgement of a direct heartbeat; a member running other group settings is pushed them. */
  async function sendDirectTo(member: MemberAddress, heartbeat: Heartbeat): Promise<HeartbeatAck> {
    const { groupSettings, ...ack } = await ctx.peer.send(member, { type: 'heartbeat', group: ctx.groupFqdn(), heartbeat });
    if (groupSettings !== undefined && groupSettings !== ctx.groupSettingsFingerprint()) ctx.peerRunsOtherSettings();
    return ack;
  }

  /**
   * The direct heartbeat to every other member at once, stamped as it leaves; resolves with the acknowledgement, or,
   * with several members, their combination (rule 3 generalised: {@link combinedAcknowledgement}). Rejects when no
   * member answered.
   */
  async function sendDirectHeartbeat(command: SendHeartbeatCommand): Promise<DirectHeartbeatSent> {
    // Rule 7: a process resumed past its lease (its heartbeat timer may fire before its lease timer) says nothing.
    if (command.leaseExpiresAt !== null && ctx.clock.monotonicNow() >= command.leaseExpiresAt) throw new LeaseExpiredError();
    const members = ctx.otherMembers();
    const sentAt = stampOf(ctx.clock);
    const heartbeat: Heartbeat = { ...command.heartbeat, sentAt: Math.round(sentAt.wall) };
    if (members.length <= 1) {
      const ack = await sendDirectTo(requirePeer(members[0] ?? null), heartbeat);
      return { heartbeat, ack, sentAt, at: stampOf(ctx.clock) };
    }
    const answers = await Promise.allSettled(members.map((member) => sendDirectTo(member, heartbeat)));
    const acks = answers.flatMap((answer) => (answer.status === 'fulfilled' ? [answer.value] : []));
    if (acks.length === 0) throw (answers[0] as PromiseRejectedResult).reason;
    const first = ctx.handoverMember(null)?.nodeId;
    return { heartbeat, ack: combinedAcknowledgement(acks, acks.length === members.length, first), sentAt, at: stampOf(ctx.clock) };
  }

  return {
    readGroupRecords: fromPromise<RecordsRead, void>(readRecords),

    createGroupRecords: fromPromise<HeartbeatWritten, CreateRecordsInput>(async ({ input }) =>
      writeHeartbeat(input.heartbeat, { address: null, txt: null }, (txt) => ({ address: ctx.address(), txt })),
    ),

    writeHeartbeatRecord: fromPromise<HeartbeatWritten, WriteHeartbeatInput>(async ({ input }) => writeOwnHeartbeat(input)),

    heartbeatSender: heartbeatSender({ sendDirect: sendDirectHeartbeat, writeRecord: writeOwnHeartbeat, readRecords }),

    takeOverRecords: fromPromise<HeartbeatWritten, TakeOverInput>(async ({ input }) =>
      writeHeartbeat(input.heartbeat, { address: input.expected.address, txt: input.expected.txt }, (txt) => ({ address: ctx.address(), txt })),
    ),

    removeGroupRecords: fromPromise<RecordsRemoved, RemoveRecordsInput>(async ({ input }) => {
      await ctx.dns.compareAndSwap(
        ctx.groupFqdn(),
        { address: input.expected.address, txt: input.expected.txt },
        { address: null, txt: null },
        { ttl: ctx.ttl() },
      );
      return { at: stampOf(ctx.clock) };
    }),

    probeHandover: fromPromise<HandoverProbed, { epoch: number }>(async ({ input }) => {
      const reply = await ctx.peer.send(requirePeer(ctx.handoverMember(null)), { type: 'handover-probe', group: ctx.groupFqdn(), from: ctx.peerSelfId(), epoch: input.epoch });
      return { ready: reply.ready, reason: reply.reason, at: stampOf(ctx.clock) };
    }),

    offerHandover: fromPromise<HandoverAnswer, HandoverOfferInput>(async ({ input }) => {
      const reply = await ctx.peer.send(requirePeer(ctx.handoverMember(input.askedBy)), {
        type: 'handover',
        group: ctx.groupFqdn(),
        from: ctx.peerSelfId(),
        epoch: input.epoch,
        records: input.records,
        askedBy: input.askedBy,
      });
      return { accepted: reply.accepted, reason: reply.reason, ...(reply.unconfirmed === true ? { unconfirmed: true } : {}), at: stampOf(ctx.clock) };
    }),

    requestStepDown: fromPromise<StepDownAnswer, { epoch: number }>(async ({ input }) => {
      const reply = await ctx.peer.send(requirePeer(ctx.primaryMember()), { type: 'step-down', group: ctx.groupFqdn(), from: ctx.peerSelfId(), epoch: input.epoch });
      return { outcome: reply.outcome, epoch: reply.epoch, reason: reply.reason, at: stampOf(ctx.clock) };
    }),
  };
}
