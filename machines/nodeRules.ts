/**
 * The decision rules of docs/design.md section 2 as pure functions of the machine's context and the facts an event
 * brings. The machine file names them as guards and actions; this file says how each is decided. Nothing here reads
 * a clock or does I/O: times arrive in stamps.
 */
import { HeartbeatMethod, NodeRole } from '../src/api/constants.js';
import { DnsPrerequisiteFailedError, hasErrorCode, LeaseExpiredError } from '../src/api/errors.js';
import { HEALTH_HANDOVER_RESET, NO_APPLICATION_HEALTH } from './applicationHealth.js';
import { mergePatches } from './contextPatch.js';
import { isNewerHeartbeat, type Heartbeat } from './heartbeat.js';
import { isNewerMaintenance, maintenanceOnWire, type MaintenanceFlag, NO_MAINTENANCE } from './maintenance.js';
import type {
  DirectHeartbeatSent,
  FailoverResult,
  GroupRecords,
  HeartbeatConfirmation,
  HandoverAnswerBody,
  HandoverOfferInput,
  HandoverProbeAnswer,
  HeartbeatIntent,
  HeartbeatWritten,
  NodeContext,
  NodeContextPatch,
  NodeMachineInput,
  NodeTimers,
  PrimaryLease,
  ProgressWatch,
  RecordsRead,
  SendHeartbeatCommand,
  Stamp,
  StepDownAnswerBody,
  TakeOverInput,
  TakeoverInProgress,
  WriteHeartbeatInput,
} from './nodeMachine.types.js';

/** The context a node starts with. */
export function initialContext(input: NodeMachineInput): NodeContext {
  return {
    nodeId: input.nodeId,
    address: input.address,
    timers: input.timers,
    inGroup: input.inGroup,
    role: null,
    dnsConnection: 'not_applicable',
    epoch: input.epoch ?? 0,
    holder: null,
    records: null,
    maintenance: input.maintenance ?? NO_MAINTENANCE,
    reason: 'node started',
    failure: null,
    progress: { ...NO_PROGRESS, lastCheckedAtWall: null },
    lease: NO_LEASE,
    takeover: NO_TAKEOVER,
    failover: { failoverPending: false, newPrimaryToConfirm: null, failoverResult: null, handoverAskedBy: null, handoverReady: null, offerAnswer: null },
    health: NO_APPLICATION_HEALTH,
  };
}

// ---- Rule 1: freshness ----

/**
 * Rule 1 and the takeover order: how long this Secondary lets the Primary be silent before it may take over: the
 * failover period, plus its rank among the Secondaries × the standby check interval (0 in a two-member group).
 */
export function absenceLimitMs(context: NodeContext): number {
  return context.timers.absenceMs + (context.timers.takeoverRankDelayMs ?? 0);
}

/** Rule 1: the Primary is absent when the newest `(epoch, seq)` has not risen for the absence limit (the failover period, and the rank delay). */
export function primaryIsAbsent(context: NodeContext, now: Stamp): boolean {
  return context.progress.lastProgressAt !== null && now.monotonic - context.progress.lastProgressAt >= absenceLimitMs(context);
}

/**
 * The takeover order: new timers keep the rank delay the node told (settings do not carry it).
 *
 * @example
 * timersWithTakeoverOrder(context, settings.timers).takeoverRankDelayMs === context.timers.takeoverRankDelayMs // true
 */
export function timersWithTakeoverOrder(context: NodeContext, timers: NodeTimers): NodeTimers {
  const delay = context.timers.takeoverRankDelayMs;
  return delay === undefined || delay === 0 ? timers : { ...timers, takeoverRankDelayMs: delay };
}

/** How long the Primary has been silent, on this node's monotonic clock. */
export function silenceAt(context: NodeContext, now: Stamp): number {
  return context.progress.lastProgressAt === null ? 0 : now.monotonic - context.progress.lastProgressAt;
}

/** Rule 1: a heartbeat (from either path) that raises the newest `(epoch, seq)` is progress, seen at `at`. */
export function observeHeartbeat(
  context: NodeContext,
  heartbeat: Heartbeat,
  method: HeartbeatMethod,
  at: Stamp,
): NodeContextPatch {
  if (!isNewerHeartbeat(heartbeat, context.progress.seen)) return {};
  return {
    progress: { seen: { epoch: heartbeat.epoch, seq: heartbeat.seq }, lastProgressAt: at.monotonic, lastHeartbeat: { method, sentAtWall: heartbeat.sentAt } },
    ...(heartbeat.epoch >= context.epoch ? { epoch: heartbeat.epoch, holder: heartbeat.holder } : {}),
  };
}

