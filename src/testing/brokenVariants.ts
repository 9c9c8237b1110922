/**
 * Deliberately broken variants of the node, each breaking one rule of docs/design.md section 2, built from the real
 * machine with `nodeMachine.provide()` or by changing what one node's DNS port does. The test suite runs the
 * properties against each and expects fast-check to find a counterexample to the property named in `expected`:
 * that shows the properties can fail, and fail for the right reason.
 */
import { assign, enqueueActions } from 'xstate';
import { nodeMachine, type NodeMachine, type NodeEmitted } from '../../machines/nodeMachine.js';
import type { HeartbeatConfirmation, HeartbeatWritten, NodeContext, RecordsRead } from '../../machines/nodeMachine.types.js';
import { absenceDeadlineRemainingMs, holdEpoch, leaseFrom, primaryIsAbsent } from '../../machines/nodeRules.js';
import { mergePatches, patchContext } from '../../machines/contextPatch.js';
import { EventId, NodeRole } from '../api/constants.js';
import type { PeerMessage, PeerReplyTo, HeartbeatReply } from '../peer/peerMessages.js';
import type { PeerTransport } from '../peer/peerTransport.js';
import type { DnsVariantHook } from './internal/simDns.js';
import type { PeerVariantHook } from './internal/simPeerNetwork.js';
import type { PropertyName } from './properties.js';

/**
 * A broken variant: a machine factory (called once per node start) and/or a change to the node's DNS port or peer
 * transport. QA may build their own (any name); `npm run sim -- --variant` knows the built-in ones, BROKEN_VARIANTS.
 */
export interface BrokenVariant {
  /** The key in BROKEN_VARIANTS for a built-in variant; any name for one of your own. */
  readonly name: string;
  /** What is broken, in words. */
  readonly breaks: string;
  /** The property a counterexample must violate. */
  readonly expected: PropertyName;
  readonly machine?: () => NodeMachine;
  readonly dns?: DnsVariantHook;
  readonly peer?: PeerVariantHook;
  /** The fewest members a group needs for the broken rule to show (default 2); its search runs with that many. */
  readonly members?: number;
}

export type BrokenVariantName =
  | 'takeoverWithoutPrerequisites'
  | 'noLeaseCheck'
  | 'failbackOnRestart'
  | 'wallClockFreshness'
  | 'eventsAfterTheFact'
  | 'lateRoleAnnouncement'
  | 'takeoverWhileUnhealthy'
  | 'ignoresMaintenance'
  | 'takeoverBeforeDeadline'
  | 'oneAcknowledgementConfirms'
  | 'ignoresTakeoverOrder';

/** Never: a lease that does not run out. */
const NEVER = Number.POSITIVE_INFINITY;

/** Rule 3 without its deadline: the lease never runs out, so a Primary cut off from everyone keeps acting. */
function leaseWithoutDeadline(context: NodeContext, written: HeartbeatWritten): Partial<NodeContext> {
  return patchContext(context, mergePatches(holdEpoch(context, written), { lease: { leaseExpiresAt: NEVER } }));
}

function leaseExtendedForever(context: NodeContext, confirmed: HeartbeatConfirmation): Partial<NodeContext> {
  const forever = { lease: { leaseExpiresAt: NEVER }, progress: { lastHeartbeat: { method: confirmed.method, sentAtWall: confirmed.sentAtWall } } };
  return patchContext(context, mergePatches(leaseFrom(context, confirmed.sentAt, confirmed.at), forever));
}

/** Rule 1 broken: silence measured as own wall clock minus the Primary's wall-clock send time (needs NTP). */
function absentByWallClock(context: NodeContext, read: RecordsRead): boolean {
  if (context.progress.lastHeartbeat === null) return primaryIsAbsent(context, read.sentAt);
  return read.at.wall - context.progress.lastHeartbeat.sentAtWall >= context.timers.absenceMs;
}

/** How early the `takeoverBeforeDeadline` variant decides: at this share of the failover period. */
const EARLY_SHARE = 0.8;

/** The context as a node that counts EARLY_SHARE of the failover period as the whole period sees it. */
function withEarlyAbsence(context: NodeContext): NodeContext {
  return { ...context, timers: { ...context.timers, absenceMs: EARLY_SHARE * context.timers.absenceMs } };
}

/**
 * Rule 1 broken: the absence deadline is armed, and the standby read judges absence, at 0.8 of the failover period
 * after the last progress, so a Secondary takes over a fifth of a period early.
 */
