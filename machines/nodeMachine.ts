/**
 * The node lifecycle of an availability group member, as an XState 5 statechart. This file is the spec: read it top
 * to bottom with DESIGN.md section 2 beside it. Guards and actions are named in the words of the rules; how each is
 * decided lives in `nodeRules.ts`. The machine does no I/O and reads no clock: DNS and peer traffic run in the
 * invoked actors that the node (or the simulator) provides with `nodeMachine.provide({ actors })`, and every time
 * it needs arrives in an event's or an actor output's stamp.
 */
import { assign, emit, enqueueActions, fromPromise, raise, setup } from 'xstate';
import { EventId, HeartbeatMethod, NodeDnsConnectionState, NodeRole } from '../src/api/constants.js';
import type { TakeoverMode } from '../src/api/events.js';
import { isNewerHeartbeat, type Heartbeat } from './heartbeat.js';
import type {
  CreateRecordsInput,
  DirectHeartbeatSent,
  HandoverAnswer,
  HeartbeatAck,
  HeartbeatConfirmedEvent,
  HeartbeatIntent,
  HeartbeatWritten,
  NodeContext,
  NodeMachineEvent,
  NodeMachineInput,
  NodeTimers,
  RecordsRead,
  RecordsRemoved,
  RemoveRecordsInput,
  Stamp,
  StepDownAnswer,
  TakeOverInput,
  WriteHeartbeatInput,
} from './nodeMachine.types.js';
import {
  confirmsNewerSend,
  describeFailure,
  dnsShowsNewerHeartbeat,
  handoverOutdatedBy,
  heartbeatWriteInput,
  holdEpoch,
  initialContext,
  isFromNewerEpoch,
  isLeaseExpired,
  isLostRace,
  learnOfferedEpoch,
  leaseFrom,
  leaseRemainingMs,
  leaveGroup,
  nextEpoch,
  nextHeartbeat,
  observeHeartbeat,
  observeRecords,
  offerIsCurrent,
  primaryIsAbsent,
  reclaimInput,
  recordsAreMissing,
  recordsChangedSinceHandover,
  recordsNameThisNode,
  silenceAt,
  stepDown,
  takeoverInput,
} from './nodeRules.js';

/** Placeholder for an I/O actor: the node or the simulator must provide the real one. */
function mustBeProvided<TOutput, TInput>(name: string) {
  return fromPromise<TOutput, TInput>(async () => {
    throw new Error(`The I/O actor "${name}" was not provided: use nodeMachine.provide({ actors: { ${name} } }).`);
  });
}