/**
 * What a DNS read teaches: the records (the next compare-and-swap's expectations), the check time, and progress if
 * the TXT heartbeat is newer. A node that has no measure of silence yet starts measuring at this read, so a
 * Secondary always gives the Primary one whole failover period.
 */
export function observeRecords(context: NodeContext, read: RecordsRead): NodeContextPatch {
  const progress = read.heartbeat === null ? {} : observeHeartbeat(context, read.heartbeat, HeartbeatMethod.DNS, read.at);
  const learned: NodeContextPatch = {
    records: { address: read.address, txt: read.txt },
    progress: {
      lastCheckedAtWall: read.at.wall,
      epochKnownAt: read.at.monotonic,
      ...(context.progress.lastProgressAt === null ? { lastProgressAt: read.at.monotonic } : {}),
    },
  };
  return mergePatches(learned, progress);
}

/** The group's records are gone (or were never written): no role can be resolved from them. */
export function recordsAreMissing(read: RecordsRead): boolean {
  return read.address === null || read.txt === null;
}

/** Rule 5: the records name this node, at an epoch no older than any it knows. */
export function recordsNameThisNode(context: NodeContext, read: RecordsRead): boolean {
  return (
    read.address === context.address &&
    read.heartbeat !== null &&
    read.heartbeat.holder === context.nodeId &&
    read.heartbeat.epoch >= context.epoch
  );
}

/** Rule 1: a standby check remembers the newest heartbeat seen as it begins. */
export function beginCheck(context: NodeContext): NodeContextPatch {
  return { progress: { checkBaseline: context.progress.seen } };
}

/**
 * Rule 1: a heartbeat (by either path) arrived while the standby check ran: the Primary is not silent, whatever the
 * check's own read showed, so there is nothing to suspect.
 */
export function progressSinceCheckBegan(context: NodeContext): boolean {
  return context.progress.seen !== null && isNewerHeartbeat(context.progress.seen, context.progress.checkBaseline);
}

/** The id of a Secondary's absence deadline timer (a delayed event of the machine's own, cancelled on re-arming). */
export const ABSENCE_DEADLINE_TIMER = 'absenceDeadline';

/**
 * Rule 1: when the Primary becomes absent unless progress comes first: the last progress this node saw (or the start
 * of its measure of silence) + the failover period, on its monotonic clock; null while it has no measure.
 */
export function absenceDeadlineAt(context: NodeContext): number | null {
  return context.progress.lastProgressAt === null ? null : context.progress.lastProgressAt + absenceLimitMs(context);
}

/**
 * Rule 1: whether a Secondary can arm its absence deadline at `now`: it measures silence, and the stamp is from the
 * event being handled. Every progress re-arms it, and every standby read that did not find the Primary absent.
 */
export function absenceDeadlineCanBeArmed(context: NodeContext, now: Stamp | null): now is Stamp {
  return now !== null && context.progress.lastProgressAt !== null;
}

/** Rule 1: the absence deadline is armed at `now` (the stamp of the progress or read that re-arms it). */
export function armAbsenceDeadline(now: Stamp): NodeContextPatch {
  return { progress: { absenceDeadlineArmedAt: now.monotonic } };
}

/** Rule 1: the absence deadline is not armed (this node stopped watching). */
export function disarmAbsenceDeadline(): NodeContextPatch {
  return { progress: { absenceDeadlineArmedAt: null } };
}

/** Milliseconds from when the absence deadline was armed until it falls; 0 when it had passed already. */
export function absenceDeadlineRemainingMs(context: NodeContext): number {
  const deadline = absenceDeadlineAt(context);
  if (deadline === null || context.progress.absenceDeadlineArmedAt === null) return 0;
  return Math.max(0, deadline - context.progress.absenceDeadlineArmedAt);
}

/**
 * The stamp an event that enters a state carries: an outside event's `at`, or an I/O actor's output `at`; null for
 * one that carries none (a timer, an I/O failure). The machine reads no clock: this is its only "now".
 */
