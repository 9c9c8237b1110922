/**
 * The DNS wire format (RFC 1035, RFC 2136 sections, RFC 3597 opaque data): a strict decoder that walks any message,
 * including UPDATEs whose records carry empty data (which `dns-packet` cannot decode), and a small encoder for
 * messages whose record data is already in wire form. Names are strings in presentation form without the trailing
 * dot; bytes that are not printable, and `.` or `\` inside a label, are escaped (`\DDD`, `\.`, `\\`) so a decoded
 * name encodes back to the same bytes.
 */
import { DnsWireFormatError } from '../api/errors.js';

/** Record types this project names. Others travel as numbers (RFC 3597). */
export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  OPT: 41,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  MAILA: 254,
  ANY: 255,
} as const;

/** Record classes: IN, and the two RFC 2136 gives meaning to in UPDATEs. */
export const RRClass = { IN: 1, NONE: 254, ANY: 255 } as const;

/** Header opcodes. */
export const Opcode = { QUERY: 0, NOTIFY: 4, UPDATE: 5 } as const;

/** Header response codes (RFC 1035, RFC 2136). */
export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
} as const;

/** TSIG error codes (RFC 8945), carried in the TSIG record, not the header. */
export const TsigErrorCode = { BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;

/** Mnemonic of a response code, e.g. `NXRRSET`; `RCODE<n>` for one without a name. */
export function rcodeName(rcode: number): string {
  for (const [name, value] of Object.entries(Rcode)) if (value === rcode) return name;
  return `RCODE${rcode}`;
}

/** Mnemonic of a TSIG error, e.g. `BADSIG`. */
export function tsigErrorName(error: number): string {
  if (error === 0) return 'NOERROR';
  for (const [name, value] of Object.entries(TsigErrorCode)) if (value === error) return name;
  return `TSIGERR${error}`;
}

/** Mnemonic of a record type, e.g. `TXT`; `TYPE<n>` otherwise (RFC 3597). */
export function typeName(type: number): string {
  for (const [name, value] of Object.entries(RRType)) if (value === type) return name;
  return `TYPE${type}`;
}

/** A message the decoder refused (defined in the error catalogue). Servers drop such packets; clients treat them as no answer. */
export { DnsWireFormatError };

export interface WireQuestion {
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

export interface WireRecord {
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  /** The record data exactly as received (names inside may be compressed: see `rdataOffset`). */
  readonly rdata: Buffer;
  /** Offset of the record data in the message, to resolve compressed names inside it. */
  readonly rdataOffset: number;
  /** Offset of the record's first byte in the message (TSIG needs the bytes before it). */
  readonly start: number;
}

export interface WireMessage {
  readonly id: number;
  readonly flags: number;
  readonly qr: boolean;
  readonly opcode: number;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly rcode: number;
  readonly questions: readonly WireQuestion[];
  /** The answer section; in an UPDATE, the prerequisites. */
  readonly answers: readonly WireRecord[];
  /** The authority section; in an UPDATE, the updates. */
  readonly authorities: readonly WireRecord[];
  readonly additionals: readonly WireRecord[];
  /** The bytes decoded. */
  readonly bytes: Buffer;
}

const HEADER_LENGTH = 12;
const MAX_NAME_LENGTH = 255;

/**
 * Reads a (possibly compressed) name at `offset`. Compression pointers must point strictly backwards, which rules
 * out loops.
 */
export function decodeName(buf: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let position = offset;
  let end = -1;
  let wireLength = 1;
  let lowestJump = offset;
  for (;;) {
    if (position >= buf.length) throw new DnsWireFormatError('name runs past the end of the message');
    const length = buf[position]!;
    if (length === 0) {
      if (end < 0) end = position + 1;
      break;
    }
    const kind = length & 0xc0;
    if (kind === 0xc0) {
      if (position + 1 >= buf.length) throw new DnsWireFormatError('truncated compression pointer');
      const target = ((length & 0x3f) << 8) | buf[position + 1]!;
      if (target >= lowestJump) throw new DnsWireFormatError('compression pointer does not point backwards');
      if (end < 0) end = position + 2;
      lowestJump = target;
      position = target;
      continue;
    }
    if (kind !== 0) throw new DnsWireFormatError('unsupported label type');
    if (position + 1 + length > buf.length) throw new DnsWireFormatError('label runs past the end of the message');
    wireLength += length + 1;
    if (wireLength > MAX_NAME_LENGTH) throw new DnsWireFormatError('name longer than 255 bytes');
    labels.push(labelToText(buf, position + 1, length));
    position += 1 + length;
  }
  return { name: labels.join('.'), end };
}

function labelToText(buf: Buffer, start: number, length: number): string {
  let text = '';
  for (let i = start; i < start + length; i++) {
    const byte = buf[i]!;
    if (byte === 0x2e || byte === 0x5c) text += `\\${String.fromCharCode(byte)}`;
    else if (byte > 0x20 && byte < 0x7f) text += String.fromCharCode(byte);
    else text += `\\${byte.toString().padStart(3, '0')}`;
  }
  return text;
}

/** The labels of a presentation-form name as bytes; `''` and `'.'` are the root. Throws on invalid names. */
export function nameToLabels(name: string): Buffer[] {
  const text = name.endsWith('.') && !name.endsWith('\\.') ? name.slice(0, -1) : name;
  if (text === '') return [];
  const labels: Buffer[] = [];
  let current: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === 0x5c) {
      const next = text.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(next)) {
        const value = Number(next);
        if (value > 255) throw new DnsWireFormatError(`bad escape in name ${JSON.stringify(name)}`);
        current.push(value);
        i += 3;
      } else if (i + 1 < text.length) {
        current.push(text.charCodeAt(i + 1));
        i += 1;
      } else throw new DnsWireFormatError(`dangling escape in name ${JSON.stringify(name)}`);
    } else if (char === 0x2e) {
      if (current.length === 0) throw new DnsWireFormatError(`empty label in name ${JSON.stringify(name)}`);
      labels.push(Buffer.from(current));
      current = [];
    } else {
      if (char > 0x7e) throw new DnsWireFormatError(`non-ASCII character in name ${JSON.stringify(name)}`);
      current.push(char);
    }
  }
  if (current.length === 0) throw new DnsWireFormatError(`empty label in name ${JSON.stringify(name)}`);
  labels.push(Buffer.from(current));
  for (const label of labels) if (label.length > 63) throw new DnsWireFormatError(`label longer than 63 bytes in ${JSON.stringify(name)}`);
  return labels;
}

