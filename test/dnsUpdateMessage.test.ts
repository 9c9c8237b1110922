/**
 * UPDATE messages: how a compare-and-swap maps to RFC 2136 sections, that the walker decodes what dns-packet cannot
 * (records with empty data), and that the wire format round-trips.
 */
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildQueryMessage, buildUpdateMessage, compareAndSwapSections } from '../src/dns/updateMessage.js';
import {
  DnsWireFormatError,
  Opcode,
  RRClass,
  RRType,
  decodeMessage,
  decodeName,
  decodeTxt,
  encodeA,
  encodeMessage,
  encodeName,
  encodeTxt,
  headerFlags,
} from '../src/dns/wireFormat.js';

const NAME = 'app.example.test';
const summary = (records: ReturnType<typeof compareAndSwapSections>['updates']) =>
  records.map((record) => [record.type === RRType.A ? 'A' : 'TXT', record.class === RRClass.IN ? 'IN' : record.class === RRClass.ANY ? 'ANY' : 'NONE', record.ttl, record.rdata.length]);

describe('compare-and-swap as RFC 2136 sections', () => {
  it('create: both RRsets must not exist; both are replaced', () => {
    const { prerequisites, updates } = compareAndSwapSections(NAME, { address: null, txt: null }, { address: '127.0.0.2', txt: 'hb' }, 30);
    expect(summary(prerequisites)).toEqual([['A', 'NONE', 0, 0], ['TXT', 'NONE', 0, 0]]);
    expect(summary(updates)).toEqual([['A', 'ANY', 0, 0], ['A', 'IN', 30, 4], ['TXT', 'ANY', 0, 0], ['TXT', 'IN', 30, 3]]);
  });

  it('heartbeat: the TXT RRset must be exactly the old value; A untouched', () => {
    const { prerequisites, updates } = compareAndSwapSections(NAME, { txt: 'old' }, { txt: 'new' }, 30);
    expect(summary(prerequisites)).toEqual([['TXT', 'IN', 0, 4]]);
    expect(prerequisites[0]!.rdata).toEqual(encodeTxt('old'));
    expect(summary(updates)).toEqual([['TXT', 'ANY', 0, 0], ['TXT', 'IN', 30, 4]]);
  });

  it('remove: both RRsets deleted, no add', () => {
    const { prerequisites, updates } = compareAndSwapSections(NAME, {}, { address: null, txt: null }, 30);
    expect(prerequisites).toEqual([]);
    expect(summary(updates)).toEqual([['A', 'ANY', 0, 0], ['TXT', 'ANY', 0, 0]]);
  });

  it('refuses an address that is not IPv4', () => {
    expect(() => compareAndSwapSections(NAME, {}, { address: '::1' }, 30)).toThrow(RangeError);
    expect(() => compareAndSwapSections(NAME, {}, { address: '1.2.3.256' }, 30)).toThrow(RangeError);
  });
});

describe('UPDATE message layout', () => {
  const sections = compareAndSwapSections(NAME, { address: '127.0.0.1', txt: null }, { address: '127.0.0.2', txt: 'hb' }, 30);
  const message = buildUpdateMessage({ id: 77, zone: 'example.test', ...sections });

  it('opcode 5, zone in the question section, prerequisites in answers, updates in authorities', () => {
    const decoded = decodeMessage(message);
    expect(decoded).toMatchObject({ id: 77, opcode: Opcode.UPDATE, qr: false, rcode: 0 });
    expect(decoded.questions).toEqual([{ name: 'example.test', type: RRType.SOA, class: RRClass.IN }]);
    expect(decoded.answers.map((record) => [record.type, record.class])).toEqual([[RRType.A, RRClass.IN], [RRType.TXT, RRClass.NONE]]);
    expect(decoded.authorities).toHaveLength(4);
  });

  it('dns-packet misreads it (an empty A record eats the next record), the walker reads it right', () => {
    const misread = dnsPacket.decode(message).authorities ?? [];
    // dns-packet reads 4 address bytes out of the next record, and then that record's name goes wrong.
    expect(misread[0]).toMatchObject({ type: 'A', class: 'ANY', data: expect.not.stringMatching(/^$/) });
    expect(misread[1]?.name).not.toBe(NAME);
    const walked = decodeMessage(message).authorities;
    expect(walked.map((record) => [record.name, record.type, record.class, record.rdata.length])).toEqual([
      [NAME, RRType.A, RRClass.ANY, 0],
      [NAME, RRType.A, RRClass.IN, 4],
      [NAME, RRType.TXT, RRClass.ANY, 0],
      [NAME, RRType.TXT, RRClass.IN, 3],
    ]);
  });

  it('dns-packet reads what it can of our messages the same way (interoperability)', () => {
    const add = compareAndSwapSections(NAME, { txt: 'old' }, {}, 30);
    const decoded = dnsPacket.decode(buildUpdateMessage({ id: 9, zone: 'example.test', ...add }));
    expect((decoded as { opcode?: string }).opcode).toBe('UPDATE');
    expect(decoded.questions).toEqual([{ name: 'example.test', type: 'SOA', class: 'IN' }]);
    expect(decoded.answers?.[0]).toMatchObject({ name: NAME, type: 'TXT', class: 'IN', ttl: 0 });
    const query = dnsPacket.decode(buildQueryMessage({ id: 3, name: NAME, type: RRType.TXT }));
    expect(query).toMatchObject({ id: 3, opcode: 'QUERY', flags: 0, questions: [{ name: NAME, type: 'TXT', class: 'IN' }] });
  });

  it('decodes what dns-packet encodes, compression included', () => {
    const bytes = dnsPacket.encode({
      type: 'response',
      id: 5,
      flags: dnsPacket.AUTHORITATIVE_ANSWER,
      questions: [{ name: NAME, type: 'TXT', class: 'IN' }],
      answers: [{ name: NAME, type: 'TXT', class: 'IN', ttl: 30, data: ['ab', 'cd'] }],
    });
    const decoded = decodeMessage(bytes);
    expect(decoded).toMatchObject({ id: 5, qr: true, aa: true });
    expect(decodeTxt(decoded.answers[0]!.rdata)).toBe('abcd');
  });
});