export function stampCarriedBy(event: unknown): Stamp | null {
  const carrier = event as { at?: unknown; output?: { at?: unknown } } | null;
  const at = carrier?.at ?? carrier?.output?.at;
  return isStamp(at) ? at : null;
}

function isStamp(value: unknown): value is Stamp {
  return typeof value === 'object' && value !== null && typeof (value as Stamp).monotonic === 'number' && typeof (value as Stamp).wall === 'number';
}

/**
 * How many heartbeats a Primary can have sent in `elapsedMs`: one per heartbeat interval, doubled for clock drift
 * and for a moment when the two nodes run different intervals (a settings change), plus a few in flight.
 */
function heartbeatsPossibleIn(context: NodeContext, elapsedMs: number): number {
  return Math.ceil((Math.max(0, elapsedMs) * 2) / context.timers.heartbeatIntervalMs) + 3;
}

/**
 * Rule 1 and 4: a heartbeat claims only what is possible. Its epoch is at most one past the newest this node knows
 * (a takeover raises it by one; a larger jump is learned from DNS, never from a peer). Its seq is at most what the
 * sender can have counted since this node last knew better: since the last progress in the same epoch, or since the
 * old epoch was last known current for a new one. Holding the peer secret does not let a buggy or compromised peer
 * move the group to epoch 10^12 or make the real Primary's heartbeats look like replays. A node that knows nothing
 * yet (just started, DNS not read) cannot bound seq.
 */
export function heartbeatIsPlausible(context: NodeContext, heartbeat: Heartbeat, at: Stamp): boolean {
  if (heartbeat.epoch > context.epoch + 1) return false;
  const seen = context.progress.seen;
  if (seen !== null && heartbeat.epoch === seen.epoch) {
    return context.progress.lastProgressAt === null || heartbeat.seq <= seen.seq + heartbeatsPossibleIn(context, at.monotonic - context.progress.lastProgressAt);
  }
  if (heartbeat.epoch > context.epoch || (seen !== null && heartbeat.epoch > seen.epoch)) {
    return context.progress.epochKnownAt === null || heartbeat.seq <= heartbeatsPossibleIn(context, at.monotonic - context.progress.epochKnownAt);
  }
  return true;
}

/** Rule 1: a direct heartbeat is progress when it is newer than any seen and plausible. */
export function heartbeatIsProgress(context: NodeContext, heartbeat: Heartbeat, at: Stamp): boolean {
  return isNewerHeartbeat(heartbeat, context.progress.seen) && heartbeatIsPlausible(context, heartbeat, at);
}

/** Rule 1: the TXT record shows a heartbeat newer than any seen. */
export function dnsShowsNewerHeartbeat(context: NodeContext, read: RecordsRead): boolean {
  return read.heartbeat !== null && isNewerHeartbeat(read.heartbeat, context.progress.seen);
}

// ---- Rule 2: takeover ----

/** The epoch a takeover claims: one more than any this node has seen. */
export function nextEpoch(context: NodeContext): number {
  return context.epoch + 1;
}

/**
 * Rule 2: the takeover replaces A and TXT only if both still hold exactly what this node last read; after a
 * handover, exactly what the offerer said it left (its own last write), so nothing it wrote later can be overwritten.
 */
export function takeoverInput(context: NodeContext): TakeOverInput {
  const expected = context.takeover.takeoverMode === 'handover' && context.takeover.offeredRecords !== null ? context.takeover.offeredRecords : context.records;
  return {
    expected: expected ?? { address: null, txt: null },
    heartbeat: { holder: context.nodeId, epoch: nextEpoch(context), seq: 0 },
  };
}

/** Rule 6: what a handover offer says: the epoch given up, the records left behind, and on which node the failover was asked. */
export function handoverOfferInput(context: NodeContext): HandoverOfferInput {
  return { epoch: context.epoch, records: recordsLeftBehind(context), askedBy: context.failover.handoverAskedBy ?? context.nodeId };
}

/** Rule 6: a handover offer names the records its offerer left; the takeover expects exactly those. */
export function acceptOffer(context: NodeContext, offer: { from: string; epoch: number; records: GroupRecords }): NodeContextPatch {
  return {
    ...learnOfferedEpoch(context, offer.epoch),
    takeover: { offeredRecords: offer.records, offeredBy: offer.from, offerRetries: 0 },
    failover: { offerAnswer: null },
  };
}