/** A name in uncompressed wire form. */
export function encodeName(name: string): Buffer {
  const labels = nameToLabels(name);
  const parts: Buffer[] = [];
  for (const label of labels) parts.push(Buffer.from([label.length]), label);
  parts.push(Buffer.from([0]));
  const wire = Buffer.concat(parts);
  if (wire.length > MAX_NAME_LENGTH) throw new DnsWireFormatError(`name longer than 255 bytes: ${JSON.stringify(name)}`);
  return wire;
}

/**
 * The canonical form of a name for comparison and storage: ASCII letters lower-cased, no trailing dot. Escapes
 * only ever stand for non-letters, so lower-casing the text is exact.
 */
export function canonicalName(name: string): string {
  const text = name.endsWith('.') && !name.endsWith('\\.') ? name.slice(0, -1) : name;
  return text.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

/** Whether `name` is `zone` or below it (both canonical). */
export function isInZone(name: string, zone: string): boolean {
  if (zone === '') return true;
  return name === zone || name.endsWith(`.${zone}`);
}

/**
 * Decodes a whole message. Throws `DnsWireFormatError` for anything malformed: short header, a section running past
 * the end, bad names, or bytes left over after the last record.
 *
 * @example
 * const message = decodeMessage(datagram);
 * if (message.opcode === Opcode.UPDATE) { ... }
 */
export function decodeMessage(bytes: Buffer): WireMessage {
  if (bytes.length < HEADER_LENGTH) throw new DnsWireFormatError('message shorter than its header');
  const id = bytes.readUInt16BE(0);
  const flags = bytes.readUInt16BE(2);
  const counts = [bytes.readUInt16BE(4), bytes.readUInt16BE(6), bytes.readUInt16BE(8), bytes.readUInt16BE(10)] as const;
  let offset = HEADER_LENGTH;
  const questions: WireQuestion[] = [];
  for (let i = 0; i < counts[0]; i++) {
    const { name, end } = decodeName(bytes, offset);
    if (end + 4 > bytes.length) throw new DnsWireFormatError('question runs past the end of the message');
    questions.push({ name, type: bytes.readUInt16BE(end), class: bytes.readUInt16BE(end + 2) });
    offset = end + 4;
  }
  const sections: WireRecord[][] = [[], [], []];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const start = offset;
      const { name, end } = decodeName(bytes, offset);
      if (end + 10 > bytes.length) throw new DnsWireFormatError('record header runs past the end of the message');
      const rdlength = bytes.readUInt16BE(end + 8);
      const rdataOffset = end + 10;
      if (rdataOffset + rdlength > bytes.length) throw new DnsWireFormatError('record data runs past the end of the message');
      sections[s]!.push({
        name,
        type: bytes.readUInt16BE(end),
        class: bytes.readUInt16BE(end + 2),
        ttl: bytes.readUInt32BE(end + 4),
        rdata: bytes.subarray(rdataOffset, rdataOffset + rdlength),
        rdataOffset,
        start,
      });
      offset = rdataOffset + rdlength;
    }
  }
  if (offset !== bytes.length) throw new DnsWireFormatError('bytes left over after the last record');
  return {
    id,
    flags,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    rcode: flags & 0xf,
    questions,
    answers: sections[0]!,
    authorities: sections[1]!,
    additionals: sections[2]!,
    bytes,
  };
}

