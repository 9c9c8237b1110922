/**
 * TSIG (RFC 8945): HMAC signatures on DNS messages with a shared secret, over `node:crypto`.
 *
 * The exact parts, each of which a server checks: the MAC covers the message bytes as sent (with the original ID
 * and an ARCOUNT that does not count the TSIG record), then the "TSIG variables": key name and algorithm name in
 * canonical form (lower-case, uncompressed), class ANY, TTL 0, the 48-bit time signed, fudge, error, other data.
 * A response's MAC is chained: it starts with the request MAC (length-prefixed).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  DnsWireFormatError,
  RRClass,
  RRType,
  TsigErrorCode,
  canonicalName,
  decodeName,
  encodeName,
  encodeRecord,
  type WireMessage,
  type WireRecord,
} from './wireFormat.js';

/** The TSIG algorithms supported, by their DNS names. */
export const TSIG_ALGORITHMS = ['hmac-sha1', 'hmac-sha224', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'] as const;
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];

/** The fudge every signature carries: the clock difference, in seconds, a receiver accepts. */
export const TSIG_FUDGE = 300;

/** A TSIG key as configured: `secret` is base64, as in BIND's `key` block and `nsupdate -y`. */
export interface TsigKey {
  readonly name: string;
  readonly algorithm: TsigAlgorithm;
  readonly secret: string;
}

