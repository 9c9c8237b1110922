/**
 * The messages the client sends: RFC 2136 UPDATEs that express a compare-and-swap of a name's A and TXT RRsets,
 * and plain queries.
 *
 * Built with this project's own encoder rather than `dns-packet`: an UPDATE needs class NONE (254) for "RRset does
 * not exist", and `dns-packet` encodes any class it does not name (NONE included) as 0.
 */
import type { RecordsExpectation, RecordsReplacement } from './dnsAuthority.js';
import {
  Opcode,
  RRClass,
  RRType,
  encodeA,
  encodeMessage,
  encodeTxt,
  headerFlags,
  type OutRecord,
} from './wireFormat.js';

const EMPTY = Buffer.alloc(0);

/** What one compare-and-swap touches, by record type. */
const FIELDS = [
  { key: 'address', type: RRType.A, encode: encodeA },
  { key: 'txt', type: RRType.TXT, encode: encodeTxt },
] as const;

/**
 * The prerequisite and update sections of a compare-and-swap (RFC 2136 sections 2.4 and 2.5):
 *
 * - expectation `null`: "RRset does not exist" (class NONE, type T, no data);
 * - expectation a value: "RRset exists (value dependent)" (class IN, TTL 0, that one record), which holds only if
 *   the RRset is exactly that record;
 * - replacement `null`: "delete an RRset" (class ANY, type T, no data);
 * - replacement a value: delete the RRset, then add the one record, so the RRset ends up exactly that record.
 *
 * @example
 * compareAndSwapSections('app.example.test', { txt: old }, { txt: next }, 30)
 */
export function compareAndSwapSections(
  fqdn: string,
  expectation: RecordsExpectation,
  replacement: RecordsReplacement,
  ttl: number,
): { prerequisites: OutRecord[]; updates: OutRecord[] } {
  const prerequisites: OutRecord[] = [];
  const updates: OutRecord[] = [];
  for (const field of FIELDS) {
    const expected = expectation[field.key];
    if (expected === null) prerequisites.push({ name: fqdn, type: field.type, class: RRClass.NONE, ttl: 0, rdata: EMPTY });
    else if (expected !== undefined) prerequisites.push({ name: fqdn, type: field.type, class: RRClass.IN, ttl: 0, rdata: field.encode(expected) });
    const replaced = replacement[field.key];
    if (replaced === undefined) continue;
    updates.push({ name: fqdn, type: field.type, class: RRClass.ANY, ttl: 0, rdata: EMPTY });
    if (replaced !== null) updates.push({ name: fqdn, type: field.type, class: RRClass.IN, ttl, rdata: field.encode(replaced) });
  }
  return { prerequisites, updates };
}

/**
 * An unsigned UPDATE message: the zone in the question section, prerequisites in the answer section, updates in
 * the authority section, opcode 5 in the header.
 *
 * @example
 * const message = buildUpdateMessage({ id, zone: 'example.test', prerequisites, updates });
 */
export function buildUpdateMessage(fields: {
  id: number;
  zone: string;
  prerequisites: readonly OutRecord[];
  updates: readonly OutRecord[];
}): Buffer {
  return encodeMessage({
    id: fields.id,
    flags: headerFlags({ opcode: Opcode.UPDATE }),
    questions: [{ name: fields.zone, type: RRType.SOA, class: RRClass.IN }],
    answers: fields.prerequisites,
    authorities: fields.updates,
  });
}

/**
 * An unsigned query for one name and type, without recursion desired: the client asks the authority itself.
 *
 * @example
 * buildQueryMessage({ id, name: 'app.example.test', type: RRType.TXT })
 */
export function buildQueryMessage(fields: { id: number; name: string; type: number }): Buffer {
  return encodeMessage({
    id: fields.id,
    flags: headerFlags({ opcode: Opcode.QUERY }),
    questions: [{ name: fields.name, type: fields.type, class: RRClass.IN }],
  });
}