/** A record to encode: the data is already in (uncompressed) wire form. */
export interface OutRecord {
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly rdata: Buffer;
}

export interface OutMessage {
  readonly id: number;
  /** The whole flags word; see `headerFlags`. */
  readonly flags: number;
  readonly questions?: readonly WireQuestion[];
  readonly answers?: readonly OutRecord[];
  readonly authorities?: readonly OutRecord[];
  readonly additionals?: readonly OutRecord[];
}

/** Builds the header flags word. */
export function headerFlags(fields: {
  qr?: boolean;
  opcode?: number;
  aa?: boolean;
  tc?: boolean;
  rd?: boolean;
  ra?: boolean;
  rcode?: number;
}): number {
  return (
    (fields.qr ? 0x8000 : 0) |
    ((fields.opcode ?? 0) << 11) |
    (fields.aa ? 0x0400 : 0) |
    (fields.tc ? 0x0200 : 0) |
    (fields.rd ? 0x0100 : 0) |
    (fields.ra ? 0x0080 : 0) |
    ((fields.rcode ?? 0) & 0xf)
  );
}

/**
 * Encodes a message with uncompressed names (the messages this project sends are small; uncompressed names keep
 * the encoder obviously right).
 *
 * @example
 * encodeMessage({ id: 7, flags: headerFlags({ opcode: Opcode.QUERY }), questions: [{ name: 'app.example.test', type: RRType.A, class: RRClass.IN }] })
 */
export function encodeMessage(message: OutMessage): Buffer {
  const questions = message.questions ?? [];
  const sections = [message.answers ?? [], message.authorities ?? [], message.additionals ?? []];
  const parts: Buffer[] = [];
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt16BE(message.id & 0xffff, 0);
  header.writeUInt16BE(message.flags & 0xffff, 2);
  header.writeUInt16BE(questions.length, 4);
  header.writeUInt16BE(sections[0]!.length, 6);
  header.writeUInt16BE(sections[1]!.length, 8);
  header.writeUInt16BE(sections[2]!.length, 10);
  parts.push(header);
  for (const question of questions) {
    const fixed = Buffer.alloc(4);
    fixed.writeUInt16BE(question.type, 0);
    fixed.writeUInt16BE(question.class, 2);
    parts.push(encodeName(question.name), fixed);
  }
  for (const section of sections) for (const record of section) parts.push(encodeRecord(record));
  return Buffer.concat(parts);
}

/** One resource record in wire form. */
export function encodeRecord(record: OutRecord): Buffer {
  if (record.rdata.length > 0xffff) throw new DnsWireFormatError('record data longer than 65535 bytes');
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(record.type, 0);
  fixed.writeUInt16BE(record.class, 2);
  fixed.writeUInt32BE(record.ttl >>> 0, 4);
  fixed.writeUInt16BE(record.rdata.length, 8);
  return Buffer.concat([encodeName(record.name), fixed, record.rdata]);
}

// --- record data -------------------------------------------------------------------------------------------

/** The 4 data bytes of an A record. Throws a RangeError for anything but a dotted-quad IPv4 address. */
export function encodeA(address: string): Buffer {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  const octets = match?.slice(1).map(Number);
  if (!octets || octets.some((octet) => octet > 255)) throw new RangeError(`Not an IPv4 address: ${JSON.stringify(address)}`);
  return Buffer.from(octets);
}

/** The dotted-quad text of A record data. */
export function decodeA(rdata: Buffer): string {
  if (rdata.length !== 4) throw new DnsWireFormatError('A record data is not 4 bytes');
  return `${rdata[0]}.${rdata[1]}.${rdata[2]}.${rdata[3]}`;
}

/**
 * TXT record data holding `value` (UTF-8) as one record: cut into character-strings of at most 255 bytes, the way
 * long TXT values (DKIM keys, for example) are stored. Deterministic, so a value-dependent prerequisite built from
 * the same value matches the stored bytes.
 */