/** A key ready for use. The secret bytes are kept off enumerable properties so they never reach a log or JSON. */
export class PreparedTsigKey {
  /** Canonical key name. */
  readonly name: string;
  readonly algorithm: TsigAlgorithm;
  readonly #secret: Buffer;
  constructor(key: TsigKey) {
    if (!(TSIG_ALGORITHMS as readonly string[]).includes(key.algorithm)) {
      throw new RangeError(`Unsupported TSIG algorithm ${JSON.stringify(key.algorithm)}; use one of ${TSIG_ALGORITHMS.join(', ')}.`);
    }
    if (typeof key.secret !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(key.secret) || key.secret.length % 4 !== 0) {
      throw new RangeError(`The secret of TSIG key ${JSON.stringify(key.name)} is not base64.`);
    }
    this.name = canonicalName(key.name);
    encodeName(this.name);
    this.algorithm = key.algorithm;
    this.#secret = Buffer.from(key.secret, 'base64');
  }
  /** HMAC over `parts` with this key. */
  hmac(parts: readonly Buffer[]): Buffer {
    const hmac = createHmac(this.algorithm.slice(5), this.#secret);
    for (const part of parts) hmac.update(part);
    return hmac.digest();
  }
  /** Length of a full MAC in bytes. */
  get macLength(): number {
    return MAC_LENGTHS[this.algorithm];
  }
  toJSON(): object {
    return { name: this.name, algorithm: this.algorithm };
  }
}

const MAC_LENGTHS: Record<TsigAlgorithm, number> = {
  'hmac-sha1': 20,
  'hmac-sha224': 28,
  'hmac-sha256': 32,
  'hmac-sha384': 48,
  'hmac-sha512': 64,
};

/** The fields of a TSIG record. `timeSigned` is in seconds since 1970. */
export interface TsigRecord {
  readonly keyName: string;
  readonly algorithm: string;
  readonly timeSigned: number;
  readonly fudge: number;
  readonly mac: Buffer;
  readonly originalId: number;
  readonly error: number;
  readonly otherData: Buffer;
}

/** Encodes a 48-bit unsigned number (TSIG times). */
function uint48(value: number): Buffer {
  const buf = Buffer.alloc(6);
  buf.writeUIntBE(Math.max(0, Math.min(value, 2 ** 48 - 1)), 0, 6);
  return buf;
}

/** The TSIG variables (RFC 8945 section 4.3.3) of a record, in the canonical form the MAC covers. */
function tsigVariables(record: Omit<TsigRecord, 'mac' | 'originalId'>): Buffer {
  const fixed = Buffer.alloc(6);
  fixed.writeUInt16BE(RRClass.ANY, 0);
  fixed.writeUInt32BE(0, 2);
  const tail = Buffer.alloc(6);
  tail.writeUInt16BE(record.fudge, 0);
  tail.writeUInt16BE(record.error, 2);
  tail.writeUInt16BE(record.otherData.length, 4);
  return Buffer.concat([
    encodeName(canonicalName(record.keyName)),
    fixed,
    encodeName(canonicalName(record.algorithm)),
    uint48(record.timeSigned),
    tail,
    record.otherData,
  ]);
}

function encodeTsigRdata(record: TsigRecord): Buffer {
  const macSize = Buffer.alloc(2);
  macSize.writeUInt16BE(record.mac.length, 0);
  const tail = Buffer.alloc(6);
  tail.writeUInt16BE(record.originalId, 0);
  tail.writeUInt16BE(record.error, 2);
  tail.writeUInt16BE(record.otherData.length, 4);
  const fudge = Buffer.alloc(2);
  fudge.writeUInt16BE(record.fudge, 0);
  return Buffer.concat([encodeName(canonicalName(record.algorithm)), uint48(record.timeSigned), fudge, macSize, record.mac, tail, record.otherData]);
}

/** Decodes the data of a TSIG record; throws `DnsWireFormatError` when it does not fit. */
export function decodeTsigRecord(message: Buffer, record: WireRecord): TsigRecord {
  const end = record.rdataOffset + record.rdata.length;
  const algorithm = decodeName(message, record.rdataOffset);
  let offset = algorithm.end;
  if (offset + 10 > end) throw new DnsWireFormatError('TSIG record data too short');
  const timeSigned = message.readUIntBE(offset, 6);
  const fudge = message.readUInt16BE(offset + 6);
  const macSize = message.readUInt16BE(offset + 8);
  offset += 10;
  if (offset + macSize + 6 > end) throw new DnsWireFormatError('TSIG MAC runs past its record');
  const mac = Buffer.from(message.subarray(offset, offset + macSize));
  offset += macSize;
  const originalId = message.readUInt16BE(offset);
  const error = message.readUInt16BE(offset + 2);
  const otherLength = message.readUInt16BE(offset + 4);
  offset += 6;
  if (offset + otherLength !== end) throw new DnsWireFormatError('TSIG other data does not fill its record');
  const otherData = Buffer.from(message.subarray(offset, end));
  return { keyName: record.name, algorithm: algorithm.name, timeSigned, fudge, mac, originalId, error, otherData };
}

/** Where a message's TSIG record is: the last additional record, if it is one (RFC 8945 requires it last). */
export function findTsig(message: WireMessage): { record: TsigRecord; start: number } | null {
  const last = message.additionals[message.additionals.length - 1];
  for (const record of message.additionals) {
    if (record.type === RRType.TSIG && record !== last) throw new DnsWireFormatError('TSIG record is not the last record');
  }
  if (last === undefined || last.type !== RRType.TSIG) return null;
  if (last.class !== RRClass.ANY || last.ttl !== 0) throw new DnsWireFormatError('TSIG record with wrong class or TTL');
  return { record: decodeTsigRecord(message.bytes, last), start: last.start };
}

/** Options of one signature. */
export interface SignOptions {
  /** Time signed, seconds since 1970 (default: now). Tests shift it to provoke BADTIME. */
  readonly timeSigned?: number;
  /** For a response: the MAC of the request it answers. */
  readonly requestMac?: Buffer;
  /** TSIG error to carry (responses only). */
  readonly error?: number;
  /** Other data (a BADTIME response carries the server time here). */
  readonly otherData?: Buffer;
  /** Leave the MAC empty (BADKEY and BADSIG responses are not signed). */
  readonly unsigned?: boolean;
}

/**
 * Appends a TSIG record to an encoded message. Returns the signed message and its MAC (a client keeps the MAC to
 * verify the response).
 *
 * @example
 * const { message, mac } = signMessage(encodeMessage(update), key);
 */
export function signMessage(message: Buffer, key: PreparedTsigKey, options: SignOptions = {}): { message: Buffer; mac: Buffer } {
  const fields = {
    keyName: key.name,
    algorithm: key.algorithm,
    timeSigned: options.timeSigned ?? Math.floor(Date.now() / 1000),
    fudge: TSIG_FUDGE,
    error: options.error ?? 0,
    otherData: options.otherData ?? Buffer.alloc(0),
  };
  let mac: Buffer = Buffer.alloc(0);
  if (!options.unsigned) {
    const parts: Buffer[] = [];
    if (options.requestMac !== undefined) parts.push(lengthPrefix(options.requestMac), options.requestMac);
    parts.push(message, tsigVariables(fields));
    mac = key.hmac(parts);
  }
  return { message: appendTsig(message, { ...fields, mac, originalId: message.readUInt16BE(0) }), mac };
}

/**
 * Appends a TSIG record as given, MAC included, and counts it in ARCOUNT. A server answers BADKEY and BADSIG this
 * way, echoing the request's key and algorithm with an empty MAC (RFC 8945 section 5.3.2).
 */
export function appendTsig(message: Buffer, record: TsigRecord): Buffer {
  const encoded = encodeRecord({ name: record.keyName, type: RRType.TSIG, class: RRClass.ANY, ttl: 0, rdata: encodeTsigRdata(record) });
  const signed = Buffer.concat([message, encoded]);
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return signed;
}

function lengthPrefix(mac: Buffer): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(mac.length, 0);
  return prefix;
}