/** How many leftover writes of the offerer a handover takeover retries against (the offerer writes one at a time). */
export const MAX_OFFER_RETRIES = 2;

/**
 * Rule 6: a handover takeover lost the race, but the records still show the offerer at the offered epoch: a
 * heartbeat write of its own that was in flight as it stepped down landed after its offer. The offerer no longer
 * acts or writes, so the takeover may expect that record instead (a bounded number of times). A reclaim by the
 * offerer shows a newer epoch and is never retried against.
 */
export function recordsShowOffererLeftover(context: NodeContext, read: RecordsRead): boolean {
  return (
    context.takeover.takeoverMode === 'handover' &&
    context.takeover.offerRetries < MAX_OFFER_RETRIES &&
    read.heartbeat !== null &&
    read.heartbeat.holder === context.takeover.offeredBy &&
    read.heartbeat.epoch === context.epoch &&
    read.address === context.takeover.offeredRecords?.address
  );
}

/** Rule 6: the takeover's next compare-and-swap expects the offerer's leftover record. */
export function expectOffererLeftover(context: NodeContext, read: RecordsRead): NodeContextPatch {
  return { takeover: { offeredRecords: { address: read.address, txt: read.txt }, offerRetries: context.takeover.offerRetries + 1 } };
}

/** Rule 6: the records a Primary leaves behind when it hands over: the expectation of its peer's takeover. */
function recordsLeftBehind(context: NodeContext): GroupRecords {
  return { address: context.address, txt: context.lease.ownRecord };
}

/** Rule 6: a step-down request from a node that knows an older epoch than this one comes from before a change. */
export function stepDownRequestIsCurrent(context: NodeContext, requesterEpoch: number): boolean {
  return requesterEpoch >= context.epoch;
}

/**
 * Rule 6: after a forced takeover, the old Primary's lease can still run until the last progress this node saw
 * plus the lease bound (the lease times the drift factor): every heartbeat that confirmed that lease, by either
 * path, was seen by this node by then, since the takeover expected exactly the TXT value it read. Armed at `at`.
 */
export function awaitOldLease(context: NodeContext, written: HeartbeatWritten): NodeContextPatch {
  const from = context.progress.lastProgressAt ?? written.sentAt.monotonic;
  return { takeover: { oldLeaseEndsAt: from + context.timers.leaseBoundMs, oldLeaseArmedAt: written.at.monotonic } };
}

/** Milliseconds until the old Primary's lease has certainly ended, counted from when the wait was armed. */
export function oldLeaseRemainingMs(context: NodeContext): number {
  if (context.takeover.oldLeaseEndsAt === null || context.takeover.oldLeaseArmedAt === null) return 0;
  return Math.max(0, context.takeover.oldLeaseEndsAt - context.takeover.oldLeaseArmedAt);
}

/** Rule 6: a handover offer (or a granted step-down) tells the epoch the Primary held; the taker knows at least that one. */
function learnOfferedEpoch(context: NodeContext, offeredEpoch: number): NodeContextPatch {
  return offeredEpoch > context.epoch ? { epoch: offeredEpoch } : {};
}

/** Rule 6: an offer from an epoch older than one this node knows comes from before a re-assertion: it is stale. */
export function offerIsCurrent(context: NodeContext, offeredEpoch: number): boolean {
  return offeredEpoch >= context.epoch;
}

/** Whether a DNS failure means another writer changed the records first (NXRRSET/YXRRSET). */
export function isLostRace(error: unknown): boolean {
  return hasErrorCode(error, DnsPrerequisiteFailedError.code);
}

/** Whether a write was refused locally because the lease had run out before it could be sent (rule 7). */
export function isLeaseExpired(error: unknown): boolean {
  return hasErrorCode(error, LeaseExpiredError.code);
}

// ---- Rule 3: the lease ----

/**
 * Rule 3: this node now holds the epoch it wrote; its lease runs from the write's send time. Used on group
 * creation, reclaim and takeover, all of which are confirmed heartbeats (TXT writes): so the write is also the
 * node's last heartbeat (`last_heartbeat_time`), not the previous epoch's one it may have read before.
 */