describe('wire format details', () => {
  it('TXT values longer than 255 bytes are split into character-strings and joined back', () => {
    const value = 'y'.repeat(600);
    const rdata = encodeTxt(value);
    expect(rdata[0]).toBe(255);
    expect(rdata.length).toBe(600 + 3);
    expect(decodeTxt(rdata)).toBe(value);
    expect(decodeTxt(encodeTxt(''))).toBe('');
  });

  it('rejects compression loops and forward pointers', () => {
    const loop = Buffer.from([0xc0, 0x00]);
    expect(() => decodeName(loop, 0)).toThrow(DnsWireFormatError);
    const forward = Buffer.from([0xc0, 0x02, 0x01, 0x61, 0x00]);
    expect(() => decodeName(forward, 0)).toThrow(DnsWireFormatError);
    const backward = Buffer.from([0x01, 0x61, 0x00, 0x01, 0x62, 0xc0, 0x00]);
    expect(decodeName(backward, 3)).toEqual({ name: 'b.a', end: 7 });
  });

  it('rejects bytes after the last record and truncated sections', () => {
    const query = buildQueryMessage({ id: 1, name: NAME, type: RRType.A });
    expect(() => decodeMessage(Buffer.concat([query, Buffer.from([0])]))).toThrow(DnsWireFormatError);
    expect(() => decodeMessage(query.subarray(0, query.length - 1))).toThrow(DnsWireFormatError);
  });

  it('names with any bytes round-trip through their escaped text form', () => {
    const label = fc.uint8Array({ minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(fc.array(label, { minLength: 0, maxLength: 6 }), (labels) => {
        const wire = Buffer.concat([...labels.flatMap((bytes) => [Buffer.from([bytes.length]), Buffer.from(bytes)]), Buffer.from([0])]);
        const { name, end } = decodeName(wire, 0);
        expect(end).toBe(wire.length);
        expect(encodeName(name)).toEqual(wire);
      }),
      { seed: 4, numRuns: 500 },
    );
  });

  it('messages round-trip through encode and decode', () => {
    const record = fc.record({
      name: fc.constantFrom('example.test', 'a.example.test', 'B.example.test', ''),
      type: fc.integer({ min: 1, max: 65535 }),
      class: fc.constantFrom(RRClass.IN, RRClass.ANY, RRClass.NONE),
      ttl: fc.nat(),
      rdata: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
    });
    fc.assert(
      fc.property(fc.nat(0xffff), fc.array(record, { maxLength: 4 }), fc.array(record, { maxLength: 4 }), (id, answers, authorities) => {
        const bytes = encodeMessage({ id, flags: headerFlags({ opcode: Opcode.UPDATE }), questions: [{ name: 'example.test', type: RRType.SOA, class: RRClass.IN }], answers, authorities });
        const decoded = decodeMessage(bytes);
        expect(decoded.id).toBe(id);
        expect(decoded.answers.map(({ name, type, class: c, ttl, rdata }) => ({ name, type, class: c, ttl, rdata: Buffer.from(rdata) }))).toEqual(answers);
        expect(decoded.authorities).toHaveLength(authorities.length);
      }),
      { seed: 5, numRuns: 300 },
    );
  });

  it('A data is exactly four octets', () => {
    expect(encodeA('127.0.0.2')).toEqual(Buffer.from([127, 0, 0, 2]));
  });
});