/** The outcome of checking a TSIG-signed message. */
export type TsigCheck =
  | { readonly ok: true; readonly record: TsigRecord }
  | { readonly ok: false; readonly error: 'BADKEY' | 'BADSIG' | 'BADTIME'; readonly record: TsigRecord };

/** Options of a verification. */
export interface VerifyOptions {
  /** Now, in seconds since 1970 (default: the system clock). */
  readonly now?: number;
  /** For a response: the MAC of our request. */
  readonly requestMac?: Buffer;
  /** Skip the time check (the client does for a BADTIME answer, whose point is that the times differ). */
  readonly skipTimeCheck?: boolean;
}

/**
 * Checks a received message's TSIG in the order RFC 8945 section 5.2 gives: key and algorithm (BADKEY), MAC
 * (BADSIG), time within the fudge (BADTIME). `keys` finds a key by canonical name.
 *
 * @example
 * const found = findTsig(decoded);
 * if (found) { const check = verifyMessage(decoded, found, (name) => keys.get(name)); }
 */
export function verifyMessage(
  message: WireMessage,
  found: { record: TsigRecord; start: number },
  keys: (name: string) => PreparedTsigKey | undefined,
  options: VerifyOptions = {},
): TsigCheck {
  const { record, start } = found;
  const key = keys(canonicalName(record.keyName));
  if (key === undefined || key.algorithm !== canonicalName(record.algorithm)) return { ok: false, error: 'BADKEY', record };
  // Only full-length MACs: RFC 8945 allows truncation, but neither this project nor BIND's defaults send it.
  if (record.mac.length !== key.macLength) return { ok: false, error: 'BADSIG', record };
  const unsigned = Buffer.from(message.bytes.subarray(0, start));
  unsigned.writeUInt16BE(record.originalId, 0);
  unsigned.writeUInt16BE(message.additionals.length - 1, 10);
  const parts: Buffer[] = [];
  if (options.requestMac !== undefined) parts.push(lengthPrefix(options.requestMac), options.requestMac);
  parts.push(unsigned, tsigVariables(record));
  const expected = key.hmac(parts);
  if (!timingSafeEqual(expected, record.mac)) return { ok: false, error: 'BADSIG', record };
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (!options.skipTimeCheck && Math.abs(now - record.timeSigned) > record.fudge) return { ok: false, error: 'BADTIME', record };
  return { ok: true, record };
}

/** The numeric TSIG error of a check result. */
export function tsigErrorCode(error: 'BADKEY' | 'BADSIG' | 'BADTIME'): number {
  return TsigErrorCode[error];
}

/** The 48-bit time in a BADTIME answer's other data, in seconds; undefined when absent. */
export function serverTimeOf(record: TsigRecord): number | undefined {
  return record.otherData.length === 6 ? record.otherData.readUIntBE(0, 6) : undefined;
}

/** 48-bit time as other data. */
export function timeAsOtherData(seconds: number): Buffer {
  return uint48(seconds);
}
