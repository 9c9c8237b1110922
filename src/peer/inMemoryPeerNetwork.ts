import { PeerUnreachableError } from '../api/errors.js';
import type { MemberAddress, PeerMessage, PeerReceiver, PeerReplyTo } from './peerMessages.js';
import type { PeerTransport } from './peerTransport.js';

/**
 * A network of nodes in one process: each node's transport delivers to the receiver listening at the peer's
 * `address:port`. `cut(a, b)` drops messages from `a` to `b` (one way), to test partitions.
 *
 * @example
 * const network = new InMemoryPeerNetwork();
 * const a = createNode(settingsA, { peer: network.transport(), dns });
 */
export class InMemoryPeerNetwork {
  readonly #receivers = new Map<string, PeerReceiver>();
  readonly #cut = new Set<string>();

  /** A transport on this network. */
  transport(): PeerTransport {
    return {
      send: (to, message) => this.#deliver(to, message),
      listen: async (self, receiver) => {
        const key = endpointKey(self);
        this.#receivers.set(key, receiver);
        return async () => {
          if (this.#receivers.get(key) === receiver) this.#receivers.delete(key);
        };
      },
    };
  }

  /** Drops every message from the node at `from` to the node at `to` until `heal`. */
  cut(from: string, to: string): void {
    this.#cut.add(`${from}>${to}`);
  }

  /** Delivers messages from `from` to `to` again. */
  heal(from: string, to: string): void {
    this.#cut.delete(`${from}>${to}`);
  }

  async #deliver<M extends PeerMessage>(to: MemberAddress, message: M): Promise<PeerReplyTo<M>> {
    const from = senderOf(message);
    const receiver = this.#receivers.get(endpointKey(to));
    if (receiver === undefined || (from !== null && this.#cut.has(`${from}>${to.nodeId}`)) || this.#cut.has(`*>${to.nodeId}`)) {
      throw new PeerUnreachableError(`No route to ${to.nodeId} at ${to.address}:${to.port}.`);
    }
    return receiver(message);
  }
}

function endpointKey(member: MemberAddress): string {
  return `${member.address}:${member.port}`;
}

function senderOf(message: PeerMessage): string | null {
  switch (message.type) {
    case 'heartbeat':
      return message.heartbeat.holder;
    case 'handover':
    case 'step-down':
    case 'group-settings':
      return message.from;
    case 'join':
      return message.member.nodeId;
  }
}