export function encodeTxt(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const parts: Buffer[] = [];
  let offset = 0;
  do {
    const chunk = bytes.subarray(offset, offset + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
    offset += 255;
  } while (offset < bytes.length);
  return Buffer.concat(parts);
}

/** The character-strings of TXT record data, as raw bytes. */
export function txtStrings(rdata: Buffer): Buffer[] {
  const strings: Buffer[] = [];
  let offset = 0;
  if (rdata.length === 0) throw new DnsWireFormatError('TXT record data is empty');
  while (offset < rdata.length) {
    const length = rdata[offset]!;
    if (offset + 1 + length > rdata.length) throw new DnsWireFormatError('TXT character-string runs past its record');
    strings.push(rdata.subarray(offset + 1, offset + 1 + length));
    offset += 1 + length;
  }
  return strings;
}

/** The value of TXT record data: its character-strings joined, read as UTF-8 (the inverse of `encodeTxt`). */
export function decodeTxt(rdata: Buffer): string {
  return Buffer.concat(txtStrings(rdata)).toString('utf8');
}

/** SOA record data fields. */
export interface SoaData {
  readonly mname: string;
  readonly rname: string;
  readonly serial: number;
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  readonly minimum: number;
}

export function encodeSoa(soa: SoaData): Buffer {
  const numbers = Buffer.alloc(20);
  [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum].forEach((value, index) => numbers.writeUInt32BE(value >>> 0, index * 4));
  return Buffer.concat([encodeName(soa.mname), encodeName(soa.rname), numbers]);
}

/** Decodes uncompressed SOA data (as stored). */
export function decodeSoa(rdata: Buffer): SoaData {
  const mname = decodeName(rdata, 0);
  const rname = decodeName(rdata, mname.end);
  if (rname.end + 20 !== rdata.length) throw new DnsWireFormatError('SOA record data has the wrong length');
  const at = (index: number) => rdata.readUInt32BE(rname.end + index * 4);
  return { mname: mname.name, rname: rname.name, serial: at(0), refresh: at(1), retry: at(2), expire: at(3), minimum: at(4) };
}

/**
 * The data of a received record in canonical storage form: names inside it (NS, CNAME, PTR, MX, SOA) decompressed
 * against the whole message and lower-cased (the canonical form of RFC 4034 section 6.2, so equal records compare
 * equal byte for byte), and the shape checked for the types whose shape we know. Other types are opaque
 * (RFC 3597 forbids compression in them). Throws `DnsWireFormatError` when the data does not fit its type.
 */
export function uncompressedRdata(message: Buffer, record: WireRecord): Buffer {
  const { type, rdata, rdataOffset } = record;
  const end = rdataOffset + rdata.length;
  const nameAt = (offset: number) => {
    const decoded = decodeName(message, offset);
    if (decoded.end > end) throw new DnsWireFormatError('name runs past its record data');
    return decoded;
  };
  switch (type) {
    case RRType.A:
      decodeA(rdata);
      return Buffer.from(rdata);
    case RRType.AAAA:
      if (rdata.length !== 16) throw new DnsWireFormatError('AAAA record data is not 16 bytes');
      return Buffer.from(rdata);
    case RRType.TXT:
      txtStrings(rdata);
      return Buffer.from(rdata);
    case RRType.NS:
    case RRType.CNAME:
    case RRType.PTR: {
      const target = nameAt(rdataOffset);
      if (target.end !== end) throw new DnsWireFormatError('bytes left over in record data');
      return encodeName(canonicalName(target.name));
    }
    case RRType.MX: {
      if (rdata.length < 3) throw new DnsWireFormatError('MX record data too short');
      const exchange = nameAt(rdataOffset + 2);
      if (exchange.end !== end) throw new DnsWireFormatError('bytes left over in record data');
      return Buffer.concat([rdata.subarray(0, 2), encodeName(canonicalName(exchange.name))]);
    }
    case RRType.SOA: {
      const mname = nameAt(rdataOffset);
      const rname = nameAt(mname.end);
      if (rname.end + 20 !== end) throw new DnsWireFormatError('SOA record data has the wrong length');
      return Buffer.concat([encodeName(canonicalName(mname.name)), encodeName(canonicalName(rname.name)), message.subarray(rname.end, end)]);
    }
    default:
      // Obsolete types with compressible names (MD, MF, MB, MG, MR, MINFO) are not accepted rather than mis-stored.
      if (type >= 3 && type <= 14 && type !== 10 && type !== 11 && type !== 13) {
        throw new DnsWireFormatError(`record type ${typeName(type)} is not supported`);
      }
      return Buffer.from(rdata);
  }
}