export function holdEpoch(context: NodeContext, written: { heartbeat: Heartbeat; txt: string; sentAt: Stamp; at: Stamp }): NodeContextPatch {
  const held: NodeContextPatch = {
    epoch: written.heartbeat.epoch,
    holder: context.nodeId,
    records: { address: context.address, txt: written.txt },
    lease: { ownSeq: written.heartbeat.seq, ownRecord: written.txt },
    progress: { seen: { epoch: written.heartbeat.epoch, seq: written.heartbeat.seq } },
  };
  return mergePatches(held, confirmHeartbeat(context, confirmationBy(HeartbeatMethod.DNS, written)));
}

/** Rule 3: a confirmed heartbeat extends the lease to its send time plus the lease duration, never shortens it. */
export function leaseFrom(context: NodeContext, sentAt: Stamp, at: Stamp): NodeContextPatch {
  const expiresAt = sentAt.monotonic + context.timers.leaseMs;
  return {
    progress: { epochKnownAt: at.monotonic },
    lease: {
      lastConfirmedSentAt: Math.max(context.lease.lastConfirmedSentAt ?? -Infinity, sentAt.monotonic),
      leaseExpiresAt: Math.max(context.lease.leaseExpiresAt ?? -Infinity, expiresAt),
      leaseArmedAt: at.monotonic,
    },
  };
}

/**
 * Rule 3, what a confirmation teaches: the lease runs from its send time; for display, the heartbeat's wall time and
 * how it travelled. On a Primary the product's `heartbeat_method` says how heartbeats are sent: `direct` while the
 * direct path confirms them (the peer accepted one within the last two heartbeat intervals), `dns` otherwise; so a
 * TXT write that answers before the peer does not flip it.
 */
export function confirmHeartbeat(context: NodeContext, confirmed: HeartbeatConfirmation): NodeContextPatch {
  const directConfirms =
    confirmed.method === HeartbeatMethod.DIRECT ||
    (context.lease.peerAcceptedAt !== null && confirmed.at.monotonic - context.lease.peerAcceptedAt <= 2 * context.timers.heartbeatIntervalMs);
  const shown = { method: directConfirms ? HeartbeatMethod.DIRECT : HeartbeatMethod.DNS, sentAtWall: confirmed.sentAtWall };
  return mergePatches(leaseFrom(context, confirmed.sentAt, confirmed.at), { progress: { lastHeartbeat: shown } });
}

/** Whether the peer accepted a direct heartbeat within the last failover period: a handover would find it. */
export function peerIsHealthyAt(context: NodeContext, nowMonotonic: number): boolean {
  return context.lease.peerAcceptedAt !== null && nowMonotonic - context.lease.peerAcceptedAt < context.timers.absenceMs;
}

/** Whether a confirmation is for a heartbeat sent after the newest one already confirmed. */
export function confirmsNewerSend(context: NodeContext, sentAt: Stamp): boolean {
  return context.lease.lastConfirmedSentAt === null || sentAt.monotonic > context.lease.lastConfirmedSentAt;
}

/** Milliseconds until the lease runs out, counted from when the lease timer was armed. */
export function leaseRemainingMs(context: NodeContext): number {
  if (context.lease.leaseExpiresAt === null || context.lease.leaseArmedAt === null) return 0;
  return Math.max(0, context.lease.leaseExpiresAt - context.lease.leaseArmedAt);
}

/**
 * Rule 7: acting as Primary means the Primary role and a lease still valid at `nowMonotonic`. Checked at call time
 * by `getNodeState()`, `isActingPrimary()` and the workflow guard.
 */
export function leaseIsValidAt(context: NodeContext, nowMonotonic: number): boolean {
  return context.role === NodeRole.PRIMARY && context.lease.leaseExpiresAt !== null && nowMonotonic < context.lease.leaseExpiresAt;
}

/** The Primary's next heartbeat, with the new sequence number. */
export function nextHeartbeat(context: NodeContext): HeartbeatIntent {
  return { holder: context.nodeId, epoch: context.epoch, seq: context.lease.ownSeq, ...maintenanceOnWire(context.maintenance) };
}

/**
 * Rules 3, 4 and 7: what the Primary tells its heartbeat sender each interval: the next heartbeat, the TXT value its
 * compare-and-swap expects (the one this node last wrote), and the lease deadline after which nothing may be sent.
 *
 * @example
 * heartbeatCommand(context) // { type: 'SEND_HEARTBEAT', heartbeat: { holder: 'a', epoch: 3, seq: 12 }, expectedTxt: 'ag1 node=a epoch=3 seq=11 ...', leaseExpiresAt: 81250 }
 */
