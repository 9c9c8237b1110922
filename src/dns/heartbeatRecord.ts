import type { Heartbeat } from '../../machines/heartbeat.js';

/**
 * The heartbeat as stored in the group's TXT record: one string of exactly this form (docs/heartbeat-record.md):
 *
 *     ag1 node=<node id> epoch=<epoch> seq=<seq> sent=<YYYY-MM-DDTHH:MM:SS.sssZ>
 *
 * - `ag1` names the format and its version.
 * - `<node id>`: 1 to 63 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or digit.
 * - `<epoch>` (at least 1) and `<seq>` (at least 0): decimal integers without leading zeros, at most 2^53 - 1.
 * - `sent`: the sender's wall clock in UTC with milliseconds, as `Date.prototype.toISOString` writes it.
 *
 * Single spaces separate the fields; nothing may come before, after or between them.
 */
export const HEARTBEAT_RECORD_FORMAT = 'ag1 node=<id> epoch=<n> seq=<n> sent=<iso-8601 utc>';

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const RECORD =
  /^ag1 node=([A-Za-z0-9][A-Za-z0-9._-]{0,62}) epoch=(0|[1-9][0-9]{0,15}) seq=(0|[1-9][0-9]{0,15}) sent=(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)$/;

/** Whether `nodeId` is a valid node id (the form the TXT record and the API accept). */
export function isValidNodeId(nodeId: string): boolean {
  return NODE_ID.test(nodeId);
}

/**
 * Writes a heartbeat in the TXT record format. Throws a RangeError for a value the format cannot hold, so that a
 * record this function writes always parses back to the same heartbeat.
 *
 * @example
 * formatHeartbeatRecord({ holder: 'node-a', epoch: 3, seq: 17, sentAt: Date.UTC(2026, 0, 1) })
 * // 'ag1 node=node-a epoch=3 seq=17 sent=2026-01-01T00:00:00.000Z'
 */
export function formatHeartbeatRecord(heartbeat: Heartbeat): string {
  if (!isValidNodeId(heartbeat.holder)) throw new RangeError(`Invalid node id in heartbeat: ${JSON.stringify(heartbeat.holder)}`);
  if (!Number.isSafeInteger(heartbeat.epoch) || heartbeat.epoch < 1) throw new RangeError(`Invalid epoch: ${heartbeat.epoch}`);
  if (!Number.isSafeInteger(heartbeat.seq) || heartbeat.seq < 0) throw new RangeError(`Invalid seq: ${heartbeat.seq}`);
  const sent = new Date(heartbeat.sentAt);
  if (!Number.isInteger(heartbeat.sentAt) || Number.isNaN(sent.getTime()) || sent.getUTCFullYear() < 1000 || sent.getUTCFullYear() > 9999) {
    throw new RangeError(`Invalid sentAt: ${heartbeat.sentAt}`);
  }
  return `ag1 node=${heartbeat.holder} epoch=${heartbeat.epoch} seq=${heartbeat.seq} sent=${sent.toISOString()}`;
}

/**
 * Reads a TXT record value in the heartbeat format; returns null for anything else (wrong prefix, extra spaces,
 * leading zeros, an epoch of 0, a number past 2^53 - 1, a date that does not exist). Never throws.
 *
 * @example
 * parseHeartbeatRecord('ag1 node=node-a epoch=3 seq=17 sent=2026-01-01T00:00:00.000Z')?.seq // 17
 * parseHeartbeatRecord('hello') // null
 */
export function parseHeartbeatRecord(value: string): Heartbeat | null {
  const match = RECORD.exec(value);
  if (match === null) return null;
  const [, holder, epochText, seqText, sentText] = match as unknown as [string, string, string, string, string];
  const epoch = Number(epochText);
  const seq = Number(seqText);
  if (!Number.isSafeInteger(epoch) || epoch < 1 || !Number.isSafeInteger(seq)) return null;
  const sentAt = Date.parse(sentText);
  // Date.parse accepts impossible dates such as 02-30 by rolling over; a canonical value must write back the same.
  if (Number.isNaN(sentAt) || new Date(sentAt).toISOString() !== sentText) return null;
  return { holder, epoch, seq, sentAt };
}