/** The events this machine emits to subscribers (the public shapes of src/api/events.ts, keyed by `type`). */
export type NodeEmitted =
  | { type: typeof EventId.NodeRoleChanged; previous: NodeRole | null; new: NodeRole; epoch: number; reason: string }
  | { type: typeof EventId.DnsConnectionStateChanged; previous: NodeDnsConnectionState; new: NodeDnsConnectionState; reason: string }
  | { type: typeof EventId.PrimarySuspected; silentForMs: number; absenceLimitMs: number; epoch: number }
  | { type: typeof EventId.TakeoverStarted; mode: TakeoverMode; epoch: number }
  | { type: typeof EventId.TakeoverAbandoned; reason: string; epoch: number }
  | { type: typeof EventId.LeaseLost; reason: string; epoch: number };

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
  },

  actors: {
    /** Reads the group's A and TXT records from the authority (no cache). */
    readGroupRecords: mustBeProvided<RecordsRead, void>('readGroupRecords'),
    /** Writes A = this node and TXT = its first heartbeat, only if neither exists. */
    createGroupRecords: mustBeProvided<HeartbeatWritten, CreateRecordsInput>('createGroupRecords'),
    /** The Primary's TXT heartbeat: a compare-and-swap on its own last value (rule 4). */
    writeHeartbeatRecord: mustBeProvided<HeartbeatWritten, WriteHeartbeatInput>('writeHeartbeatRecord'),
    /** The takeover: A and TXT replaced in one compare-and-swap (rule 2). */
    takeOverRecords: mustBeProvided<HeartbeatWritten, TakeOverInput>('takeOverRecords'),
    /** Deletes the group's records, only if they still name this node. */
    removeGroupRecords: mustBeProvided<RecordsRemoved, RemoveRecordsInput>('removeGroupRecords'),
    /** The Primary's heartbeat straight to the Secondary; resolves with the Secondary's acknowledgement. */
    sendDirectHeartbeat: mustBeProvided<DirectHeartbeatSent, { heartbeat: HeartbeatIntent }>('sendDirectHeartbeat'),
    /** Tells the Secondary that this node stepped down and it should take over now (rule 6). */
    offerHandover: mustBeProvided<HandoverAnswer, { epoch: number }>('offerHandover'),
    /** Asks the Primary to step down so that this node can take over (rule 6). */
    requestStepDown: mustBeProvided<StepDownAnswer, { epoch: number }>('requestStepDown'),
  },

  delays: {
    heartbeatInterval: ({ context }) => context.timers.heartbeatIntervalMs,
    standbyCheckInterval: ({ context }) => context.timers.checkIntervalMs,
    failoverPeriod: ({ context }) => context.timers.absenceMs,
    leaseRemaining: ({ context }) => leaseRemainingMs(context),
  },

  guards: {
    isInGroup: ({ context }) => context.inGroup,
    // Rule 1
    heartbeatIsNewer: ({ context }, heartbeat: Heartbeat) => isNewerHeartbeat(heartbeat, context.seen),
    dnsShowsNewerHeartbeat: ({ context }, read: RecordsRead) => dnsShowsNewerHeartbeat(context, read),
    primaryIsAbsent: ({ context }, read: RecordsRead) => primaryIsAbsent(context, read.at),
    recordsAreMissing: (_, read: RecordsRead) => recordsAreMissing(read),
    // Rule 2
    lostTheRace: (_, failure: { error: unknown }) => isLostRace(failure.error),
    takeoverNeedsFreshRecords: ({ context }) => context.takeoverMode !== 'absence',
    recordsChangedSinceHandover: ({ context }, read: RecordsRead) => recordsChangedSinceHandover(context, read),
    handoverOutdatedBy: ({ context }, heartbeat: Heartbeat) => handoverOutdatedBy(context, heartbeat.epoch),
    offerIsCurrent: ({ context }, offer: { epoch: number }) => offerIsCurrent(context, offer.epoch),
    // Rule 3
    confirmsNewerSend: ({ context }, confirmed: { sentAt: Stamp }) => confirmsNewerSend(context, confirmed.sentAt),
    leaseHadExpired: (_, failure: { error: unknown }) => isLeaseExpired(failure.error),
    takeoverWasForced: ({ context }) => context.takeoverMode === 'forced',
    // Rule 4
    heartbeatFromNewerEpoch: ({ context }, heartbeat: Heartbeat) => isFromNewerEpoch(context, heartbeat),
    peerHoldsNewerEpoch: ({ context }, ack: HeartbeatAck) => ack.epoch > context.epoch,
    peerAcceptedHeartbeat: (_, ack: HeartbeatAck) => ack.accepted,
    // Rule 5
    recordsNameThisNode: ({ context }, read: RecordsRead) => recordsNameThisNode(context, read),
    // Rule 6
    primarySteppedDown: (_, answer: StepDownAnswer) => answer.steppedDown,
    peerAcceptedHandover: (_, answer: HandoverAnswer) => answer.accepted,
    isActingPrimary: ({ context }) => context.role === NodeRole.Primary,
  },

  actions: {
    /** Announces the role of the state just entered, once per change: `previous` is null the first time. */
    assumeRole: enqueueActions(({ context, enqueue }, params: { role: NodeRole }) => {
      if (context.role === params.role) return;
      enqueue.assign({ role: params.role });
      enqueue.emit({ type: EventId.NodeRoleChanged, previous: context.role, new: params.role, epoch: context.epoch, reason: context.reason });
    }),
    /** Says why the next role change happens. */
    explain: assign((_, params: { reason: string }) => ({ reason: params.reason })),
    /** Records and announces the DNS connection state, once per change. */
    noteDnsConnection: enqueueActions(({ context, enqueue }, params: { state: NodeDnsConnectionState; reason: string }) => {
      if (context.dnsConnection === params.state) return;
      enqueue.assign({ dnsConnection: params.state });
      enqueue.emit({ type: EventId.DnsConnectionStateChanged, previous: context.dnsConnection, new: params.state, reason: params.reason });
    }),
    joinGroup: assign({ inGroup: true }),
    forgetGroup: assign(() => leaveGroup()),
    recordFailure: assign((_, params: { error: unknown }) => ({ failure: describeFailure(params.error) })),
    clearFailure: assign({ failure: null }),

    // Rule 1
    recordDirectHeartbeat: assign(({ context }, params: { heartbeat: Heartbeat; at: Stamp }) =>
      observeHeartbeat(context, params.heartbeat, HeartbeatMethod.Direct, params.at),
    ),
    recordRecordsRead: assign(({ context }, read: RecordsRead) => observeRecords(context, read)),
    warnPrimarySuspected: emit(({ context }, read: RecordsRead) => ({
      type: EventId.PrimarySuspected,
      silentForMs: silenceAt(context, read.at),
      absenceLimitMs: context.timers.absenceMs,
      epoch: context.epoch,
    })),

    // Rule 2 and 6
    beginTakeover: assign((_, params: { mode: TakeoverMode }) => ({ takeoverMode: params.mode })),
    learnOfferedEpoch: assign(({ context }, offer: { epoch: number }) => learnOfferedEpoch(context, offer.epoch)),
    announceTakeover: emit(({ context }) => ({
      type: EventId.TakeoverStarted,
      mode: context.takeoverMode ?? 'absence',
      epoch: nextEpoch(context),
    })),
    abandonTakeover: enqueueActions(({ context, enqueue }, params: { reason: string }) => {
      enqueue.assign({ takeoverMode: null, reason: `takeover abandoned: ${params.reason}` });
      enqueue.emit({ type: EventId.TakeoverAbandoned, reason: params.reason, epoch: context.epoch });
    }),

    // Rule 3
    holdEpoch: assign(({ context }, written: HeartbeatWritten) => holdEpoch(context, written)),
    advanceHeartbeat: assign(({ context }) => ({ ownSeq: context.ownSeq + 1 })),
    recordOwnWrite: assign(({ context }, written: HeartbeatWritten) => ({
      ownRecord: written.txt,
      records: { address: context.address, txt: written.txt },
    })),
    confirmHeartbeat: raise((_, confirmed: { heartbeat: Heartbeat; method: HeartbeatMethod; sentAt: Stamp; at: Stamp }) => ({
      type: 'HEARTBEAT_CONFIRMED' as const,
      method: confirmed.method,
      sentAt: confirmed.sentAt,
      sentAtWall: confirmed.heartbeat.sentAt,
      at: confirmed.at,
    })),
    extendLease: assign(({ context }, confirmed: HeartbeatConfirmedEvent) => ({
      ...leaseFrom(context, confirmed.sentAt, confirmed.at),
      lastHeartbeat: { method: confirmed.method, sentAtWall: confirmed.sentAtWall },
    })),
    notePeerAccepted: assign((_, sent: { at: Stamp }) => ({ peerAcceptedAt: sent.at.monotonic })),
    changeTimers: assign((_, params: { timers: NodeTimers }) => ({ timers: params.timers })),
    heartbeatDue: raise({ type: 'HEARTBEAT_DUE' as const }),
    loseLease: enqueueActions(({ context, enqueue }, params: { reason: string }) => {
      enqueue.assign({ ...stepDown(context), reason: params.reason });
      enqueue.emit({ type: EventId.LeaseLost, reason: params.reason, epoch: context.epoch });
    }),
  },
}).createMachine({
  id: 'agNode',
  context: ({ input }) => initialContext(input),
  initial: 'starting',
  states: {
    /** Rule 5: a node in a group never assumes its old role; it resolves it from DNS. */
    starting: {
      always: [{ guard: 'isInGroup', target: 'resolving' }, { target: 'notInGroup' }],
    },

    notInGroup: {
      entry: [
        { type: 'assumeRole', params: { role: NodeRole.NotInGroup } },
        { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.NotApplicable, reason: 'not in a group' } },
      ],
      on: {
        CREATE_GROUP: { target: 'creatingGroup', actions: 'clearFailure' },
        JOIN_GROUP: { target: 'resolving', actions: ['clearFailure', 'joinGroup', { type: 'changeTimers', params: ({ event }) => event }, { type: 'explain', params: { reason: 'joined the group' } }] },
      },
    },

    /** Writes the group's records with this node as holder of epoch 1 (or one past any epoch it knew). */
    creatingGroup: {
      invoke: {
        src: 'createGroupRecords',
        input: ({ context }) => ({ heartbeat: { holder: context.nodeId, epoch: nextEpoch(context), seq: 0 } }),
        onDone: {
          target: 'primary',
          actions: [
            'joinGroup',
            { type: 'holdEpoch', params: ({ event }) => event.output },
            { type: 'explain', params: { reason: 'created the group' } },
            { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.Connected, reason: 'group records written' } },
          ],
        },
        onError: { target: 'notInGroup', actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) } },
      },
    },

    /** Rule 5: read A and TXT; Primary only if both still name this node at the newest epoch. */
    resolving: {
      entry: { type: 'assumeRole', params: { role: NodeRole.Secondary } },
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
              { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.Connected, reason: 'group records read' } },
            ],
          },
          {
            target: 'secondary',
            actions: [
              { type: 'recordRecordsRead', params: ({ event }) => event.output },
              { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.Connected, reason: 'group records read' } },
            ],
          },
        ],
        onError: { target: 'disconnected', actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) } },
      },
      on: {
        HEARTBEAT_RECEIVED: {
          guard: { type: 'heartbeatIsNewer', params: ({ event }) => event.heartbeat },
          actions: { type: 'recordDirectHeartbeat', params: ({ event }) => event },
        },
      },
    },

    /** Rule 5: the records still name this node; it re-asserts itself with a compare-and-swap before acting. */
    reclaiming: {
      invoke: {
        src: 'writeHeartbeatRecord',
        input: ({ context }) => reclaimInput(context),
        onDone: {
          target: 'primary',
          actions: [
            { type: 'holdEpoch', params: ({ event }) => event.output },
            { type: 'explain', params: { reason: 'records still name this node' } },
          ],
        },
        onError: [
          {
            guard: { type: 'lostTheRace', params: ({ event }) => ({ error: event.error }) },
            target: 'resolving',
            actions: { type: 'explain', params: { reason: 'records changed while reclaiming' } },
          },
          { target: 'disconnected', actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) } },
        ],
      },
    },

    /** Watches the Primary: any rise of `(epoch, seq)`, by either path, is progress (rule 1). */
    secondary: {
      entry: { type: 'assumeRole', params: { role: NodeRole.Secondary } },
      initial: 'watching',
      states: {
        /** A heartbeat that is progress restarts the standby check: the product checks DNS only when direct heartbeats stop. */
        watching: {
          after: { standbyCheckInterval: 'checking' },
          on: {
            HEARTBEAT_RECEIVED: {
              guard: { type: 'heartbeatIsNewer', params: ({ event }) => event.heartbeat },
              target: 'watching',
              reenter: true,
              actions: { type: 'recordDirectHeartbeat', params: ({ event }) => event },
            },
          },
        },
        /** The standby check: read the TXT record once more before declaring absence (rule 1). */
        checking: {
          invoke: {
            src: 'readGroupRecords',
            onDone: [
              {
                guard: { type: 'recordsAreMissing', params: ({ event }) => event.output },
                target: '#agNode.orphaned',
                actions: { type: 'recordRecordsRead', params: ({ event }) => event.output },
              },
              {
                guard: { type: 'dnsShowsNewerHeartbeat', params: ({ event }) => event.output },
                target: 'watching',
                actions: [
                  { type: 'recordRecordsRead', params: ({ event }) => event.output },
                  { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.Connected, reason: 'standby check read DNS' } },
                ],
              },
              {
                guard: { type: 'primaryIsAbsent', params: ({ event }) => event.output },
                target: '#agNode.takingOver',
                actions: [
                  { type: 'recordRecordsRead', params: ({ event }) => event.output },
                  { type: 'beginTakeover', params: { mode: 'absence' } },
                  { type: 'explain', params: { reason: 'primary absent' } },
                ],
              },
              {
                target: 'watching',
                actions: [
                  { type: 'warnPrimarySuspected', params: ({ event }) => event.output },
                  { type: 'recordRecordsRead', params: ({ event }) => event.output },
                  { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.Connected, reason: 'standby check read DNS' } },
                ],
              },
            ],
            onError: {
              target: '#agNode.disconnected',
              actions: [
                { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
                { type: 'explain', params: { reason: 'DNS unreachable' } },
              ],
            },
          },
          on: {
            HEARTBEAT_RECEIVED: {
              guard: { type: 'heartbeatIsNewer', params: ({ event }) => event.heartbeat },
              actions: { type: 'recordDirectHeartbeat', params: ({ event }) => event },
            },
          },
        },
      },
      on: {
        FAILOVER_REQUESTED: 'requestingStepDown',
        HANDOVER_OFFERED: {
          guard: { type: 'offerIsCurrent', params: ({ event }) => event },
          target: 'takingOver',
          actions: [
            { type: 'learnOfferedEpoch', params: ({ event }) => event },
            { type: 'beginTakeover', params: { mode: 'handover' } },
            { type: 'explain', params: { reason: 'primary handed over' } },
          ],
        },
      },
    },

    /** Rule 6, from the Secondary: ask the Primary to step down; if it cannot be asked, force the takeover. */
    requestingStepDown: {
      invoke: {
        src: 'requestStepDown',
        input: ({ context }) => ({ epoch: context.epoch }),
        onDone: [
          {
            guard: { type: 'primarySteppedDown', params: ({ event }) => event.output },
            target: 'takingOver',
            actions: [
              { type: 'learnOfferedEpoch', params: ({ event }) => event.output },
              { type: 'beginTakeover', params: { mode: 'handover' } },
              { type: 'explain', params: { reason: 'manual failover' } },
            ],
          },
          {
            target: 'takingOver',
            actions: [{ type: 'beginTakeover', params: { mode: 'forced' } }, { type: 'explain', params: { reason: 'manual failover (forced)' } }],
          },
        ],
        onError: {
          target: 'takingOver',
          actions: [{ type: 'beginTakeover', params: { mode: 'forced' } }, { type: 'explain', params: { reason: 'manual failover (forced)' } }],
        },
      },
    },

    /** Rule 2: replace A and TXT in one compare-and-swap; on a failed prerequisite, stay Secondary. */
    takingOver: {
      entry: 'announceTakeover',
      initial: 'deciding',
      states: {
        deciding: {
          always: [{ guard: 'takeoverNeedsFreshRecords', target: 'confirmingRecords' }, { target: 'updating' }],
        },
        /** A handover or forced takeover has no recent read to build on: read first. */
        confirmingRecords: {
          invoke: {
            src: 'readGroupRecords',
            onDone: [
              {
                guard: { type: 'recordsAreMissing', params: ({ event }) => event.output },
                target: '#agNode.orphaned',
                actions: [
                  { type: 'recordRecordsRead', params: ({ event }) => event.output },
                  { type: 'abandonTakeover', params: { reason: 'group records missing' } },
                ],
              },
              {
                // Rule 6: the offerer re-asserted itself (its offer went unanswered), so the offer no longer stands.
                guard: { type: 'recordsChangedSinceHandover', params: ({ event }) => event.output },
                target: '#agNode.resolving',
                actions: [
                  { type: 'recordRecordsRead', params: ({ event }) => event.output },
                  { type: 'abandonTakeover', params: { reason: 'the primary re-asserted itself after its handover' } },
                ],
              },
              { target: 'updating', actions: { type: 'recordRecordsRead', params: ({ event }) => event.output } },
            ],
            onError: {
              target: '#agNode.disconnected',
              actions: [
                { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
                { type: 'abandonTakeover', params: { reason: 'DNS unreachable' } },
              ],
            },
          },
          on: {
            HEARTBEAT_RECEIVED: {
              guard: { type: 'handoverOutdatedBy', params: ({ event }) => event.heartbeat },
              target: '#agNode.resolving',
              actions: [
                { type: 'recordDirectHeartbeat', params: ({ event }) => event },
                { type: 'abandonTakeover', params: { reason: 'the primary re-asserted itself after its handover' } },
              ],
            },
          },
        },
        updating: {
          invoke: {
            src: 'takeOverRecords',
            input: ({ context }) => takeoverInput(context),
            onDone: {
              target: '#agNode.primary',
              actions: [
                { type: 'holdEpoch', params: ({ event }) => event.output },
                { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.Connected, reason: 'takeover written' } },
              ],
            },
            onError: [
              {
                guard: { type: 'lostTheRace', params: ({ event }) => ({ error: event.error }) },
                target: '#agNode.resolving',
                actions: { type: 'abandonTakeover', params: { reason: 'lost the race' } },
              },
              {
                target: '#agNode.disconnected',
                actions: [
                  { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
                  { type: 'abandonTakeover', params: { reason: 'DNS unreachable' } },
                ],
              },
            ],
          },
        },
      },
      on: {
        HEARTBEAT_RECEIVED: {
          guard: { type: 'heartbeatIsNewer', params: ({ event }) => event.heartbeat },
          actions: { type: 'recordDirectHeartbeat', params: ({ event }) => event },
        },
      },
    },

    /**
     * Holds the epoch: heartbeats on both paths, a lease from the newest confirmed one (rule 3), fencing on any
     * sign of a newer epoch (rule 4). After a forced takeover it first waits out the old Primary's lease.
     */
    primary: {
      type: 'parallel',
      states: {
        authority: {
          initial: 'deciding',
          states: {
            deciding: {
              always: [{ guard: 'takeoverWasForced', target: 'awaitingOldLeaseExpiry' }, { target: 'acting' }],
            },
            /** A forced takeover cannot know the old Primary stopped: wait one failover period, as absence would. */
            awaitingOldLeaseExpiry: {
              after: { failoverPeriod: 'acting' },
            },
            acting: {
              entry: { type: 'assumeRole', params: { role: NodeRole.Primary } },
            },
          },
        },
        lease: {
          initial: 'valid',
          states: {
            valid: {
              after: {
                leaseRemaining: {
                  target: '#agNode.disconnected',
                  actions: [
                    { type: 'loseLease', params: { reason: 'lease expired' } },
                    { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.Disconnected, reason: 'lease expired' } },
                  ],
                },
              },
              on: {
                HEARTBEAT_CONFIRMED: {
                  guard: { type: 'confirmsNewerSend', params: ({ event }) => event },
                  target: 'valid',
                  reenter: true,
                  actions: { type: 'extendLease', params: ({ event }) => event },
                },
              },
            },
          },
        },
        pacing: {
          initial: 'waiting',
          states: {
            waiting: {
              after: { heartbeatInterval: { target: 'waiting', reenter: true, actions: ['advanceHeartbeat', 'heartbeatDue'] } },
            },
          },
        },
        directPath: {
          initial: 'idle',
          states: {
            idle: { on: { HEARTBEAT_DUE: 'sending' } },
            sending: {
              invoke: {
                src: 'sendDirectHeartbeat',
                input: ({ context }) => ({ heartbeat: nextHeartbeat(context) }),
                onDone: [
                  {
                    guard: { type: 'peerHoldsNewerEpoch', params: ({ event }) => event.output.ack },
                    target: '#agNode.resolving',
                    actions: { type: 'loseLease', params: { reason: 'fenced by a newer epoch' } },
                  },
                  {
                    guard: { type: 'peerAcceptedHeartbeat', params: ({ event }) => event.output.ack },
                    target: 'idle',
                    actions: [
                      { type: 'notePeerAccepted', params: ({ event }) => event.output },
                      { type: 'confirmHeartbeat', params: ({ event }) => ({ ...event.output, method: HeartbeatMethod.Direct }) },
                    ],
                  },
                  { target: 'idle' },
                ],
                onError: 'idle',
              },
            },
          },
        },
        dnsPath: {
          initial: 'idle',
          states: {
            idle: { on: { HEARTBEAT_DUE: 'writing' } },
            writing: {
              invoke: {
                src: 'writeHeartbeatRecord',
                input: ({ context }) => heartbeatWriteInput(context),
                onDone: {
                  target: 'idle',
                  actions: [
                    { type: 'recordOwnWrite', params: ({ event }) => event.output },
                    { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.Connected, reason: 'heartbeat written' } },
                    { type: 'confirmHeartbeat', params: ({ event }) => ({ ...event.output, method: HeartbeatMethod.Dns }) },
                  ],
                },
                onError: [
                  {
                    guard: { type: 'lostTheRace', params: ({ event }) => ({ error: event.error }) },
                    target: '#agNode.resolving',
                    actions: { type: 'loseLease', params: { reason: 'own heartbeat write lost the race' } },
                  },
                  {
                    guard: { type: 'leaseHadExpired', params: ({ event }) => ({ error: event.error }) },
                    target: '#agNode.disconnected',
                    actions: { type: 'loseLease', params: { reason: 'lease expired' } },
                  },
                  {
                    target: 'idle',
                    actions: [
                      { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
                      { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.Disconnected, reason: 'heartbeat write failed' } },
                    ],
                  },
                ],
              },
            },
          },
        },
      },
      on: {
        HEARTBEAT_RECEIVED: {
          guard: { type: 'heartbeatFromNewerEpoch', params: ({ event }) => event.heartbeat },
          target: 'secondary',
          actions: [
            { type: 'loseLease', params: { reason: 'fenced by a newer epoch' } },
            { type: 'recordDirectHeartbeat', params: ({ event }) => event },
          ],
        },
        FAILOVER_REQUESTED: { target: 'handingOver', actions: { type: 'loseLease', params: { reason: 'manual failover' } } },
        STEP_DOWN_REQUESTED: {
          target: 'secondary',
          actions: { type: 'loseLease', params: { reason: 'manual failover requested by the secondary' } },
        },
        LEAVE_GROUP: 'dissolvingGroup',
      },
    },

    /**
     * Rule 6, from the Primary: it no longer acts (its lease is dropped) and tells the Secondary to take over at
     * once. If the Secondary cannot take over, it re-asserts itself with a compare-and-swap, as a restart would.
     */
    handingOver: {
      invoke: {
        src: 'offerHandover',
        input: ({ context }) => ({ epoch: context.epoch }),
        onDone: [
          { guard: { type: 'peerAcceptedHandover', params: ({ event }) => event.output }, target: 'secondary' },
          { target: 'reclaiming', actions: { type: 'explain', params: { reason: 'handover refused by the secondary' } } },
        ],
        onError: { target: 'reclaiming', actions: { type: 'explain', params: { reason: 'secondary unreachable for handover' } } },
      },
    },

    /** In a group but without a usable view of DNS: no role can be asserted or taken. Retries every check. */
    disconnected: {
      entry: [
        { type: 'assumeRole', params: { role: NodeRole.Secondary } },
        { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.Disconnected, reason: 'DNS unreachable' } },
      ],
      after: { standbyCheckInterval: 'resolving' },
      on: {
        HEARTBEAT_RECEIVED: {
          guard: { type: 'heartbeatIsNewer', params: ({ event }) => event.heartbeat },
          actions: { type: 'recordDirectHeartbeat', params: ({ event }) => event },
        },
      },
    },

    /** In a group whose records are gone from DNS: nothing to take over. Re-reads every check. */
    orphaned: {
      entry: [
        { type: 'assumeRole', params: { role: NodeRole.Secondary } },
        { type: 'noteDnsConnection', params: { state: NodeDnsConnectionState.NotApplicable, reason: 'group records missing' } },
      ],
      after: { standbyCheckInterval: 'resolving' },
    },

    /** The Primary leaves: its records go, only if they still name it. */
    dissolvingGroup: {
      entry: { type: 'loseLease', params: { reason: 'left the group' } },
      invoke: {
        src: 'removeGroupRecords',
        input: ({ context }) => ({ expected: { address: context.address, txt: context.ownRecord } }),
        onDone: { target: 'notInGroup', actions: ['forgetGroup', { type: 'explain', params: { reason: 'left the group' } }] },
        onError: { target: 'notInGroup', actions: ['forgetGroup', { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) }, { type: 'explain', params: { reason: 'left the group' } }] },
      },
    },
  },
  on: {
    SETTINGS_CHANGED: { actions: { type: 'changeTimers', params: ({ event }) => event } },
    LEAVE_GROUP: { target: '.notInGroup', actions: ['forgetGroup', { type: 'explain', params: { reason: 'left the group' } }] },
  },
});

/** The node machine's type. */
export type NodeMachine = typeof nodeMachine;
