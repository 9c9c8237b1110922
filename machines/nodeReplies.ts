/**
 * What a node answers its peer, read off its machine snapshots around the peer's message. Pure: the node calls
 * these; the machine decides, these only report the decision.
 */
import type { SnapshotFrom } from 'xstate';
import { NodeRole } from '../src/api/constants.js';
import { isNewerHeartbeat, isSameHeartbeat, type Heartbeat } from './heartbeat.js';
import { maintenanceOnWire } from './maintenance.js';
import type { NodeMachine } from './nodeMachine.js';
import { NodeTag } from './nodeTags.js';
import type { HandoverAnswerBody, HandoverProbeAnswer, HeartbeatAck, StepDownAnswerBody } from './nodeMachine.types.js';

/** A snapshot of the node machine. */
export type NodeSnapshot = SnapshotFrom<NodeMachine>;

/**
 * States in which a node only watches: it may take over later, but only after a whole failover period of silence
 * measured from the newest heartbeat it recorded, so acknowledging that heartbeat is a promise it can keep.
 */
function onlyWatches(snapshot: NodeSnapshot): boolean {
  return snapshot.hasTag(NodeTag.watching) || snapshot.hasTag(NodeTag.disconnected) || snapshot.hasTag(NodeTag.orphaned);
}

/**
 * The acknowledgement of a direct heartbeat (rules 3 and 4). `accepted` is true only when this node only watches
 * and recorded exactly this heartbeat as the newest: only then does it confirm the sender's lease. The epoch lets a
 * stale Primary learn that it was replaced.
 *
 * @example
 * actor.send({ type: 'HEARTBEAT_RECEIVED', heartbeat, at });
 * const ack = heartbeatAckFor(actor.getSnapshot(), heartbeat);
 */
export function heartbeatAckFor(snapshot: NodeSnapshot, heartbeat: Heartbeat): HeartbeatAck {
  const { context } = snapshot;
  return {
    nodeId: context.nodeId,
    role: context.role ?? NodeRole.SECONDARY,
    epoch: context.epoch,
    accepted: onlyWatches(snapshot) && heartbeat.epoch >= context.epoch && isSameHeartbeat(heartbeat, context.progress.seen),
    // Rule 10: the Primary hands over for its application's health only to a Secondary that reports a healthy one.
    applicationHealth: context.health.applicationHealth,
    // Rule 9: the acknowledgement carries the maintenance flag back, so a change asked on the Secondary reaches the Primary.
    ...maintenanceOnWire(context.maintenance),
  };
}

/**
 * Why a direct heartbeat the machine did not record is refused, or null when it is answered with an
 * acknowledgement: recorded, or from an epoch older than this node knows (its sender must learn of the newer
 * epoch from the answer, rule 4), or received by a node that answers every heartbeat (a Primary, a taker).
 *
 * @example
 * actor.send({ type: 'HEARTBEAT_RECEIVED', heartbeat, at });
 * heartbeatRefusalFor(actor.getSnapshot(), heartbeat); // 'its epoch is more than one past epoch 3, the newest known'
 */
export function heartbeatRefusalFor(snapshot: NodeSnapshot, heartbeat: Heartbeat): string | null {
  const { context } = snapshot;
  if (isSameHeartbeat(heartbeat, context.progress.seen) || heartbeat.epoch < context.epoch) return null;
  if (snapshot.hasTag(NodeTag.resolving)) return 'this node has not yet resolved its role from DNS, so it cannot judge a heartbeat';
  if (heartbeat.epoch > context.epoch + 1) return `its epoch is more than one past epoch ${context.epoch}, the newest known`;
  if (context.progress.seen !== null && !isNewerHeartbeat(heartbeat, context.progress.seen)) return `it is not newer than (epoch ${context.progress.seen.epoch}, seq ${context.progress.seen.seq}), already seen`;
  if (onlyWatches(snapshot)) return 'its seq is further ahead than the time since the last progress allows';
  return null;
}

/** Whether the node stepped down and offers the handover (it no longer acts). */
function steppedDown(snapshot: NodeSnapshot): boolean {
  return snapshot.hasTag(NodeTag.handingOver) && !snapshot.hasTag(NodeTag.acting);
}

/**
 * The answer to a step-down request, from the snapshots before and after the request was processed: `handingOver`
 * when this request made the Primary step down; `busy` when a handover was already under way (a failover asked on
 * the Primary wins over one asked on the Secondary at the same time); `stale` when the requester knows an older
 * epoch; `notPrimary` otherwise.
 *
 * @example
 * const before = actor.getSnapshot();
 * actor.send({ type: 'STEP_DOWN_REQUESTED', from: 'b', epoch: 3, at });
 * stepDownReplyFor(before, actor.getSnapshot(), 3, 'b');
 */
export function stepDownReplyFor(before: NodeSnapshot, after: NodeSnapshot, requesterEpoch: number, requester: string): StepDownAnswerBody {
  const epoch = after.context.epoch;
  if (!steppedDown(before) && steppedDown(after)) return { outcome: 'handingOver', epoch, reason: 'the Primary stepped down; its handover offer follows' };
  // Busy with a handover of its own: probing its peer, or stepped down and offering.
  if (before.hasTag(NodeTag.handingOver)) return { outcome: 'busy', epoch, reason: `a failover asked on ${after.context.nodeId} is already under way; ${requester} becomes Primary` };
  if (before.hasTag(NodeTag.holdsLease) && requesterEpoch < epoch) return { outcome: 'stale', epoch, reason: `the request knows epoch ${requesterEpoch}, older than epoch ${epoch}` };
  if (before.hasTag(NodeTag.holdsLease)) return { outcome: 'busy', epoch, reason: `${after.context.nodeId} cannot hand over now (it is still taking over)` };
  return { outcome: 'notPrimary', epoch, reason: `${after.context.nodeId} does not act as Primary` };
}

/** The answer to a handover offer, once the takeover it started is decided (or the offer was refused at once). */
export function handoverReplyFor(snapshot: NodeSnapshot): HandoverAnswerBody {
  return snapshot.context.failover.offerAnswer ?? { accepted: false, reason: 'the offer was not taken' };
}

/** The answer to a handover probe, once the probe's DNS read is done (or the probe was refused at once). */
export function handoverProbeReplyFor(snapshot: NodeSnapshot): HandoverProbeAnswer {
  return snapshot.context.failover.handoverReady ?? { ready: false, reason: 'the probe was not answered' };
}
