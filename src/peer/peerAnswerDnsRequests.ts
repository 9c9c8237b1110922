/**
 * Which peer messages are answered only after the receiver's own DNS requests: a handover probe (answered after the
 * Secondary's DNS read) and a handover offer (answered once the takeover's compare-and-swap is decided, which may
 * re-read and retry against the offerer's leftover write, rule 6). Whoever sends them waits a peer round trip and
 * those DNS requests: the real node's peer timeouts and the simulator's both allow for them.
 */
import { MAX_OFFER_RETRIES } from '../../machines/nodeRules.js';
import type { PeerMessage } from './peerMessages.js';

/**
 * How many DNS requests, one after the other, the receiver of a peer message of `type` may make before it answers
 * (0: it answers at once).
 *
 * @example
 * peerAnswerDnsRequests('handover-probe') // 1: the Secondary's read
 * peerAnswerDnsRequests('handover') // 5: the compare-and-swap, and up to two re-reads and retries
 * peerAnswerDnsRequests('heartbeat') // 0
 */
export function peerAnswerDnsRequests(type: PeerMessage['type']): number {
  if (type === 'handover-probe') return 1;
  if (type === 'handover') return 1 + 2 * MAX_OFFER_RETRIES;
  return 0;
}
