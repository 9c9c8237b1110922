import { lazySchema } from '../api/lazyZod.js';
import type { PeerMessage } from './peerMessages.js';

/** What a peer message must look like on the wire; anything else is refused before the node sees it. Built on first use. */
export const peerMessageSchema = lazySchema((z) => {
  const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
  const nodeId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/);
  const group = z.string().max(254);

  const memberAddress = z
    .object({
      nodeId,
      address: z.ipv4(),
      port: z.number().int().min(1).max(65535),
      scheme: z.enum(['http', 'https']),
      priority: z.number().int().min(0).max(1000).optional(),
    })
    .strict();

  /** The group's records as a handover leaves them: the A record's address and the TXT record's exact value. */
  const groupRecords = z.object({ address: z.ipv4().nullable(), txt: z.string().max(255).nullable() }).strict();

  /** The group's maintenance flag (docs/design.md rule 9): sent only once anyone paused the group, so version ≥ 1. */
  const maintenance = z.object({ enabled: z.boolean(), version: count.min(1), by: nodeId }).strict();

  const heartbeat = z.object({ holder: nodeId, epoch: count.min(1), seq: count, sentAt: count, maintenance: maintenance.optional() }).strict();

  return z.discriminatedUnion('type', [
    z.object({ type: z.literal('heartbeat'), group, heartbeat }).strict(),
    z.object({ type: z.literal('handover'), group, from: nodeId, epoch: count, records: groupRecords, askedBy: nodeId }).strict(),
    z.object({ type: z.literal('handover-probe'), group, from: nodeId, epoch: count }).strict(),
    z.object({ type: z.literal('step-down'), group, from: nodeId, epoch: count }).strict(),
    z.object({ type: z.literal('join'), group, member: memberAddress }).strict(),
    // The settings themselves are validated by the receiving node, which names every bad field in its answer.
    z.object({ type: z.literal('group-settings'), group, from: nodeId, epoch: count, groupSettings: z.record(z.string(), z.unknown()) }).strict(),
    z.object({ type: z.literal('group-settings-change'), group, from: nodeId, epoch: count, groupSettings: z.record(z.string(), z.unknown()) }).strict(),
    z.object({ type: z.literal('leave'), group, from: nodeId, role: z.enum(['primary', 'secondary']) }).strict(),
    z.object({ type: z.literal('members'), group, from: nodeId, epoch: count, members: z.array(memberAddress).min(1).max(7) }).strict(),
  ]);
});

/** A request body on the peer route: the message and, for every type but heartbeat, a nonce the receiver issued. Built on first use. */
export const peerEnvelopeSchema = lazySchema((z) =>
  z
    .object({
      v: z.literal(1),
      message: peerMessageSchema(),
      nonce: z.string().min(1).max(64).optional(),
    })
    .strict(),
);

/**
 * Every peer message type, in the order of the schema. A record of every type, so the compiler refuses a missing or
 * unknown one; no zod needed to list them.
 */
const PEER_MESSAGE_TYPE_SET: Record<PeerMessage['type'], true> = {
  heartbeat: true,
  handover: true,
  'handover-probe': true,
  'step-down': true,
  join: true,
  'group-settings': true,
  'group-settings-change': true,
  leave: true,
  members: true,
};
export const PEER_MESSAGE_TYPES = Object.keys(PEER_MESSAGE_TYPE_SET) as readonly PeerMessage['type'][];

/** A parsed request body. */
export interface PeerEnvelope {
  readonly v: 1;
  readonly message: PeerMessage;
  readonly nonce?: string;
}