function takeoverBeforeDeadline(): NodeMachine {
  return nodeMachine.provide({
    delays: { absenceDeadline: ({ context }) => absenceDeadlineRemainingMs(withEarlyAbsence(context)) },
    guards: { primaryIsAbsent: ({ context }, read: RecordsRead) => primaryIsAbsent(withEarlyAbsence(context), read.sentAt) },
  }) as NodeMachine;
}

/**
 * A role announcement held back and sent with the next one: what a node does that derives events from state it
 * looks at later, instead of emitting them from the transition. Each machine instance has its own backlog. Both
 * actions that announce a role are replaced: `assumeRole` (the role of the state entered) and
 * `announceSteppingDown` (a Primary handing over).
 */
function deferredRoleAnnouncements(): NodeMachine {
  let pending: NodeEmitted | null = null;
  const announceLate = (context: NodeContext, enqueue: { assign(values: { role: NodeRole }): void; emit(event: NodeEmitted): void }, role: NodeRole) => {
    if (context.role === role) return;
    enqueue.assign({ role });
    if (pending !== null) enqueue.emit(pending);
    pending = { type: EventId.NODE_ROLE_CHANGED, previous: context.role, new: role, epoch: context.epoch, reason: context.reason };
  };
  return nodeMachine.provide({
    actions: {
      assumeRole: enqueueActions(({ context, enqueue }, params: { role: NodeRole }) => announceLate(context, enqueue, params.role)),
      announceSteppingDown: enqueueActions(({ context, enqueue }) => announceLate(context, enqueue, NodeRole.SECONDARY)),
    },
  }) as NodeMachine;
}

/**
 * A Primary that hands over says nothing when it gives up its lease: its `handingOver` state's entry action
 * `announceSteppingDown` (role secondary and NODE_ROLE_CHANGED, before the offer leaves) does nothing, so the node
 * goes on announcing primary until it later enters `secondary`, after its offer was answered, while the peer that
 * accepted the offer may already announce primary. What the machine did before rule 8 named that action.
 */
function lateStepDownAnnouncement(): NodeMachine {
  return nodeMachine.provide({ actions: { announceSteppingDown: () => {} } }) as NodeMachine;
}

/** How many heartbeats' accepted acknowledgements `oneAcknowledgementConfirms` remembers. */
const REMEMBERED_HEARTBEATS = 8;

/**
 * Rule 3 generalised, broken: a Primary of more than two members counts its direct heartbeat confirmed when one
 * member accepted it. Its transport answers a heartbeat that got no answer from a member (lost, timed out) with
 * another member's accepted acknowledgement of the same heartbeat, so every member seems to have accepted it.
 */
function oneAcknowledgementConfirms(_host: unknown, transport: PeerTransport): PeerTransport {
  const accepted = new Map<string, HeartbeatReply>();
  const send = async <M extends PeerMessage>(to: Parameters<PeerTransport['send']>[0], message: M): Promise<PeerReplyTo<M>> => {
    if (message.type !== 'heartbeat') return transport.send(to, message);
    const { heartbeat } = message as Extract<PeerMessage, { type: 'heartbeat' }>;
    const key = `${heartbeat.epoch}:${heartbeat.seq}`;
    try {
      const reply = (await transport.send(to, message)) as HeartbeatReply;
      if (reply.accepted && !accepted.has(key)) {
        accepted.set(key, reply);
        if (accepted.size > REMEMBERED_HEARTBEATS) accepted.delete(accepted.keys().next().value!);
      }
      return reply as PeerReplyTo<M>;
    } catch (error) {
      const other = accepted.get(key);
      if (other === undefined) throw error;
      return { ...other, nodeId: to.nodeId } as PeerReplyTo<M>;
    }
  };
  return { send, listen: (self, receiver) => transport.listen(self, receiver) };
}

/**
 * The broken variants, by name.
 *
 * @example
 * const result = await runSimulation(scenario, { variant: BROKEN_VARIANTS.noLeaseCheck });
 * result.violations[0]?.property; // 'oneActingPrimary', for a scenario that pauses the Primary
 */
