/**
 * Rule 3 generalised to a group of more than two members: the Primary's direct heartbeat goes to every other member,
 * and their acknowledgements count as one.
 */
import { isNewerMaintenance } from '../../machines/maintenance.js';
import type { HeartbeatAck } from '../../machines/nodeMachine.types.js';

/**
 * The acknowledgements of one direct heartbeat by several members, as one: accepted only when every member answered
 * (`everyoneAnswered`) and accepted it (each promised not to take over for a failover period); the highest epoch
 * any of them knows (fencing, rule 4); the newest maintenance flag (rule 9). Node id, role and application health are
 * those of `first` (the member a handover goes to, rule 10) when it answered, else of the first answer.
 *
 * @example
 * combinedAcknowledgement([ackOfB, ackOfC], true, 'b').accepted // ackOfB.accepted && ackOfC.accepted
 */
export function combinedAcknowledgement(acks: readonly HeartbeatAck[], everyoneAnswered: boolean, first: string | undefined): HeartbeatAck {
  const main = acks.find((ack) => ack.nodeId === first) ?? acks[0]!;
  let epoch = main.epoch;
  let maintenance = main.maintenance;
  for (const ack of acks) {
    if (ack.epoch > epoch) epoch = ack.epoch;
    if (ack.maintenance !== undefined && (maintenance === undefined || isNewerMaintenance(ack.maintenance, maintenance))) maintenance = ack.maintenance;
  }
  return {
    ...main,
    epoch,
    accepted: everyoneAnswered && acks.every((ack) => ack.accepted),
    ...(maintenance === undefined ? {} : { maintenance }),
  };
}
