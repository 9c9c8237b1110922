import { PeerUnreachableError } from '../api/errors.js';
import { peerMessageSender, type MemberAddress, type PeerMessage, type PeerReceiver, type PeerReplyTo } from './peerMessages.js';
import type { PeerTransport } from './peerTransport.js';

/**
 * A network of nodes in one process: each node's transport delivers to the receiver listening at the peer's
 * `address:port`. `cut(a, b)` cuts one direction, a to b: `a`'s messages to `b` are dropped, and `a`'s answers to
 * messages from `b` are lost after `a` acted on them; to test partitions and lost answers.
 *
 * @example
 * const network = new InMemoryPeerNetwork();
 * const a = createNode(settingsA, { peer: network.transport(), dns }); // or inMemoryPorts({ network, dns })
 */
export class InMemoryPeerNetwork {
  readonly #receivers = new Map<string, PeerReceiver>();
  readonly #cut = new Set<string>();
  /**
   * Sees every message before it is delivered (tests): it may delay delivery (return a promise) or drop the message
   * (throw, and the sender gets the error).
   */
  intercept: (<M extends PeerMessage>(message: M, to: MemberAddress) => void | Promise<void>) | null = null;

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

  /** Drops every message from the node at `from` to the node at `to`, and every answer `from` gives `to`, until `heal`. */
  cut(from: string, to: string): void {
    this.#cut.add(`${from}>${to}`);
  }

  /** Delivers messages from `from` to `to` again. */
  heal(from: string, to: string): void {
    this.#cut.delete(`${from}>${to}`);
  }

  async #deliver<M extends PeerMessage>(to: MemberAddress, message: M): Promise<PeerReplyTo<M>> {
    const from = peerMessageSender(message);
    const receiver = this.#receivers.get(endpointKey(to));
    if (receiver === undefined || (from !== null && this.#cut.has(`${from}>${to.nodeId}`)) || this.#cut.has(`*>${to.nodeId}`)) {
      throw new PeerUnreachableError(`No route to ${to.nodeId} at ${to.address}:${to.port}.`);
    }
    await this.intercept?.(message, to);
    const reply = await receiver(message);
    // The answer travels the other way: a cut from `to` back to the sender loses it after the receiver acted.
    if (from !== null && this.#cut.has(`${to.nodeId}>${from}`)) throw new PeerUnreachableError(`The answer from ${to.nodeId} was lost.`);
    return reply;
  }
}

function endpointKey(member: MemberAddress): string {
  return `${member.address}:${member.port}`;
}