export function heartbeatCommand(context: NodeContext): SendHeartbeatCommand {
  return { type: 'SEND_HEARTBEAT', heartbeat: nextHeartbeat(context), expectedTxt: context.lease.ownRecord ?? '', leaseExpiresAt: context.lease.leaseExpiresAt };
}

/**
 * Rule 3: a heartbeat confirmed by `method` (the peer's acknowledgement or the TXT write), as the lease reads it.
 *
 * @example
 * confirmationBy(HeartbeatMethod.DIRECT, acked) // { method: 'direct', sentAt: acked.sentAt, sentAtWall: acked.heartbeat.sentAt, at: acked.at }
 */
export function confirmationBy(method: HeartbeatMethod, sent: Pick<DirectHeartbeatSent, 'heartbeat' | 'sentAt' | 'at'>): HeartbeatConfirmation {
  return { method, sentAt: sent.sentAt, sentAtWall: sent.heartbeat.sentAt, at: sent.at };
}

/** Rule 3: the peer accepted a direct heartbeat sent after the newest one already confirmed: the lease runs from it. */
export function peerConfirmsNewerSend(context: NodeContext, acked: DirectHeartbeatSent): boolean {
  return acked.ack.accepted && confirmsNewerSend(context, acked.sentAt);
}

/**
 * Rule 5: a restarted holder re-asserts itself with a compare-and-swap on the record it found, as a new epoch. Not
 * one seq higher in the old epoch: before the restart its direct heartbeats may have reached the peer with sequence
 * numbers the TXT record never got (DNS down, peer up), and the peer would not count a lower seq as progress while
 * the reclaimed lease runs (found by the simulator, docs/testing.md).
 */
export function reclaimInput(context: NodeContext): WriteHeartbeatInput {
  return {
    expectedTxt: context.records?.txt ?? '',
    heartbeat: { holder: context.nodeId, epoch: nextEpoch(context), seq: 0 },
    leaseExpiresAt: null,
  };
}

/** What a node that stops acting as Primary knows afterwards: its own last heartbeat is the newest it has seen. */
export function stepDown(context: NodeContext): NodeContextPatch {
  return {
    lease: { leaseExpiresAt: null, leaseArmedAt: null, lastConfirmedSentAt: null },
    progress: { seen: { epoch: context.epoch, seq: context.lease.ownSeq }, lastProgressAt: null },
    takeover: { takeoverMode: null, oldLeaseEndsAt: null, oldLeaseArmedAt: null },
    health: HEALTH_HANDOVER_RESET,
  };
}

// ---- Rule 4: fencing ----

/**
 * Rule 4 and 8: a Primary's own write failed its prerequisite, yet the records still name it at its own epoch: an
 * earlier write of its own that went unanswered (DNS slow or paused) was applied after all. Nobody else writes at
 * this node's epoch, so the Primary carries on from that record: no role change, no new epoch.
 */
export function recordsShowOwnWrite(context: NodeContext, read: RecordsRead): boolean {
  return (
    read.address === context.address &&
    read.heartbeat !== null &&
    read.heartbeat.holder === context.nodeId &&
    read.heartbeat.epoch === context.epoch &&
    read.heartbeat.seq <= context.lease.ownSeq
  );
}

/** Rule 4: the Primary's next write expects the record its own late write left. */
export function adoptOwnRecord(context: NodeContext, read: RecordsRead): NodeContextPatch {
  return { lease: { ownRecord: read.txt }, records: { address: context.address, txt: read.txt }, progress: { lastCheckedAtWall: read.at.wall } };
}

/** Rule 4: the Primary's TXT write landed: its next write expects this value. */
export function recordOwnWrite(context: NodeContext, written: { txt: string }): NodeContextPatch {
  return { lease: { ownRecord: written.txt }, records: { address: context.address, txt: written.txt } };
}

/** Rule 3: the Primary's next heartbeat gets the next sequence number. */
export function advanceHeartbeat(context: NodeContext): NodeContextPatch {
  return { lease: { ownSeq: context.lease.ownSeq + 1 } };
}

/** Rule 4: a plausible heartbeat from a higher epoch means another node took over. */
export function isFromNewerEpoch(context: NodeContext, heartbeat: Heartbeat, at: Stamp): boolean {
  return heartbeat.epoch > context.epoch && heartbeatIsPlausible(context, heartbeat, at);
}

