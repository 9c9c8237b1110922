/**
 * The node lifecycle of an availability group member, as an XState 5 statechart. This file is the spec: read it top
 * to bottom with docs/design.md section 2 beside it. Guards and actions are named in the words of the rules; how each is
 * decided lives in `nodeRules.ts`. The machine does no I/O and reads no clock: DNS and peer traffic run in the
 * invoked actors that the node (or the simulator) provides with `nodeMachine.provide({ actors })`, and every time
 * it needs arrives in an event's or an actor output's stamp.
 */
import { assign, emit, enqueueActions, fromCallback, fromPromise, sendTo, setup } from 'xstate';
import { EventId, HeartbeatMethod, NodeDnsConnectionState, NodeRole } from '../src/api/constants.js';
import type { TakeoverMode } from '../src/api/events.js';
import type { Heartbeat } from './heartbeat.js';
import { changeMaintenance, NO_MAINTENANCE, type MaintenanceFlag } from './maintenance.js';
import { NodeTag } from './nodeTags.js';
import type {
  ApplicationHealthCheckedEvent,
  ApplicationHealthConfiguredEvent,
  CreateRecordsInput,
  DirectHeartbeatSent,
  FailoverResult,
  GroupRecords,
  HandoverAnswer,
  HandoverAnswerBody,
  HandoverOfferInput,
  HandoverProbeAnswer,
  HandoverProbed,
  HeartbeatAck,
  HeartbeatConfirmation,
  HeartbeatWritten,
  NodeContext,
  NodeMachineEvent,
  NodeMachineInput,
  NodeTimers,
  RecordsRead,
  RecordsRemoved,
  RemoveRecordsInput,
  SendHeartbeatCommand,
  Stamp,
  StepDownAnswer,
  TakeOverInput,
  WriteHeartbeatInput,
} from './nodeMachine.types.js';
import { patchContext } from './contextPatch.js';
import {
  ABSENCE_DEADLINE_TIMER,
  absenceDeadlineCanBeArmed,
  absenceDeadlineRemainingMs,
  armAbsenceDeadline,
  disarmAbsenceDeadline,
  stampCarriedBy,
  advanceHeartbeat,
  recordOwnWrite,
  acceptOffer,
  adoptOwnRecord,
  awaitOldLease,
  beginCheck,
  beginFailoverRequest,
  confirmHeartbeat,
  confirmationBy,
  confirmsNewerSend,
  describeFailure,
  dnsShowsNewerHeartbeat,
  failoverRefusedBy,
  heartbeatCommand,
  heartbeatIsProgress,
  holdEpoch,
  initialContext,
  isFromNewerEpoch,
  isLeaseExpired,
  isLostRace,
  leaseRemainingMs,
  leaveGroup,
  nextEpoch,
  observeHeartbeat,
  observeRecords,
  failoverAlreadyUnderWay,
  failoverNotReady,
  failoverOvertakenBy,
  failoverRefusedByPeer,
  handoverRefusedBecause,
  handoverUnconfirmedBecause,
  offerAnswersOwnRequest,
  offerIsCurrent,
  oldLeaseRemainingMs,
  peerConfirmsNewerSend,
  primaryIsAbsent,
  absenceLimitMs,
  timersWithTakeoverOrder,
  progressSinceCheckBegan,
  reclaimInput,
  recordsAreMissing,
  handoverOfferInput,
  recordsNameThisNode,
  recordsShowOffererLeftover,
  recordsShowOwnWrite,
  expectOffererLeftover,
  settleFailover,
  silenceAt,
  stepDown,
  stepDownRequestIsCurrent,
  takeoverInput,
  groupIsPaused,
  resumesGroup,
  newerMaintenanceFrom,
  announcedTenure,
  awaitNewPrimary,
  awaitsNewPrimary,
  confirmNewPrimary,
  giveUpOnNewPrimary,
  newPrimaryShowsItActs,
  takeoverLapsedBeforeActing,
} from './nodeRules.js';
import {
  absentButApplicationCannotServe,
  applicationCallsForHandover,
  applicationCanServe,
  applicationHealthAfter,
  applicationHealthIsChecked,
  applicationNotReady,
  applicationRefusesOffer,
  beginHealthHandover,
  checkLeavesApplicationUnhealthy,
  configureApplicationHealth,
  recordHealthCheck,
  failoverRefusedForApplication,
  handoverReason,
  peerApplicationHealthFrom,
  watchApplicationAsPrimary,
} from './applicationHealth.js';

/** Placeholder for an I/O actor: the node or the simulator must provide the real one. */
function mustBeProvided<TOutput, TInput>(name: string) {
  return fromPromise<TOutput, TInput>(async () => {
    throw new Error(`The I/O actor "${name}" was not provided: use nodeMachine.provide({ actors: { ${name} } }).`);
  });
}

/** Placeholder for the Primary's long-lived heartbeat I/O actor: the node or the simulator must provide the real one. */
function heartbeatSenderMustBeProvided() {
  return fromCallback<SendHeartbeatCommand, void>(() => {
    throw new Error('The I/O actor "heartbeatSender" was not provided: use nodeMachine.provide({ actors: { heartbeatSender } }).');
  });
}

/** What an `enqueueActions` callback may enqueue, as far as announcing a role needs. */
interface RoleAnnouncer {
  assign(values: { role: NodeRole }): void;
  emit(event: NodeEmitted): void;
}

/** Records `role` and emits NODE_ROLE_CHANGED, once per change (rule 8: the truth, each change exactly once). */
function announceRole(context: NodeContext, enqueue: RoleAnnouncer, role: NodeRole): void {
  if (context.role === role) return;
  enqueue.assign({ role });
  enqueue.emit({ type: EventId.NODE_ROLE_CHANGED, previous: context.role, new: role, epoch: context.epoch, reason: context.reason });
}

/** The events this machine emits to subscribers (the public shapes of src/api/events.ts, keyed by `type`). */
export type NodeEmitted =
  | { type: typeof EventId.NODE_ROLE_CHANGED; previous: NodeRole | null; new: NodeRole; epoch: number; reason: string }
  | { type: typeof EventId.DNS_CONNECTION_STATE_CHANGED; previous: NodeDnsConnectionState; new: NodeDnsConnectionState; reason: string }
  | { type: typeof EventId.PRIMARY_SUSPECTED; silentForMs: number; absenceLimitMs: number; epoch: number }
  | { type: typeof EventId.TAKEOVER_STARTED; mode: TakeoverMode; epoch: number }
  | { type: typeof EventId.TAKEOVER_ABANDONED; reason: string; epoch: number }
  | { type: typeof EventId.APPLICATION_HEALTH_CHANGED; health: 'healthy' | 'unhealthy'; previous: 'healthy' | 'unhealthy' | 'unknown'; consecutiveFailures: number }
  | { type: typeof EventId.LEASE_LOST; reason: string; epoch: number }
  | { type: typeof EventId.MAINTENANCE_CHANGED; enabled: boolean; by: string; epoch: number };

/** What an `enqueueActions` callback may enqueue, as far as changing the maintenance flag needs. */
interface MaintenanceRecorder {
  assign(values: { maintenance: MaintenanceFlag }): void;
  emit(event: NodeEmitted): void;
}

/** Rule 9: records `flag` and emits MAINTENANCE_CHANGED when it switches the mode on or off (a version alone: silent). */
function recordMaintenance(context: NodeContext, enqueue: MaintenanceRecorder, flag: MaintenanceFlag): void {
  if (flag === context.maintenance) return;
  enqueue.assign({ maintenance: flag });
  if (flag.enabled === context.maintenance.enabled) return;
  enqueue.emit({ type: EventId.MAINTENANCE_CHANGED, enabled: flag.enabled, by: flag.by ?? context.nodeId, epoch: context.epoch });
}

/** Rule 9: records the peer's flag (from a heartbeat or an acknowledgement) when it is newer than this node's. */
function adoptMaintenance(context: NodeContext, enqueue: MaintenanceRecorder, peerFlag: MaintenanceFlag | undefined): void {
  const flag = newerMaintenanceFrom(context, peerFlag);
  if (flag !== null) recordMaintenance(context, enqueue, flag);
}

