import type { MemberAddress, PeerMessage, PeerReceiver, PeerReplyTo } from './peerMessages.js';

/**
 * The peer transport port: how one node talks straight to the other. The real one is authenticated HTTP(S); the
 * in-memory one routes within a process. Both keep these promises:
 *
 * - `send` delivers `message` to the node listening at `to` and resolves with that node's answer, or rejects with
 *   `PeerUnreachableError` (nobody listening, timed out, refused). A rejected send may still have been delivered.
 * - `listen` starts handing messages addressed to `self` to `receiver` and resolves with a function that stops it.
 *
 * @example
 * const stop = await transport.listen(self, (message) => node.receivePeerMessage(message));
 */
export interface PeerTransport {
  send<M extends PeerMessage>(to: MemberAddress, message: M): Promise<PeerReplyTo<M>>;
  listen(self: MemberAddress, receiver: PeerReceiver): Promise<() => Promise<void>>;
}