/** Rule 1: nothing seen of a Primary yet (the display time of the last read aside). */
const NO_PROGRESS = {
  seen: null,
  lastProgressAt: null,
  epochKnownAt: null,
  lastHeartbeat: null,
  checkBaseline: null,
  absenceDeadlineArmedAt: null,
} as const satisfies Partial<ProgressWatch>;

/** Rules 3 and 4: no heartbeat of its own sent, no lease. */
const NO_LEASE = {
  ownSeq: 0,
  ownRecord: null,
  lastConfirmedSentAt: null,
  peerAcceptedAt: null,
  leaseExpiresAt: null,
  leaseArmedAt: null,
} as const satisfies PrimaryLease;

/** Rules 2 and 6: no takeover under way. */
const NO_TAKEOVER = {
  takeoverMode: null,
  oldLeaseEndsAt: null,
  oldLeaseArmedAt: null,
  offeredRecords: null,
  offeredBy: null,
  offerRetries: 0,
} as const satisfies TakeoverInProgress;

/** What a node forgets when it leaves its group (the epoch stays: epochs never go back). */
export function leaveGroup(): NodeContextPatch {
  return { inGroup: false, holder: null, records: null, progress: NO_PROGRESS, lease: NO_LEASE, takeover: NO_TAKEOVER, failover: { handoverAskedBy: null } };
}

// ---- Rule 6: manual failover ----

/** Rule 6: a manual failover asked on this node begins; its result comes later. */
export function beginFailoverRequest(): NodeContextPatch {
  return { failover: { failoverPending: true, failoverResult: null } };
}

/** Rule 6: a step-down request the Primary refused, as the requester's failover result. */
export function failoverRefusedBy(answer: StepDownAnswerBody): FailoverResult {
  return { outcome: 'refused', code: answer.outcome === 'busy' ? 'in_progress' : 'stale', reason: answer.reason };
}

/** Rule 6: an offer answers this node's own step-down request, not a failover asked on the Primary. */
export function offerAnswersOwnRequest(context: NodeContext, offer: { askedBy: string }): boolean {
  return offer.askedBy === context.nodeId;
}

/**
 * Rule 6: a failover asked on the Primary overtook the one asked here (both at once): this node still takes over,
 * but its own request is the one refused, naming the new Primary, so exactly one request answers success.
 */
export function failoverOvertakenBy(context: NodeContext, offer: { from: string }): FailoverResult {
  return { outcome: 'refused', code: 'in_progress', reason: `a failover asked on ${offer.from} is already under way; ${context.nodeId} becomes Primary` };
}

/** Rule 6: a failover asked while this node already hands over (asked on its peer): refused, naming the new Primary. */
export function failoverAlreadyUnderWay(context: NodeContext): FailoverResult {
  const asker = context.failover.handoverAskedBy ?? 'the Secondary';
  return { outcome: 'refused', code: 'in_progress', reason: `a failover asked on ${asker} is already under way; ${asker === context.nodeId ? 'the Secondary' : asker} becomes Primary` };
}

/** Rule 6: the Secondary said it could not take over now (its probe): the Primary never stopped acting. */
export function failoverNotReady(probe: HandoverProbeAnswer): FailoverResult {
  return { outcome: 'refused', code: 'not_ready', reason: `${probe.reason}; nothing changed` };
}

/** Rule 6: the Secondary refused the offer (it wrote nothing, or its write lost the race): the offerer re-asserts itself. */
export function failoverRefusedByPeer(answer: HandoverAnswerBody): FailoverResult {
  return { outcome: 'refused', code: 'peer_refused', reason: `the Secondary did not take over: ${answer.reason}` };
}

/** Why a refused handover leads to a reclaim, for the announcement. */
export function handoverRefusedBecause(answer: HandoverAnswerBody): string {
  return `handover refused: ${answer.reason}`;
}

/** Why an unconfirmed handover leads to a reclaim, for the announcement. */
export function handoverUnconfirmedBecause(answer: HandoverAnswerBody): string {
  return `handover unconfirmed: ${answer.reason}`;
}

/** Rule 6: how the running manual failover ended; nothing when none runs (a later step cannot rewrite a result). */
export function settleFailover(context: NodeContext, result: FailoverResult): NodeContextPatch {
  return context.failover.failoverPending ? { failover: { failoverPending: false, failoverResult: result } } : {};
}

