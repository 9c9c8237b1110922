/**
 * What a node answers its peer, read off its machine snapshot right after the peer's message was processed. Pure:
 * the peer transport calls these; the machine decides, these only report the decision.
 */
import type { SnapshotFrom } from 'xstate';
import { NodeRole } from '../src/api/constants.js';
import { isSameHeartbeat, type Heartbeat } from './heartbeat.js';
import type { NodeMachine } from './nodeMachine.js';
import type { HeartbeatAck } from './nodeMachine.types.js';

/** A snapshot of the node machine. */
export type NodeSnapshot = SnapshotFrom<NodeMachine>;

/**
 * States in which a node only watches: it may take over later, but only after a whole failover period of silence
 * measured from the newest heartbeat it recorded, so acknowledging that heartbeat is a promise it can keep.
 */
function onlyWatches(snapshot: NodeSnapshot): boolean {
  return snapshot.matches('secondary') || snapshot.matches('disconnected') || snapshot.matches('orphaned');
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
    role: context.role ?? NodeRole.Secondary,
    epoch: context.epoch,
    accepted: onlyWatches(snapshot) && heartbeat.epoch >= context.epoch && isSameHeartbeat(heartbeat, context.seen),
  };
}

/** The answer to a step-down request: true when this node no longer acts and will not act as Primary. */
export function stepDownReplyFor(snapshot: NodeSnapshot): { steppedDown: boolean; epoch: number } {
  return { steppedDown: onlyWatches(snapshot) || snapshot.matches('resolving'), epoch: snapshot.context.epoch };
}

/** The answer to a handover offer: true when this node is taking over. */
export function handoverReplyFor(snapshot: NodeSnapshot): { accepted: boolean } {
  return { accepted: snapshot.matches('takingOver') || snapshot.matches('primary') };
}