export const BROKEN_VARIANTS: Readonly<Record<BrokenVariantName, BrokenVariant>> = {
  takeoverWithoutPrerequisites: {
    name: 'takeoverWithoutPrerequisites',
    breaks: 'rule 2 and 4: DNS updates are sent without RFC 2136 prerequisites (plain overwrites, no compare-and-swap)',
    expected: 'dnsNamesNewestEpoch',
    dns: {
      update: (_host, _expectation, replacement) => ({ expectation: {}, replacement }),
    },
  },
  noLeaseCheck: {
    name: 'noLeaseCheck',
    breaks: 'rule 3 and 7: the Primary never loses its lease, so it acts on a stale belief after a pause or partition',
    expected: 'oneActingPrimary',
    machine: () =>
      nodeMachine.provide({
        delays: { leaseRemaining: () => NEVER },
        actions: {
          holdEpoch: assign(({ context }, written: HeartbeatWritten) => leaseWithoutDeadline(context, written)),
          extendLease: assign(({ context }, confirmed: HeartbeatConfirmation) => leaseExtendedForever(context, confirmed)),
        },
      }) as NodeMachine,
  },
  failbackOnRestart: {
    name: 'failbackOnRestart',
    breaks: 'rule 5: a restarted node trusts the records it knew before the crash and writes itself back unconditionally',
    expected: 'restartSafety',
    dns: {
      read: (host, answer, memory) => (memory.lastKnown !== null && memory.lastKnown.incarnation < host.incarnation ? memory.lastKnown.records : answer),
      update: (host, expectation, replacement) =>
        host.incarnation > 1 ? { expectation: {}, replacement: { ...replacement, address: host.address } } : { expectation, replacement },
    },
  },
  wallClockFreshness: {
    name: 'wallClockFreshness',
    breaks: "rule 1: freshness is the Secondary's wall clock minus the Primary's wall-clock send time, so clock skew decides",
    expected: 'noFalseFailover',
    machine: () => nodeMachine.provide({ guards: { primaryIsAbsent: ({ context }, read: RecordsRead) => absentByWallClock(context, read) } }) as NodeMachine,
  },
  eventsAfterTheFact: {
    name: 'eventsAfterTheFact',
    breaks: 'events come from a later look at the state, not from the transition: each role change is told one change late',
    expected: 'eventsTellTruth',
    machine: deferredRoleAnnouncements,
  },
  ignoresMaintenance: {
    name: 'ignoresMaintenance',
    breaks: "rule 9: the standby check ignores the group's maintenance flag, so a paused Secondary takes over for absence",
    expected: 'noTakeoverWhilePaused',
    machine: () => nodeMachine.provide({ guards: { primaryIsAbsentWhileGroupIsPaused: () => false } }) as NodeMachine,
  },
  takeoverWhileUnhealthy: {
    name: 'takeoverWhileUnhealthy',
    breaks: "rule 10: a Secondary ignores its own application health: it takes over for absence, by an offer or when asked although its application is unhealthy",
    expected: 'unhealthyNeverTakesOver',
    machine: () =>
      nodeMachine.provide({
        guards: { applicationCanServe: () => true, applicationCannotServe: () => false, absentButApplicationCannotServe: () => false },
      }) as NodeMachine,
  },
  takeoverBeforeDeadline: {
    name: 'takeoverBeforeDeadline',
    breaks: 'rule 1: the Secondary arms its absence deadline and judges absence at 0.8 of the failover period, so it takes over before its deadline',
    expected: 'noTakeoverBeforeDeadline',
    machine: takeoverBeforeDeadline,
  },
  oneAcknowledgementConfirms: {
    name: 'oneAcknowledgementConfirms',
    breaks: 'rule 3 with more than two members: one member\'s acknowledgement of a direct heartbeat confirms the lease, so a Primary cut off from the authority and from a Secondary that takes over keeps acting',
    expected: 'oneActingPrimary',
    peer: { transport: oneAcknowledgementConfirms },
    members: 3,
  },
  ignoresTakeoverOrder: {
    name: 'ignoresTakeoverOrder',
    breaks: 'rule 1 with more than two members: a Secondary ignores its rank in the takeover order and takes over a failover period after the last progress, like the first in line',
    expected: 'noTakeoverBeforeDeadline',
    machine: () => nodeMachine.provide({ actions: { takeTakeoverOrder: () => {} } }) as NodeMachine,
    members: 3,
  },
  lateRoleAnnouncement: {
    name: 'lateRoleAnnouncement',
    breaks: 'rule 8: a Primary that hands over keeps announcing primary until its handover offer is answered, while the peer may already announce primary',
    expected: 'oneAnnouncedPrimary',
    machine: lateStepDownAnnouncement,
  },
};