/**
 * Rule 6: the records name the peer after a handover whose answer was lost, so it took over; but its update may be
 * applied before it heard so and acts. The failover asked here waits for proof (`newPrimaryShowsItActs`).
 */
export function awaitNewPrimary(context: NodeContext): NodeContextPatch {
  return context.failover.failoverPending ? { failover: { newPrimaryToConfirm: context.epoch } } : {};
}

/**
 * Rule 6: the peer named by the records acts: this node saw a heartbeat of that epoch (or a newer one) past the
 * takeover's own write (seq 0), by either path. Only a Primary that acts sends one: its next heartbeat leaves only
 * once its compare-and-swap was answered and it entered `primary`.
 */
export function newPrimaryShowsItActs(context: NodeContext): boolean {
  const epoch = context.failover.newPrimaryToConfirm;
  return epoch !== null && context.progress.seen !== null && context.progress.seen.epoch >= epoch && context.progress.seen.seq >= 1;
}

/** Rule 6: a failover asked here still waits for proof that the peer named by the records acts. */
export function awaitsNewPrimary(context: NodeContext): boolean {
  return context.failover.newPrimaryToConfirm !== null;
}

/** Rule 6: the proof came; the failover asked here completed. */
export function confirmNewPrimary(context: NodeContext): NodeContextPatch {
  const heartbeat = context.progress.seen === null ? '' : ` (its heartbeat of epoch ${context.progress.seen.epoch}, seq ${context.progress.seen.seq} arrived)`;
  const settled = settleFailover(context, { outcome: 'completed', code: 'completed', reason: `the Secondary took over and acts as Primary${heartbeat}` });
  return mergePatches({ failover: { newPrimaryToConfirm: null } }, settled);
}

/** Rule 6: no proof within a failover period, or this node stopped watching first: the records decide. */
export function giveUpOnNewPrimary(context: NodeContext): NodeContextPatch {
  if (context.failover.newPrimaryToConfirm === null) return {};
  const settled = settleFailover(context, {
    outcome: 'unconfirmed',
    code: 'peer_unreachable',
    reason: `the records name the Secondary at epoch ${context.failover.newPrimaryToConfirm}, but no heartbeat of it showed that it acts; the records decide which node is Primary`,
  });
  return mergePatches({ failover: { newPrimaryToConfirm: null } }, settled);
}

/** Rules 3 and 8: whether this node announced primary and has not stepped down: only then is a lost lease LEASE_LOST. */
export function announcedTenure(context: NodeContext): boolean {
  return context.role === NodeRole.PRIMARY;
}

/**
 * Rule 6: a forced taker still waiting out the old Primary's lease (role secondary) lost its own lease: it gives up
 * the takeover it never announced, and a failover asked on it ends with the records deciding (its update was applied).
 */
export function takeoverLapsedBeforeActing(reason: string): FailoverResult {
  return { outcome: 'unconfirmed', code: 'dns_unreachable', reason: `the takeover was written, but this node stopped before acting (${reason}); the records decide which node is Primary` };
}

/** A failure as kept in the context: the error's code and message, nothing else (never a secret). */
export function describeFailure(error: unknown): { code: string; message: string } {
  if (error instanceof Error) return { code: (error as { code?: string }).code ?? 'AG_UNKNOWN', message: error.message };
  return { code: 'AG_UNKNOWN', message: String(error) };
}

// ---- Rule 9: maintenance mode ----

/** Rule 9: an operator paused the group's automatic takeover, as far as this node knows: no takeover for absence. */
export function groupIsPaused(context: NodeContext): boolean {
  return context.maintenance.enabled;
}

/** Rule 9: an operator's request that resumes a paused group (a standby check follows at once). */
export function resumesGroup(context: NodeContext, request: { enabled: boolean }): boolean {
  return context.maintenance.enabled && !request.enabled;
}

/** Rule 9: the peer's flag (from a heartbeat or an acknowledgement) when it is newer than this node's, else null. */
export function newerMaintenanceFrom(context: NodeContext, flag: MaintenanceFlag | undefined): MaintenanceFlag | null {
  if (flag === undefined || typeof flag.enabled !== 'boolean' || !Number.isSafeInteger(flag.version) || flag.version < 1 || typeof flag.by !== 'string') return null;
  return isNewerMaintenance(flag, context.maintenance) ? { enabled: flag.enabled, version: flag.version, by: flag.by } : null;
}