/**
 * The node lifecycle statechart. Its I/O actors are placeholders: run it through `createNode` (real or in-memory
 * ports) or the simulator, which provide them; or provide your own with `nodeMachine.provide({ actors })`.
 *
 * @example
 * const actor = createActor(nodeMachine.provide({ actors: createNodeActors(ports) }), { input });
 */
export const nodeMachine = setup({
  types: {
    context: {} as NodeContext,
    events: {} as NodeMachineEvent,
    input: {} as NodeMachineInput,
    emitted: {} as NodeEmitted,
    tags: {} as NodeTag,
  },

  actors: {
    /** Reads the group's A and TXT records from the authority (no cache). */
    readGroupRecords: mustBeProvided<RecordsRead, void>('readGroupRecords'),
    /** Writes A = this node and TXT = its first heartbeat, only if neither exists. */
    createGroupRecords: mustBeProvided<HeartbeatWritten, CreateRecordsInput>('createGroupRecords'),
    /** A reclaim's TXT write: a compare-and-swap on the records found (rule 5). */
    writeHeartbeatRecord: mustBeProvided<HeartbeatWritten, WriteHeartbeatInput>('writeHeartbeatRecord'),
    /**
     * The Primary's heartbeat I/O, one actor for as long as it holds the epoch. Told `SEND_HEARTBEAT` each heartbeat
     * interval, it sends the heartbeat straight to the Secondary and writes it as the TXT record (a compare-and-swap
     * on the value this node last wrote, read back when its prerequisite fails), and reports each path's outcome
     * as an event (`DIRECT_HEARTBEAT_ACKED`/`_FAILED`, `DNS_HEARTBEAT_WRITTEN`/`_CONTESTED`/`_FAILED`). The TXT
     * write one at a time (its compare-and-swap expects the previous value): a heartbeat due while the previous write
     * is under way is not written. Up to three direct heartbeats may be under way, so one slow round trip does not
     * cost the next heartbeat.
     */
    heartbeatSender: heartbeatSenderMustBeProvided(),
    /** The takeover: A and TXT replaced in one compare-and-swap (rule 2). */
    takeOverRecords: mustBeProvided<HeartbeatWritten, TakeOverInput>('takeOverRecords'),
    /** Deletes the group's records, only if they still name this node. */
    removeGroupRecords: mustBeProvided<RecordsRemoved, RemoveRecordsInput>('removeGroupRecords'),
    /** Asks the Secondary whether it could take over now: it reads DNS afresh (rule 6). */
    probeHandover: mustBeProvided<HandoverProbed, { epoch: number }>('probeHandover'),
    /** Tells the Secondary that this node stepped down, with the records it left; resolves once it took over or not (rule 6). */
    offerHandover: mustBeProvided<HandoverAnswer, HandoverOfferInput>('offerHandover'),
    /** Asks the Primary to hand over to this node (rule 6). */
    requestStepDown: mustBeProvided<StepDownAnswer, { epoch: number }>('requestStepDown'),
  },

  delays: {
    heartbeatInterval: ({ context }) => context.timers.heartbeatIntervalMs,
    standbyCheckInterval: ({ context }) => context.timers.checkIntervalMs,
    absenceDeadline: ({ context }) => absenceDeadlineRemainingMs(context),
    leaseRemaining: ({ context }) => leaseRemainingMs(context),
    oldLeaseRemaining: ({ context }) => oldLeaseRemainingMs(context),
    /** Rule 6: how long a failover whose handover answer was lost waits for a heartbeat showing the new Primary acts. */
    newPrimaryProofTimeout: ({ context }) => context.timers.absenceMs,
  },

  guards: {
    isInGroup: ({ context }) => context.inGroup,
    // Rule 10: application health
    applicationCanServe: ({ context }) => applicationCanServe(context),
    applicationCannotServe: ({ context }) => !applicationCanServe(context),
    absentButApplicationCannotServe: ({ context }, read: RecordsRead) => absentButApplicationCannotServe(context, primaryIsAbsent(context, read.sentAt)),
    applicationCallsForHandover: ({ context }, check: { healthy: boolean; at: Stamp }) => applicationCallsForHandover(context, check),
    checkLeavesApplicationUnhealthy: ({ context }, check: { healthy: boolean; at: Stamp }) => checkLeavesApplicationUnhealthy(context, check),
    // Rule 1
    heartbeatIsProgress: ({ context }, received: { heartbeat: Heartbeat; at: Stamp }) => heartbeatIsProgress(context, received.heartbeat, received.at),
    dnsShowsNewerHeartbeat: ({ context }, read: RecordsRead) => dnsShowsNewerHeartbeat(context, read),
    // Silence as of when the read was sent: what the records can speak for (rule 1).
    primaryIsAbsent: ({ context }, read: RecordsRead) => primaryIsAbsent(context, read.sentAt),
    // Rule 9: the Primary is absent, but an operator paused automatic takeover (here or on the peer).
    primaryIsAbsentWhileGroupIsPaused: ({ context }, read: RecordsRead) => groupIsPaused(context) && primaryIsAbsent(context, read.sentAt),
    resumesGroup: ({ context }, request: { enabled: boolean }) => resumesGroup(context, request),
    progressSinceCheckBegan: ({ context }) => progressSinceCheckBegan(context),
    recordsAreMissing: (_, read: RecordsRead) => recordsAreMissing(read),
    // Rule 2
    lostTheRace: (_, failure: { error: unknown }) => isLostRace(failure.error),
    offerIsCurrent: ({ context }, offer: { epoch: number }) => offerIsCurrent(context, offer.epoch),
    offerIsStale: ({ context }, offer: { epoch: number }) => !offerIsCurrent(context, offer.epoch),
    offerAnswersOwnRequest: ({ context }, offer: { askedBy: string }) => offerAnswersOwnRequest(context, offer),
    // Rule 3
    confirmsNewerSend: ({ context }, confirmed: { sentAt: Stamp }) => confirmsNewerSend(context, confirmed.sentAt),
    peerConfirmsNewerSend: ({ context }, acked: DirectHeartbeatSent) => peerConfirmsNewerSend(context, acked),
    leaseHadExpired: (_, failure: { error: unknown }) => isLeaseExpired(failure.error),
    takeoverWasForced: ({ context }) => context.takeover.takeoverMode === 'forced',
    lostTheRaceAfterOffer: ({ context }, failure: { error: unknown }) => isLostRace(failure.error) && context.takeover.takeoverMode === 'handover',
    recordsShowOffererLeftover: ({ context }, read: RecordsRead) => recordsShowOffererLeftover(context, read),
    // Rule 4
    heartbeatFromNewerEpoch: ({ context }, received: { heartbeat: Heartbeat; at: Stamp }) => isFromNewerEpoch(context, received.heartbeat, received.at),
    peerHoldsNewerEpoch: ({ context }, ack: HeartbeatAck) => ack.epoch > context.epoch,
    peerAcceptedHeartbeat: (_, ack: HeartbeatAck) => ack.accepted,
    recordsShowOwnWrite: ({ context }, read: RecordsRead) => recordsShowOwnWrite(context, read),
    // Rule 5
    recordsNameThisNode: ({ context }, read: RecordsRead) => recordsNameThisNode(context, read),
    // Rule 6
    peerIsReadyToTakeOver: (_, probe: HandoverProbed) => probe.ready,
    peerAcceptedHandover: (_, answer: HandoverAnswer) => answer.accepted,
    peerRefusedHandover: (_, answer: HandoverAnswer) => !answer.accepted && !answer.unconfirmed,
    primaryIsHandingOver: (_, answer: StepDownAnswer) => answer.outcome === 'handingOver',
    primaryRefusedStepDown: (_, answer: StepDownAnswer) => answer.outcome === 'busy' || answer.outcome === 'stale',
    stepDownRequestIsCurrent: ({ context }, request: { epoch: number }) => stepDownRequestIsCurrent(context, request.epoch),
    newPrimaryShowsItActs: ({ context }) => newPrimaryShowsItActs(context),
    awaitsNewPrimary: ({ context }) => awaitsNewPrimary(context),
  },

  actions: {
    /** Announces the role of the state just entered, once per change: `previous` is null the first time. */
    assumeRole: enqueueActions(({ context, enqueue }, params: { role: NodeRole }) => announceRole(context, enqueue, params.role)),
    /** Rule 8: a Primary that gives up its lease to hand over announces it before its offer leaves. */
    announceSteppingDown: enqueueActions(({ context, enqueue }) => announceRole(context, enqueue, NodeRole.SECONDARY)),
    /** Says why the next role change happens. */
    explain: assign((_, params: { reason: string }) => ({ reason: params.reason })),
    /** Records and announces the DNS connection state, once per change. */
    noteDnsConnection: enqueueActions(({ context, enqueue }, params: { state: NodeDnsConnectionState; reason: string }) => {
      if (context.dnsConnection === params.state) return;
      enqueue.assign({ dnsConnection: params.state });
      enqueue.emit({ type: EventId.DNS_CONNECTION_STATE_CHANGED, previous: context.dnsConnection, new: params.state, reason: params.reason });
    }),
    joinGroup: assign({ inGroup: true }),
    forgetGroup: enqueueActions(({ context, enqueue }) => {
      enqueue.assign(patchContext(context, leaveGroup()));
      // Rule 9: maintenance belongs to the group; a node that leaves it is not paused in its next one.
      recordMaintenance(context, enqueue, NO_MAINTENANCE);
    }),
    recordFailure: assign((_, params: { error: unknown }) => ({ failure: describeFailure(params.error) })),
    clearFailure: assign({ failure: null }),

    // Rule 10: application health
    configureApplicationHealth: assign(({ context }, configured: ApplicationHealthConfiguredEvent) => patchContext(context, configureApplicationHealth(configured))),
    /** Counts one check; announces APPLICATION_HEALTH_CHANGED when the verdict turns healthy or unhealthy, once per change. */
    recordApplicationHealth: enqueueActions(({ context, enqueue }, check: ApplicationHealthCheckedEvent) => {
      if (!applicationHealthIsChecked(context)) return;
      const previous = context.health.applicationHealth ?? 'unknown';
      const { health, failures } = applicationHealthAfter(context, check.healthy);
      enqueue.assign(patchContext(context, recordHealthCheck({ health, failures })));
      if (health === previous || health === 'unknown') return;
      enqueue.emit({ type: EventId.APPLICATION_HEALTH_CHANGED, health, previous, consecutiveFailures: failures });
    }),
    watchApplicationAsPrimary: assign(({ context }, check: ApplicationHealthCheckedEvent) => patchContext(context, watchApplicationAsPrimary(context, check))),
    beginHealthHandover: assign(({ context }, check: ApplicationHealthCheckedEvent) => patchContext(context, beginHealthHandover(context, check))),

    // Rule 1
    recordDirectHeartbeat: enqueueActions(({ context, enqueue }, params: { heartbeat: Heartbeat; at: Stamp }) => {
      enqueue.assign(patchContext(context, observeHeartbeat(context, params.heartbeat, HeartbeatMethod.DIRECT, params.at)));
      // Rule 9: the Primary's heartbeat carries the group's maintenance flag.
      adoptMaintenance(context, enqueue, params.heartbeat.maintenance);
    }),
    // Rule 9: an operator on this node paused or resumed the group; the flag's version rises.
    changeMaintenance: enqueueActions(({ context, enqueue }, request: { enabled: boolean }) =>
      recordMaintenance(context, enqueue, changeMaintenance(context.maintenance, request.enabled, context.nodeId)),
    ),
    // Rule 9: the Secondary's acknowledgement carries its flag back to the Primary.
    adoptPeerMaintenance: enqueueActions(({ context, enqueue }, ack: HeartbeatAck) => adoptMaintenance(context, enqueue, ack.maintenance)),
    recordRecordsRead: assign(({ context }, read: RecordsRead) => patchContext(context, observeRecords(context, read))),
    beginCheck: assign(({ context }) => patchContext(context, beginCheck(context))),
    /**
     * Rule 1: the decision is armed at the last progress seen + the failover period, re-armed by every progress and
     * every standby read that did not find the Primary absent; `now` is the stamp of the event being handled.
     */
    rearmAbsenceDeadline: enqueueActions(({ context, enqueue }, now: Stamp | null) => {
      enqueue.cancel(ABSENCE_DEADLINE_TIMER);
      if (!absenceDeadlineCanBeArmed(context, now)) return;
      enqueue.assign(patchContext(context, armAbsenceDeadline(now)));
      enqueue.raise({ type: 'ABSENCE_DEADLINE_REACHED' }, { id: ABSENCE_DEADLINE_TIMER, delay: 'absenceDeadline' });
    }),
    disarmAbsenceDeadline: enqueueActions(({ context, enqueue }) => {
      enqueue.cancel(ABSENCE_DEADLINE_TIMER);
      enqueue.assign(patchContext(context, disarmAbsenceDeadline()));
    }),
    warnPrimarySuspected: emit(({ context }, read: RecordsRead) => ({
      type: EventId.PRIMARY_SUSPECTED,
      silentForMs: silenceAt(context, read.at),
      absenceLimitMs: absenceLimitMs(context),
      epoch: context.epoch,
    })),

    // Rule 2 and 6
    beginTakeover: assign(({ context }, params: { mode: TakeoverMode }) => patchContext(context, { takeover: { takeoverMode: params.mode } })),
    acceptOffer: assign(({ context }, offer: { from: string; epoch: number; records: GroupRecords }) => patchContext(context, acceptOffer(context, offer))),
    expectOffererLeftover: assign(({ context }, read: RecordsRead) => patchContext(context, expectOffererLeftover(context, read))),
    answerOffer: assign(({ context }, answer: HandoverAnswerBody) => patchContext(context, { failover: { offerAnswer: answer } })),
    answerProbe: assign(({ context }, answer: HandoverProbeAnswer) => patchContext(context, { failover: { handoverReady: answer } })),
    forgetProbeAnswer: assign(({ context }) => patchContext(context, { failover: { handoverReady: null } })),
    noteHandoverAskedBy: assign(({ context }, asker: { nodeId: string }) => patchContext(context, { failover: { handoverAskedBy: asker.nodeId } })),
    awaitOldLease: assign(({ context }, written: HeartbeatWritten) => patchContext(context, awaitOldLease(context, written))),
    beginFailoverRequest: assign(({ context }) => patchContext(context, beginFailoverRequest())),
    settleFailover: assign(({ context }, result: FailoverResult) => patchContext(context, settleFailover(context, result))),
    awaitNewPrimary: assign(({ context }) => patchContext(context, awaitNewPrimary(context))),
    confirmNewPrimary: assign(({ context }) => patchContext(context, confirmNewPrimary(context))),
    giveUpOnNewPrimary: assign(({ context }) => patchContext(context, giveUpOnNewPrimary(context))),
    announceTakeover: emit(({ context }) => ({
      type: EventId.TAKEOVER_STARTED,
      mode: context.takeover.takeoverMode ?? 'absence',
      epoch: nextEpoch(context),
    })),
    abandonTakeover: enqueueActions(({ context, enqueue }, params: { reason: string }) => {
      enqueue.assign(patchContext(context, { takeover: { takeoverMode: null }, reason: `takeover abandoned: ${params.reason}` }));
      enqueue.emit({ type: EventId.TAKEOVER_ABANDONED, reason: params.reason, epoch: context.epoch });
    }),

    // Rule 3
    holdEpoch: assign(({ context }, written: HeartbeatWritten) => patchContext(context, holdEpoch(context, written))),
    advanceHeartbeat: assign(({ context }) => patchContext(context, advanceHeartbeat(context))),
    recordOwnWrite: assign(({ context }, written: HeartbeatWritten) => patchContext(context, recordOwnWrite(context, written))),
    adoptOwnRecord: assign(({ context }, read: RecordsRead) => patchContext(context, adoptOwnRecord(context, read))),
    extendLease: assign(({ context }, confirmed: HeartbeatConfirmation) => patchContext(context, confirmHeartbeat(context, confirmed))),
    /** The peer accepted a direct heartbeat: when (a handover would find it), and its application's health (rule 10). */
    notePeerAccepted: assign(({ context }, acked: DirectHeartbeatSent) =>
      patchContext(context, { lease: { peerAcceptedAt: acked.at.monotonic }, health: peerApplicationHealthFrom(acked.ack) }),
    ),
    changeTimers: assign(({ context }, params: { timers: NodeTimers }) => ({ timers: timersWithTakeoverOrder(context, params.timers) })),
    /** The takeover order (rule 1): the delay this Secondary's rank adds to its absence limit, as the node told it. */
    takeTakeoverOrder: assign(({ context }, order: { takeoverRankDelayMs: number }) => ({ timers: { ...context.timers, takeoverRankDelayMs: order.takeoverRankDelayMs } })),
    /** Rules 3 and 4: tells the heartbeat sender to send the newest heartbeat on both paths. */
    sendHeartbeat: sendTo('heartbeatSender', ({ context }) => heartbeatCommand(context)),
    /**
     * Rules 3 and 8: LEASE_LOST only for a lease this node announced. A forced taker still waiting out the old
     * Primary's lease (role secondary) gives up the takeover instead.
     */
    loseLease: enqueueActions(({ context, enqueue }, params: { reason: string }) => {
      enqueue.assign(patchContext(context, { ...stepDown(context), reason: params.reason }));
      if (announcedTenure(context)) {
        enqueue.emit({ type: EventId.LEASE_LOST, reason: params.reason, epoch: context.epoch });
        return;
      }
      enqueue.assign(patchContext(context, settleFailover(context, takeoverLapsedBeforeActing(params.reason))));
      enqueue.emit({ type: EventId.TAKEOVER_ABANDONED, reason: `${params.reason} before acting (waiting out the old Primary's lease)`, epoch: context.epoch });
    }),
  },
}).createMachine({
  id: 'agNode',
  context: ({ input }) => initialContext(input),
  initial: 'starting',
  states: {
    /** Rule 5: a node in a group never assumes its old role; it resolves it from DNS. */
    starting: {
      tags: [NodeTag.starting],
      always: [{ guard: 'isInGroup', target: 'member.resolving' }, { target: 'notInGroup' }],
    },

    notInGroup: {
      tags: [NodeTag.notInGroup],
      entry: [
        { type: 'assumeRole', params: { role: NodeRole.NOT_IN_GROUP } },
        { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.NOT_APPLICABLE, reason: 'not in a group' } },
      ],
      on: {
        CREATE_GROUP: { target: 'creatingGroup', actions: 'clearFailure' },
        JOIN_GROUP: { target: 'member.resolving', actions: ['clearFailure', 'joinGroup', { type: 'changeTimers', params: ({ event }) => event }, { type: 'explain', params: { reason: 'joined the group' } }] },
      },
    },

    /** Writes the group's records with this node as holder of epoch 1 (or one past any epoch it knew). */
    creatingGroup: {
      tags: [NodeTag.creatingGroup],
      invoke: {
        src: 'createGroupRecords',
        input: ({ context }) => ({ heartbeat: { holder: context.nodeId, epoch: nextEpoch(context), seq: 0 } }),
        onDone: {
          target: 'member.primary',
          actions: [
            'joinGroup',
            { type: 'holdEpoch', params: ({ event }) => event.output },
            { type: 'explain', params: { reason: 'created the group' } },
            { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.CONNECTED, reason: 'group records written' } },
          ],
        },
        onError: { target: 'notInGroup', actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) } },
      },
    },

    /**
     * A member of a group, from resolving its role until it leaves (tag `inGroup`). A direct heartbeat (rule 1) is
     * recorded in one place, `following`: every member that follows the holder of the epoch records each one that is
     * progress. The other members record none, and need no rule of their own for it: `resolving` and `reclaiming`
     * cannot judge one before DNS answered (rule 5); the Primary only fences on one of a newer epoch (rule 4), and
     * when that guard fails no ancestor handles the event; a member handing over, orphaned or leaving the group
     * follows no Primary. (XState takes the deepest state's enabled transition and falls back to an ancestor's only
     * when the child's guards all fail, so a child of `following` overrides the rule only by adding to it.)
     */
    member: {
      tags: [NodeTag.inGroup],
      initial: 'resolving',
      states: {
        /**
         * Rule 5: read A and TXT; Primary only if both still name this node at the newest epoch. Until DNS has answered,
         * a direct heartbeat cannot be judged (a replay captured before a restart looks new), so none is recorded.
         */
        resolving: {
          tags: [NodeTag.resolving],
          entry: { type: 'assumeRole', params: { role: NodeRole.SECONDARY } },
          invoke: {
            src: 'readGroupRecords',
            onDone: [
              {
                guard: { type: 'recordsAreMissing', params: ({ event }) => event.output },
                target: 'orphaned',
                actions: { type: 'recordRecordsRead', params: ({ event }) => event.output },
              },
              {
                guard: { type: 'recordsNameThisNode', params: ({ event }) => event.output },
                target: 'reclaiming',
                actions: [
                  { type: 'recordRecordsRead', params: ({ event }) => event.output },
                  { type: 'explain', params: { reason: 'records still name this node' } },
                  { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.CONNECTED, reason: 'group records read' } },
                ],
              },
              {
                target: 'following.secondary',
                actions: [
                  { type: 'recordRecordsRead', params: ({ event }) => event.output },
                  { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.CONNECTED, reason: 'group records read' } },
                  // After a handover whose answer was lost: the records name the peer, so it took over; a failover asked
                  // here completes once a heartbeat shows the peer acts (secondary, below).
                  'awaitNewPrimary',
                ],
              },
            ],
            onError: {
              target: 'following.disconnected',
              actions: [
                { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
                { type: 'settleFailover', params: { outcome: 'unconfirmed', code: 'dns_unreachable', reason: 'the Secondary did not answer the handover and DNS did not answer this node; the records decide which node is Primary' } },
              ],
            },
          },
        },

        /** Rule 5: the records still name this node; it re-asserts itself with a compare-and-swap before acting. */
        reclaiming: {
          tags: [NodeTag.reclaiming],
          invoke: {
            src: 'writeHeartbeatRecord',
            input: ({ context }) => reclaimInput(context),
            onDone: {
              target: 'primary',
              actions: [
                { type: 'holdEpoch', params: ({ event }) => event.output },
                { type: 'settleFailover', params: { outcome: 'failed', code: 'peer_unreachable', reason: 'the Secondary did not answer the handover; this node re-asserted itself as Primary' } },
              ],
            },
            onError: [
              {
                guard: { type: 'lostTheRace', params: ({ event }) => ({ error: event.error }) },
                target: 'resolving',
                actions: { type: 'explain', params: { reason: 'records changed while reclaiming' } },
              },
              {
                target: 'following.disconnected',
                actions: [
                  { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
                  { type: 'settleFailover', params: { outcome: 'unconfirmed', code: 'dns_unreachable', reason: 'the Secondary did not answer the handover and DNS did not answer this node; the records decide which node is Primary' } },
                ],
              },
            ],
          },
        },

        /**
         * Follows the holder of the epoch by its direct heartbeats (rule 1): a Secondary, a Secondary asking for the
         * role or taking it over, and a member cut off from DNS. Every transition into it names the child it enters.
         * The HEARTBEAT_RECEIVED rule is written once, here; only the Secondary adds to it (it also re-arms its
         * absence deadline, and in `watching` restarts its standby check).
         */
        following: {
          initial: 'secondary',
          on: {
            HEARTBEAT_RECEIVED: {
              guard: { type: 'heartbeatIsProgress', params: ({ event }) => event },
              actions: { type: 'recordDirectHeartbeat', params: ({ event }) => event },
            },
          },
          states: {
            /** Watches the Primary: any rise of `(epoch, seq)`, by either path, is progress (rule 1). */
            secondary: {
              tags: [NodeTag.watching],
              // Rule 1: the absence deadline runs from the stamp of the event that made this node a Secondary (if it has one).
              entry: [{ type: 'assumeRole', params: { role: NodeRole.SECONDARY } }, { type: 'rearmAbsenceDeadline', params: ({ event }) => stampCarriedBy(event) }],
              // Rule 6: a failover asked here whose handover answer was lost ends with proof that the peer acts, or without.
              exit: ['disarmAbsenceDeadline', 'giveUpOnNewPrimary'],
              always: { guard: 'newPrimaryShowsItActs', actions: 'confirmNewPrimary' },
              after: { newPrimaryProofTimeout: { guard: 'awaitsNewPrimary', actions: 'giveUpOnNewPrimary' } },
              initial: 'watching',
              states: {
                /**
                 * A heartbeat that is progress restarts the standby check (the product checks DNS only when direct heartbeats
                 * stop) and re-arms the absence deadline. At the deadline the check runs at once: one read confirms the
                 * absence, then the compare-and-swap, not one check interval later.
                 */
                watching: {
                  after: { standbyCheckInterval: 'checking' },
                  on: {
                    ABSENCE_DEADLINE_REACHED: 'checking',
                    HEARTBEAT_RECEIVED: {
                      guard: { type: 'heartbeatIsProgress', params: ({ event }) => event },
                      target: 'watching',
                      reenter: true,
                      actions: [
                        { type: 'recordDirectHeartbeat', params: ({ event }) => event },
                        { type: 'rearmAbsenceDeadline', params: ({ event }) => event.at },
                      ],
                    },
                    // Rule 9: resuming runs the standby check at once, so a Primary that died while paused is replaced promptly.
                    MAINTENANCE_REQUESTED: {
                      guard: { type: 'resumesGroup', params: ({ event }) => event },
                      target: 'checking',
                      actions: { type: 'changeMaintenance', params: ({ event }) => event },
                    },
                  },
                },
                /**
                 * The standby check: read the TXT record once more before declaring absence (rule 1). A DNS outage changes
                 * only the DNS connection state: this node keeps watching and acknowledging direct heartbeats.
                 */
                checking: {
                  entry: 'beginCheck',
                  invoke: {
                    src: 'readGroupRecords',
                    onDone: [
                      {
                        guard: { type: 'recordsAreMissing', params: ({ event }) => event.output },
                        target: '#agNode.member.orphaned',
                        actions: { type: 'recordRecordsRead', params: ({ event }) => event.output },
                      },
                      {
                        guard: { type: 'dnsShowsNewerHeartbeat', params: ({ event }) => event.output },
                        target: 'watching',
                        actions: [
                          { type: 'recordRecordsRead', params: ({ event }) => event.output },
                          { type: 'rearmAbsenceDeadline', params: ({ event }) => event.output.at },
                          { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.CONNECTED, reason: 'standby check read DNS' } },
                        ],
                      },
                      {
                        // Rule 10: a node whose application is not healthy reports the absence but does not take over.
                        guard: { type: 'absentButApplicationCannotServe', params: ({ event }) => event.output },
                        target: 'watching',
                        actions: [
                          { type: 'warnPrimarySuspected', params: ({ event }) => event.output },
                          { type: 'recordRecordsRead', params: ({ event }) => event.output },
                          { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.CONNECTED, reason: 'standby check read DNS' } },
                        ],
                      },
                      {
                        // Rule 9: an operator paused the group: the absence is reported, and nobody takes over.
                        guard: { type: 'primaryIsAbsentWhileGroupIsPaused', params: ({ event }) => event.output },
                        target: 'watching',
                        actions: [
                          { type: 'warnPrimarySuspected', params: ({ event }) => event.output },
                          { type: 'recordRecordsRead', params: ({ event }) => event.output },
                          { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.CONNECTED, reason: 'standby check read DNS' } },
                        ],
                      },
                      {
                        guard: { type: 'primaryIsAbsent', params: ({ event }) => event.output },
                        target: '#agNode.member.following.takingOver',
                        actions: [
                          { type: 'recordRecordsRead', params: ({ event }) => event.output },
                          { type: 'beginTakeover', params: { mode: 'absence' } },
                          { type: 'explain', params: { reason: 'primary absent' } },
                        ],
                      },
                      {
                        // A direct heartbeat arrived while the check read DNS: no silence to report.
                        guard: 'progressSinceCheckBegan',
                        target: 'watching',
                        actions: [
                          { type: 'recordRecordsRead', params: ({ event }) => event.output },
                          { type: 'rearmAbsenceDeadline', params: ({ event }) => event.output.at },
                          { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.CONNECTED, reason: 'standby check read DNS' } },
                        ],
                      },
                      {
                        // Silence, but shorter than the failover period as of the read's send time: the deadline is re-armed
                        // (at once if it passed while the answer came back). The two paths above that found the Primary absent
                        // re-arm nothing: their standby checks go on at the check interval, as before.
                        target: 'watching',
                        actions: [
                          { type: 'warnPrimarySuspected', params: ({ event }) => event.output },
                          { type: 'recordRecordsRead', params: ({ event }) => event.output },
                          { type: 'rearmAbsenceDeadline', params: ({ event }) => event.output.at },
                          { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.CONNECTED, reason: 'standby check read DNS' } },
                        ],
                      },
                    ],
                    onError: {
                      target: 'watching',
                      actions: [
                        { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
                        { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.DISCONNECTED, reason: 'standby check could not read DNS' } },
                      ],
                    },
                  },
                },
                /** Rule 6: the Primary asks whether this node could take over now; it could if DNS answers it now. */
                probing: {
                  tags: [NodeTag.answeringProbe],
                  invoke: {
                    src: 'readGroupRecords',
                    onDone: [
                      {
                        guard: { type: 'recordsAreMissing', params: ({ event }) => event.output },
                        target: '#agNode.member.orphaned',
                        actions: [
                          { type: 'recordRecordsRead', params: ({ event }) => event.output },
                          { type: 'answerProbe', params: { ready: false, reason: 'the group records are missing from DNS' } },
                        ],
                      },
                      {
                        target: 'watching',
                        actions: [
                          { type: 'recordRecordsRead', params: ({ event }) => event.output },
                          { type: 'answerProbe', params: { ready: true, reason: 'DNS answers this node' } },
                          { type: 'rearmAbsenceDeadline', params: ({ event }) => event.output.at },
                          { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.CONNECTED, reason: 'handover probe read DNS' } },
                        ],
                      },
                    ],
                    onError: {
                      target: 'watching',
                      actions: [
                        { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
                        { type: 'answerProbe', params: { ready: false, reason: 'the Secondary cannot reach DNS' } },
                        { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.DISCONNECTED, reason: 'handover probe could not read DNS' } },
                      ],
                    },
                  },
                },
              },
              on: {
                // Rule 1: in a Secondary, progress also re-arms the absence deadline (and in `watching`, above, restarts
                // the standby check).
                HEARTBEAT_RECEIVED: {
                  guard: { type: 'heartbeatIsProgress', params: ({ event }) => event },
                  actions: [
                    { type: 'recordDirectHeartbeat', params: ({ event }) => event },
                    { type: 'rearmAbsenceDeadline', params: ({ event }) => event.at },
                  ],
                },
                FAILOVER_REQUESTED: [
                  {
                    // Rule 10: a node whose application is not healthy does not take over, not even when asked to.
                    guard: 'applicationCannotServe',
                    actions: ['beginFailoverRequest', { type: 'settleFailover', params: ({ context }) => failoverRefusedForApplication(context) }],
                  },
                  {
                  target: 'requestingStepDown',
                  // A probe still being answered gets the same answer a later one would: this node wants to take over.
                  actions: ['beginFailoverRequest', { type: 'answerProbe', params: { ready: true, reason: 'this node is itself asking to take over' } }],
                  },
                ],
                HANDOVER_PROBED: [
                  { guard: 'applicationCannotServe', actions: { type: 'answerProbe', params: ({ context }) => applicationNotReady(context) } },
                  { guard: { type: 'offerIsCurrent', params: ({ event }) => event }, target: '.probing', actions: 'forgetProbeAnswer' },
                  { actions: { type: 'answerProbe', params: { ready: false, reason: 'the probe comes from an older epoch than this node knows' } } },
                ],
                HANDOVER_OFFERED: [
                  {
                    // This node already answered its own request "the offer did not arrive": a late offer must not undo that.
                    guard: { type: 'offerAnswersOwnRequest', params: ({ event }) => event },
                    actions: { type: 'answerOffer', params: { accepted: false, reason: 'this node stopped waiting for the offer and answered its failover request' } },
                  },
                  // Rule 10: an offer never makes a node whose application is not healthy Primary; the offerer reclaims.
                  { guard: 'applicationCannotServe', actions: { type: 'answerOffer', params: ({ context }) => applicationRefusesOffer(context) } },
                  {
                    guard: { type: 'offerIsCurrent', params: ({ event }) => event },
                    target: 'takingOver',
                    actions: [
                      { type: 'acceptOffer', params: ({ event }) => event },
                      { type: 'beginTakeover', params: { mode: 'handover' } },
                      { type: 'explain', params: { reason: 'primary handed over' } },
                    ],
                  },
                  { actions: { type: 'answerOffer', params: { accepted: false, reason: 'the offer comes from an older epoch than this node knows' } } },
                ],
              },
            },

            /**
             * Rule 6, from the Secondary: make sure DNS answers (else nothing changes), then ask the Primary to hand over;
             * if it cannot be asked, force the takeover.
             */
            requestingStepDown: {
              tags: [NodeTag.requestingStepDown],
              initial: 'confirmingDns',
              states: {
                confirmingDns: {
                  invoke: {
                    src: 'readGroupRecords',
                    onDone: [
                      {
                        guard: { type: 'recordsAreMissing', params: ({ event }) => event.output },
                        target: '#agNode.member.orphaned',
                        actions: [
                          { type: 'recordRecordsRead', params: ({ event }) => event.output },
                          { type: 'settleFailover', params: { outcome: 'refused', code: 'records_missing', reason: 'the group records are missing from DNS' } },
                        ],
                      },
                      {
                        target: 'asking',
                        actions: [
                          { type: 'recordRecordsRead', params: ({ event }) => event.output },
                          { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.CONNECTED, reason: 'failover read DNS' } },
                        ],
                      },
                    ],
                    onError: {
                      target: '#agNode.member.following.secondary',
                      actions: [
                        { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
                        { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.DISCONNECTED, reason: 'failover could not read DNS' } },
                        { type: 'settleFailover', params: { outcome: 'failed', code: 'dns_unreachable', reason: 'this node cannot reach DNS, so it cannot take over; nothing changed' } },
                      ],
                    },
                  },
                },
                asking: {
                  invoke: {
                    src: 'requestStepDown',
                    input: ({ context }) => ({ epoch: context.epoch }),
                    onDone: [
                      { guard: { type: 'primaryIsHandingOver', params: ({ event }) => event.output }, target: 'awaitingOffer' },
                      {
                        guard: { type: 'primaryRefusedStepDown', params: ({ event }) => event.output },
                        target: '#agNode.member.following.secondary',
                        actions: { type: 'settleFailover', params: ({ event }) => failoverRefusedBy(event.output) },
                      },
                      {
                        // The peer says it does not act as Primary: nobody holds a lease this node must respect beyond rule 6's bound.
                        target: '#agNode.member.following.takingOver.confirmingRecords',
                        actions: [{ type: 'beginTakeover', params: { mode: 'forced' } }, { type: 'explain', params: { reason: 'manual failover (the peer is not Primary)' } }],
                      },
                    ],
                    onError: {
                      target: '#agNode.member.following.takingOver.confirmingRecords',
                      actions: [{ type: 'beginTakeover', params: { mode: 'forced' } }, { type: 'explain', params: { reason: 'manual failover (forced: the Primary cannot be reached)' } }],
                    },
                  },
                },
                /** The Primary stepped down for this node; its offer, with the records it left, is on its way. */
                awaitingOffer: {
                  after: {
                    standbyCheckInterval: {
                      target: '#agNode.member.following.secondary',
                      actions: {
                        type: 'settleFailover',
                        params: { outcome: 'failed', code: 'peer_unreachable', reason: "the Primary agreed to hand over, but its offer did not arrive; it re-asserts itself" },
                      },
                    },
                  },
                },
              },
              on: {
                HANDOVER_OFFERED: [
                  {
                    guard: { type: 'offerIsStale', params: ({ event }) => event },
                    actions: { type: 'answerOffer', params: { accepted: false, reason: 'the offer comes from an older epoch than this node knows' } },
                  },
                  {
                    guard: { type: 'offerAnswersOwnRequest', params: ({ event }) => event },
                    target: 'takingOver',
                    actions: [
                      { type: 'acceptOffer', params: ({ event }) => event },
                      { type: 'beginTakeover', params: { mode: 'handover' } },
                      { type: 'explain', params: { reason: 'manual failover' } },
                    ],
                  },
                  {
                    target: 'takingOver',
                    actions: [
                      { type: 'settleFailover', params: ({ context, event }) => failoverOvertakenBy(context, event) },
                      { type: 'acceptOffer', params: ({ event }) => event },
                      { type: 'beginTakeover', params: { mode: 'handover' } },
                      { type: 'explain', params: { reason: 'primary handed over' } },
                    ],
                  },
                ],
                // This node is asking for the same failover the Primary wants to start: it is ready.
                HANDOVER_PROBED: { actions: { type: 'answerProbe', params: { ready: true, reason: 'this node is itself asking to take over' } } },
                // Rule 10: the application turns unhealthy while this node asks: it gives up (a late offer is refused).
                APPLICATION_HEALTH_CHECKED: [
                  {
                    guard: { type: 'checkLeavesApplicationUnhealthy', params: ({ event }) => event },
                    target: '#agNode.member.following.secondary',
                    actions: [
                      { type: 'recordApplicationHealth', params: ({ event }) => event },
                      { type: 'settleFailover', params: ({ context }) => failoverRefusedForApplication({ ...context, health: { ...context.health, applicationHealth: 'unhealthy' } }) },
                    ],
                  },
                  { actions: { type: 'recordApplicationHealth', params: ({ event }) => event } },
                ],
              },
            },

            /**
             * Rule 2: replace A and TXT in one compare-and-swap. A failed prerequisite means someone wrote first: the node
             * stays Secondary. An unanswered update may still be applied, so the node resolves its role from the records.
             */
            takingOver: {
              tags: [NodeTag.takingOver],
              entry: 'announceTakeover',
              // A takeover for absence builds on the check's read, one after a handover on the offered records; a forced
              // takeover (requestingStepDown) has neither and enters `confirmingRecords` first.
              initial: 'updating',
              states: {
                /** A forced takeover has no recent read to build on: read first. */
                confirmingRecords: {
                  invoke: {
                    src: 'readGroupRecords',
                    onDone: [
                      {
                        guard: { type: 'recordsAreMissing', params: ({ event }) => event.output },
                        target: '#agNode.member.orphaned',
                        actions: [
                          { type: 'recordRecordsRead', params: ({ event }) => event.output },
                          { type: 'abandonTakeover', params: { reason: 'group records missing' } },
                          { type: 'settleFailover', params: { outcome: 'refused', code: 'records_missing', reason: 'the group records are missing from DNS' } },
                        ],
                      },
                      { target: 'updating', actions: { type: 'recordRecordsRead', params: ({ event }) => event.output } },
                    ],
                    onError: {
                      target: '#agNode.member.following.secondary',
                      actions: [
                        { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
                        { type: 'abandonTakeover', params: { reason: 'DNS unreachable' } },
                        { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.DISCONNECTED, reason: 'takeover could not read DNS' } },
                        { type: 'settleFailover', params: { outcome: 'failed', code: 'dns_unreachable', reason: 'this node cannot reach DNS, so it cannot take over; nothing was written' } },
                      ],
                    },
                  },
                },
                updating: {
                  invoke: {
                    src: 'takeOverRecords',
                    input: ({ context }) => takeoverInput(context),
                    onDone: [
                      {
                        guard: 'takeoverWasForced',
                        target: '#agNode.member.primary.authority.awaitingOldLeaseExpiry',
                        actions: [
                          { type: 'holdEpoch', params: ({ event }) => event.output },
                          { type: 'awaitOldLease', params: ({ event }) => event.output },
                          { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.CONNECTED, reason: 'takeover written' } },
                        ],
                      },
                      {
                        target: '#agNode.member.primary',
                        actions: [
                          { type: 'holdEpoch', params: ({ event }) => event.output },
                          { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.CONNECTED, reason: 'takeover written' } },
                          { type: 'answerOffer', params: { accepted: true, reason: 'this node took over' } },
                        ],
                      },
                    ],
                    onError: [
                      {
                        // Perhaps only the offerer's own last write, landing late: look before giving up.
                        guard: { type: 'lostTheRaceAfterOffer', params: ({ event }) => ({ error: event.error }) },
                        target: 'recheckingOffer',
                      },
                      {
                        guard: { type: 'lostTheRace', params: ({ event }) => ({ error: event.error }) },
                        target: '#agNode.member.resolving',
                        actions: [
                          { type: 'abandonTakeover', params: { reason: 'lost the race' } },
                          { type: 'answerOffer', params: { accepted: false, reason: 'the records changed before the takeover (lost the race)' } },
                          { type: 'settleFailover', params: { outcome: 'refused', code: 'lost_race', reason: 'the records changed before the takeover could be written' } },
                        ],
                      },
                      {
                        target: '#agNode.member.resolving',
                        actions: [
                          { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
                          { type: 'abandonTakeover', params: { reason: 'DNS did not answer the takeover' } },
                          { type: 'answerOffer', params: { accepted: false, unconfirmed: true, reason: 'DNS did not answer the takeover, which may still be applied' } },
                          { type: 'settleFailover', params: { outcome: 'unconfirmed', code: 'dns_unreachable', reason: 'DNS did not answer the takeover; the records decide which node is Primary' } },
                        ],
                      },
                    ],
                  },
                },
                /** Rule 6: a handover takeover lost the race; the records say whether to the offerer's leftover write. */
                recheckingOffer: {
                  invoke: {
                    src: 'readGroupRecords',
                    onDone: [
                      {
                        guard: { type: 'recordsShowOffererLeftover', params: ({ event }) => event.output },
                        target: 'updating',
                        actions: { type: 'expectOffererLeftover', params: ({ event }) => event.output },
                      },
                      {
                        target: '#agNode.member.resolving',
                        actions: [
                          { type: 'recordRecordsRead', params: ({ event }) => event.output },
                          { type: 'abandonTakeover', params: { reason: 'lost the race' } },
                          { type: 'answerOffer', params: { accepted: false, reason: 'the records changed before the takeover (lost the race)' } },
                          { type: 'settleFailover', params: { outcome: 'refused', code: 'lost_race', reason: 'the records changed before the takeover could be written' } },
                        ],
                      },
                    ],
                    onError: {
                      // The update was answered (it failed its prerequisite): nothing was written, whatever DNS does now.
                      target: '#agNode.member.resolving',
                      actions: [
                        { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
                        { type: 'abandonTakeover', params: { reason: 'lost the race, and DNS did not answer the check' } },
                        { type: 'answerOffer', params: { accepted: false, reason: 'the records changed before the takeover (lost the race)' } },
                        { type: 'settleFailover', params: { outcome: 'refused', code: 'lost_race', reason: 'the records changed before the takeover could be written' } },
                      ],
                    },
                  },
                },
              },
            },

            /** In a group but without a usable view of DNS: no role can be asserted or taken. Retries every check. */
            disconnected: {
              tags: [NodeTag.disconnected],
              entry: [
                { type: 'assumeRole', params: { role: NodeRole.SECONDARY } },
                { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.DISCONNECTED, reason: 'DNS unreachable' } },
              ],
              after: { standbyCheckInterval: '#agNode.member.resolving' },
            },
          },
        },

        /**
         * Holds the epoch: heartbeats on both paths, a lease from the newest confirmed one (rule 3), fencing on any
         * sign of a newer epoch (rule 4). After a forced takeover it first waits out what is left of the old Primary's
         * lease.
         */
        primary: {
          tags: [NodeTag.holdsLease],
          type: 'parallel',
          states: {
            authority: {
              // A forced takeover enters `awaitingOldLeaseExpiry` instead (takingOver.updating).
              initial: 'acting',
              states: {
                /** Rule 6: a forced takeover cannot know the old Primary stopped; its lease ends by the bound. */
                awaitingOldLeaseExpiry: {
                  after: { oldLeaseRemaining: 'acting' },
                },
                acting: {
                  tags: [NodeTag.acting],
                  entry: [
                    { type: 'assumeRole', params: { role: NodeRole.PRIMARY } },
                    { type: 'settleFailover', params: { outcome: 'completed', code: 'completed', reason: 'this node acts as Primary' } },
                  ],
                  on: {
                    FAILOVER_REQUESTED: { target: 'probingPeer', actions: 'beginFailoverRequest' },
                    // Rule 10: unhealthy for health_failures checks, a healthy Secondary: hand over by rule 6's probe.
                    APPLICATION_HEALTH_CHECKED: [
                      {
                        guard: { type: 'applicationCallsForHandover', params: ({ event }) => event },
                        target: 'probingPeer',
                        actions: [
                          { type: 'recordApplicationHealth', params: ({ event }) => event },
                          { type: 'beginHealthHandover', params: ({ event }) => event },
                        ],
                      },
                      {
                        actions: [
                          { type: 'recordApplicationHealth', params: ({ event }) => event },
                          { type: 'watchApplicationAsPrimary', params: ({ event }) => event },
                        ],
                      },
                    ],
                    STEP_DOWN_REQUESTED: {
                      guard: { type: 'stepDownRequestIsCurrent', params: ({ event }) => event },
                      target: '#agNode.member.handingOver',
                      actions: [
                        { type: 'noteHandoverAskedBy', params: ({ event }) => ({ nodeId: event.from }) },
                        { type: 'explain', params: { reason: 'manual failover requested by the secondary' } },
                      ],
                    },
                  },
                },
                /** Rule 6: still acting, the Primary asks whether its peer could take over now; if not, nothing changes. */
                probingPeer: {
                  tags: [NodeTag.acting, NodeTag.handingOver],
                  invoke: {
                    src: 'probeHandover',
                    input: ({ context }) => ({ epoch: context.epoch }),
                    onDone: [
                      {
                        guard: { type: 'peerIsReadyToTakeOver', params: ({ event }) => event.output },
                        target: '#agNode.member.handingOver',
                        actions: [
                          { type: 'noteHandoverAskedBy', params: ({ context }) => ({ nodeId: context.nodeId }) },
                          { type: 'explain', params: ({ context }) => handoverReason(context) },
                        ],
                      },
                      {
                        target: 'acting',
                        actions: { type: 'settleFailover', params: ({ event }) => failoverNotReady(event.output) },
                      },
                    ],
                    onError: {
                      target: 'acting',
                      actions: { type: 'settleFailover', params: { outcome: 'failed', code: 'peer_unreachable', reason: 'the Secondary did not answer; nothing changed' } },
                    },
                  },
                },
              },
            },
            /**
             * Rule 3: the lease runs from the send time of the newest confirmed heartbeat. Each confirmation of a newer
             * one, by either path, extends it and re-arms its timer; when the timer fires the node stops acting.
             */
            lease: {
              initial: 'valid',
              states: {
                valid: {
                  after: {
                    leaseRemaining: {
                      target: '#agNode.member.following.disconnected',
                      actions: [
                        { type: 'loseLease', params: { reason: 'lease expired' } },
                        { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.DISCONNECTED, reason: 'lease expired' } },
                      ],
                    },
                  },
                  on: {
                    DIRECT_HEARTBEAT_ACKED: [
                      // Rule 4: the Secondary knows a newer epoch: another node took over.
                      {
                        guard: { type: 'peerHoldsNewerEpoch', params: ({ event }) => event.ack },
                        target: '#agNode.member.resolving',
                        actions: { type: 'loseLease', params: { reason: 'fenced by a newer epoch' } },
                      },
                      {
                        guard: { type: 'peerConfirmsNewerSend', params: ({ event }) => event },
                        target: 'valid',
                        reenter: true,
                        actions: [
                          { type: 'notePeerAccepted', params: ({ event }) => event },
                          { type: 'adoptPeerMaintenance', params: ({ event }) => event.ack },
                          { type: 'extendLease', params: ({ event }) => confirmationBy(HeartbeatMethod.DIRECT, event) },
                        ],
                      },
                      {
                        // Accepted, but the TXT write of a later send confirmed the lease first.
                        guard: { type: 'peerAcceptedHeartbeat', params: ({ event }) => event.ack },
                        actions: [
                          { type: 'notePeerAccepted', params: ({ event }) => event },
                          { type: 'adoptPeerMaintenance', params: ({ event }) => event.ack },
                        ],
                      },
                      { actions: { type: 'adoptPeerMaintenance', params: ({ event }) => event.ack } },
                    ],
                    DNS_HEARTBEAT_WRITTEN: [
                      {
                        guard: { type: 'confirmsNewerSend', params: ({ event }) => event },
                        target: 'valid',
                        reenter: true,
                        actions: [
                          { type: 'recordOwnWrite', params: ({ event }) => event },
                          { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.CONNECTED, reason: 'heartbeat written' } },
                          { type: 'extendLease', params: ({ event }) => confirmationBy(HeartbeatMethod.DNS, event) },
                        ],
                      },
                      {
                        actions: [
                          { type: 'recordOwnWrite', params: ({ event }) => event },
                          { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.CONNECTED, reason: 'heartbeat written' } },
                        ],
                      },
                    ],
                  },
                },
              },
            },
            /**
             * Every heartbeat interval the next heartbeat goes to the heartbeat sender, which sends it on both paths.
             * Rule 3: the first leaves on entry (after creation, reclaim, takeover or handover), not one interval later:
             * the lease runs from the send time of the write that won the epoch, and waiting an interval would leave the
             * first confirmation less than lease − interval to arrive. Its TXT write expects that write's record (rule 4).
             */
            pacing: {
              entry: ['advanceHeartbeat', 'sendHeartbeat'],
              initial: 'waiting',
              states: {
                waiting: {
                  after: { heartbeatInterval: { target: 'waiting', reenter: true, actions: ['advanceHeartbeat', 'sendHeartbeat'] } },
                },
              },
            },
          },
          invoke: { id: 'heartbeatSender', src: 'heartbeatSender' },
          on: {
            HEARTBEAT_RECEIVED: {
              guard: { type: 'heartbeatFromNewerEpoch', params: ({ event }) => event },
              target: 'following.secondary',
              actions: [
                { type: 'loseLease', params: { reason: 'fenced by a newer epoch' } },
                { type: 'recordDirectHeartbeat', params: ({ event }) => event },
              ],
            },
            /**
             * Rule 4: the TXT write's prerequisite failed, and the records read right after say why. Either an earlier
             * write of this node's own went unanswered yet was applied (carry on from it), or another node took over.
             */
            DNS_HEARTBEAT_CONTESTED: [
              {
                guard: { type: 'recordsShowOwnWrite', params: ({ event }) => event },
                actions: [
                  { type: 'adoptOwnRecord', params: ({ event }) => event },
                  { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.CONNECTED, reason: 'own late heartbeat found in DNS' } },
                ],
              },
              { target: 'resolving', actions: { type: 'loseLease', params: { reason: 'own heartbeat write lost the race' } } },
            ],
            // Rule 4 and 5: a failed TXT write (or its verifying read) changes only the DNS connection state; the lease decides.
            DNS_HEARTBEAT_FAILED: [
              {
                guard: { type: 'leaseHadExpired', params: ({ event }) => event },
                target: 'following.disconnected',
                actions: { type: 'loseLease', params: { reason: 'lease expired' } },
              },
              {
                actions: [
                  { type: 'recordFailure', params: ({ event }) => event },
                  { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.DISCONNECTED, reason: 'heartbeat write failed' } },
                ],
              },
            ],
            LEAVE_GROUP: 'dissolvingGroup',
          },
        },

        /**
         * Rule 6 and 8, from the Primary: it gives up its lease and announces so before its offer leaves, so the peer
         * can never act while this node still announces primary. The offer names the records this node left; the peer
         * answers once it took over or not. If not, or if the answer is lost, this node re-asserts itself with a
         * compare-and-swap, as a restart would, and announces that too.
         */
        handingOver: {
          tags: [NodeTag.handingOver],
          entry: [{ type: 'loseLease', params: ({ context }) => ({ reason: context.reason }) }, 'announceSteppingDown'],
          on: {
            FAILOVER_REQUESTED: {
              actions: ['beginFailoverRequest', { type: 'settleFailover', params: ({ context }) => failoverAlreadyUnderWay(context) }],
            },
          },
          invoke: {
            src: 'offerHandover',
            input: ({ context }) => handoverOfferInput(context),
            onDone: [
              {
                guard: { type: 'peerAcceptedHandover', params: ({ event }) => event.output },
                target: 'following.secondary',
                actions: { type: 'settleFailover', params: { outcome: 'completed', code: 'completed', reason: 'the Secondary took over' } },
              },
              {
                guard: { type: 'peerRefusedHandover', params: ({ event }) => event.output },
                target: 'reclaiming',
                actions: [
                  { type: 'explain', params: ({ event }) => ({ reason: handoverRefusedBecause(event.output) }) },
                  { type: 'settleFailover', params: ({ event }) => failoverRefusedByPeer(event.output) },
                ],
              },
              {
                // The Secondary's takeover went unanswered: it may yet be applied. The reclaim races it; the records decide.
                target: 'reclaiming',
                actions: { type: 'explain', params: ({ event }) => ({ reason: handoverUnconfirmedBecause(event.output) }) },
              },
            ],
            onError: { target: 'reclaiming', actions: { type: 'explain', params: { reason: 'secondary unreachable for handover' } } },
          },
        },

        /** In a group whose records are gone from DNS: nothing to take over. Re-reads every check. */
        orphaned: {
          tags: [NodeTag.orphaned],
          entry: [
            { type: 'assumeRole', params: { role: NodeRole.SECONDARY } },
            { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.NOT_APPLICABLE, reason: 'group records missing' } },
          ],
          after: { standbyCheckInterval: 'resolving' },
        },

        /** The Primary leaves: its records go, only if they still name it. */
        dissolvingGroup: {
          tags: [NodeTag.dissolvingGroup],
          entry: [{ type: 'loseLease', params: { reason: 'left the group' } }, 'announceSteppingDown'],
          invoke: {
            src: 'removeGroupRecords',
            input: ({ context }) => ({ expected: { address: context.address, txt: context.lease.ownRecord } }),
            onDone: { target: '#agNode.notInGroup', actions: ['forgetGroup', { type: 'explain', params: { reason: 'left the group' } }] },
            onError: { target: '#agNode.notInGroup', actions: ['forgetGroup', { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) }, { type: 'explain', params: { reason: 'left the group' } }] },
          },
        },
      },
    },
  },
  on: {
    SETTINGS_CHANGED: { actions: { type: 'changeTimers', params: ({ event }) => event } },
    TAKEOVER_ORDER_CHANGED: { actions: { type: 'takeTakeoverOrder', params: ({ event }) => event } },
    APPLICATION_HEALTH_CONFIGURED: { actions: { type: 'configureApplicationHealth', params: ({ event }) => event } },
    APPLICATION_HEALTH_CHECKED: { actions: { type: 'recordApplicationHealth', params: ({ event }) => event } },
    // Rule 9: pause or resume, in any state; only a watching Secondary's resume does more (a standby check at once).
    MAINTENANCE_REQUESTED: { actions: { type: 'changeMaintenance', params: ({ event }) => event } },
    // Rule 6: only a settled Primary or Secondary starts a failover or takes part in one; anywhere else nothing changes.
    FAILOVER_REQUESTED: {
      actions: [
        'beginFailoverRequest',
        {
          type: 'settleFailover',
          params: { outcome: 'refused', code: 'not_settled', reason: 'this node is not a settled Primary or Secondary now (it is resolving its role, cut off from DNS, orphaned, or taking over)' },
        },
      ],
    },
    HANDOVER_PROBED: { actions: { type: 'answerProbe', params: { ready: false, reason: 'this node is not a Secondary watching its Primary' } } },
    HANDOVER_OFFERED: { actions: { type: 'answerOffer', params: { accepted: false, reason: 'this node is not a Secondary ready to take over' } } },
    LEAVE_GROUP: { target: '.notInGroup', actions: ['forgetGroup', { type: 'explain', params: { reason: 'left the group' } }] },
  },
});

/** The node machine's type. */
export type NodeMachine = typeof nodeMachine;
