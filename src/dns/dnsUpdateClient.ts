/**
 * The DNS authority port on the wire: reads by direct, TSIG-signed queries to the authoritative server, and
 * compare-and-swaps as TSIG-signed RFC 2136 UPDATEs whose prerequisites are the expectations.
 */
import { randomInt } from 'node:crypto';
import type { Logger } from '../api/logger.js';
import type { GroupRecords } from '../../machines/nodeMachine.types.js';
import type { DnsAuthority, RecordsExpectation, RecordsReplacement, UpdateOptions } from './dnsAuthority.js';
import { exchange, type DnsServerAddress } from './dnsTransport.js';
import {
  DnsClockSkewError,
  DnsError,
  DnsNotAuthorizedError,
  DnsNotInZoneError,
  DnsPrerequisiteFailedError,
  DnsUnreachableError,
} from './errors.js';
import { PreparedTsigKey, findTsig, serverTimeOf, signMessage, verifyMessage, type TsigKey, type TsigRecord } from './tsig.js';
import { buildQueryMessage, buildUpdateMessage, compareAndSwapSections } from './updateMessage.js';
import {
  Opcode,
  RRClass,
  RRType,
  Rcode,
  TsigErrorCode,
  canonicalName,
  decodeA,
  decodeMessage,
  decodeTxt,
  isInZone,
  rcodeName,
  tsigErrorName,
  type WireMessage,
} from './wireFormat.js';

/** Options of a `DnsUpdateClient`. */
export interface DnsUpdateClientOptions {
  /** The authoritative server (BIND, the embedded server, any RFC 2136 server). */
  readonly server: DnsServerAddress;
  /** The zone the group's name is in; found with an SOA query when absent. */
  readonly zone?: string;
  /** The TSIG key every message is signed with. */
  readonly tsig: TsigKey;
  /** Time to wait for an answer to one attempt (default 2000 ms). */
  readonly timeoutMs?: number;
  /** Retransmissions after the first attempt (default 2). */
  readonly retries?: number;
  readonly logger?: Logger;
  /** Wall clock in ms for TSIG times (default `Date.now`); tests shift it to provoke BADTIME. */
  readonly wallClock?: () => number;
}

/** A verified (or harmlessly unverifiable) answer. */
interface Answer {
  readonly message: WireMessage;
  readonly tsig: TsigRecord | null;
}

/** Error rcodes an unsigned answer may carry and still be believed: they can only make a request fail. */
const UNSIGNED_FAILURES: ReadonlySet<number> = new Set([Rcode.FORMERR, Rcode.SERVFAIL, Rcode.NOTIMP, Rcode.REFUSED, Rcode.NOTAUTH, Rcode.NOTZONE]);
const PREREQUISITE_FAILURES: ReadonlySet<number> = new Set([Rcode.NXDOMAIN, Rcode.YXDOMAIN, Rcode.YXRRSET, Rcode.NXRRSET]);

/**
 * The real DNS authority: RFC 2136 + TSIG against an authoritative server over UDP (TCP when truncated).
 *
 * @example
 * const dns = new DnsUpdateClient({ server: { host: '127.0.0.1', port: 5353 }, tsig: { name: 'ag-key', algorithm: 'hmac-sha256', secret } });
 * const records = await dns.read('app.example.test');
 * await dns.compareAndSwap('app.example.test', { address: null, txt: null }, { address: '127.0.0.2', txt: hb }, { ttl: 30 });
 * dns.close();
 */
export class DnsUpdateClient implements DnsAuthority {
  readonly #server: DnsServerAddress;
  readonly #key: PreparedTsigKey;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #logger: Logger | undefined;
  readonly #wallClock: () => number;
  readonly #zones = new Map<string, string>();
  readonly #closing = new AbortController();
  readonly #fixedZone: string | undefined;

  constructor(options: DnsUpdateClientOptions) {
    this.#server = options.server;
    this.#key = new PreparedTsigKey(options.tsig);
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#retries = options.retries ?? 2;
    this.#logger = options.logger;
    this.#wallClock = options.wallClock ?? Date.now;
    this.#fixedZone = options.zone === undefined ? undefined : canonicalName(options.zone);
  }

  async read(fqdn: string): Promise<GroupRecords> {
    const name = canonicalName(fqdn);
    const [a, txt] = await Promise.all([this.#query(name, RRType.A), this.#query(name, RRType.TXT)]);
    const address = firstData(a.message, name, RRType.A);
    const value = firstData(txt.message, name, RRType.TXT);
    return { address: address === null ? null : decodeA(address), txt: value === null ? null : decodeTxt(value) };
  }

  async compareAndSwap(fqdn: string, expectation: RecordsExpectation, replacement: RecordsReplacement, options: UpdateOptions): Promise<void> {
    const name = canonicalName(fqdn);
    const zone = await this.#zoneOf(name);
    if (!isInZone(name, zone)) throw new DnsNotInZoneError('NOTZONE', `${name} is not in zone ${zone}.`);
    const { prerequisites, updates } = compareAndSwapSections(name, expectation, replacement, options.ttl);
    const id = randomInt(0x10000);
    const started = performance.now();
    const { answer, attempts } = await this.#send(buildUpdateMessage({ id, zone, prerequisites, updates }), Opcode.UPDATE, null);
    const { rcode } = answer.message;
    this.#logger?.debug({ fqdn: name, zone, rcode: rcodeName(rcode), attempts, ms: performance.now() - started }, 'DNS update answered');
    if (rcode === Rcode.NOERROR && answer.tsig?.error === 0) return;
    // A retransmission's answer may be about the copy, not the update: an earlier copy may have been applied (this
    // copy then fails its prerequisites), and a server that refuses replayed updates refuses the copy itself.
    const refusedAsReplay = rcode === Rcode.REFUSED && (answer.tsig?.error ?? 0) === 0;
    if (attempts > 1 && (PREREQUISITE_FAILURES.has(rcode) || refusedAsReplay)) {
      if (await this.#alreadyApplied(name, replacement)) {
        this.#logger?.debug({ fqdn: name }, 'DNS update applied by an earlier transmission');
        return;
      }
      if (refusedAsReplay) {
        throw new DnsUnreachableError('The server refused a retransmitted update as a replay and the first copy is not applied: its answer was lost.', { rcode: 'REFUSED' });
      }
    }
    throw errorOf(answer, 'update');
  }

  /** Stops every exchange in flight (they reject with `DnsUnreachableError`) and refuses new ones. */
  close(): void {
    this.#closing.abort();
  }

  async #alreadyApplied(name: string, replacement: RecordsReplacement): Promise<boolean> {
    if (replacement.address === undefined && replacement.txt === undefined) return false;
    const now = await this.read(name);
    return (
      (replacement.address === undefined || replacement.address === now.address) &&
      (replacement.txt === undefined || replacement.txt === now.txt)
    );
  }

  async #zoneOf(name: string): Promise<string> {
    if (this.#fixedZone !== undefined) return this.#fixedZone;
    const known = this.#zones.get(name);
    if (known !== undefined) return known;
    const { message } = await this.#query(name, RRType.SOA);
    // The apex answers with its SOA; a name below it gets the zone's SOA in the authority section.
    const soa = [...message.answers, ...message.authorities].find((record) => record.type === RRType.SOA);
    if (soa === undefined) throw new DnsNotInZoneError(rcodeName(message.rcode), `The server named no zone for ${name}.`);
    const zone = canonicalName(soa.name);
    this.#zones.set(name, zone);
    return zone;
  }

  async #query(name: string, type: number): Promise<Answer> {
    const id = randomInt(0x10000);
    const { answer } = await this.#send(buildQueryMessage({ id, name, type }), Opcode.QUERY, { name, type });
    const { message } = answer;
    if (message.rcode === Rcode.NOERROR || message.rcode === Rcode.NXDOMAIN) {
      if (!message.aa) throw new DnsUnreachableError(`The server is not authoritative for ${name} (AA not set): it would answer from a cache.`);
      return answer;
    }
    if (message.rcode === Rcode.REFUSED && (answer.tsig?.error ?? 0) === 0) {
      throw new DnsNotInZoneError('REFUSED', `The server is not authoritative for ${name} (REFUSED).`);
    }
    throw errorOf(answer, 'query');
  }

  /** Signs, sends, and waits for a response that matches the request and whose signature verifies. */
  async #send(unsigned: Buffer, opcode: number, question: { name: string; type: number } | null): Promise<{ answer: Answer; attempts: number }> {
    if (this.#closing.signal.aborted) throw new DnsUnreachableError('The DNS client is closed.');
    const id = unsigned.readUInt16BE(0);
    const { message: request, mac } = signMessage(unsigned, this.#key, { timeSigned: Math.floor(this.#wallClock() / 1000) });
    const accept = (bytes: Buffer) => {
      const answer = this.#verify(bytes, id, opcode, question, mac);
      return answer === undefined ? undefined : { result: answer, truncated: answer.message.tc };
    };
    const { result, attempts, tcp } = await exchange(request, {
      server: this.#server,
      timeoutMs: this.#timeoutMs,
      retries: this.#retries,
      accept,
      signal: this.#closing.signal,
    });
    this.#logger?.trace({ server: this.#server, opcode, attempts, tcp, rcode: rcodeName(result.message.rcode) }, 'DNS exchange');
    return { answer: result, attempts };
  }

  /** The answer, if `bytes` is a response to our request that we may believe; undefined to ignore it. */
  #verify(bytes: Buffer, id: number, opcode: number, question: { name: string; type: number } | null, requestMac: Buffer): Answer | undefined {
    let message: WireMessage;
    let found: ReturnType<typeof findTsig>;
    try {
      message = decodeMessage(bytes);
      found = findTsig(message);
    } catch {
      this.#logger?.debug({ server: this.#server }, 'ignored a malformed DNS response');
      return undefined;
    }
    if (message.id !== id || !message.qr || message.opcode !== opcode) return undefined;
    if (question !== null) {
      const echoed = message.questions[0];
      if (message.questions.length !== 1 || echoed === undefined || canonicalName(echoed.name) !== question.name || echoed.type !== question.type) {
        return undefined;
      }
    }
    if (found === null) {
      // Unsigned: believed only when it can do no harm (a failure, or a truncation that sends us to TCP).
      return UNSIGNED_FAILURES.has(message.rcode) || message.tc ? { message, tsig: null } : undefined;
    }
    const { record } = found;
    if ((record.error === TsigErrorCode.BADKEY || record.error === TsigErrorCode.BADSIG) && record.mac.length === 0) {
      // RFC 8945 5.3.2: these answers cannot be signed, since the server could not use our key.
      return message.rcode === Rcode.NOTAUTH ? { message, tsig: record } : undefined;
    }
    const check = verifyMessage(message, found, (name) => (name === this.#key.name ? this.#key : undefined), {
      requestMac,
      now: Math.floor(this.#wallClock() / 1000),
      skipTimeCheck: record.error === TsigErrorCode.BADTIME,
    });
    if (!check.ok) {
      this.#logger?.warn({ server: this.#server, tsigError: check.error }, 'ignored a DNS response whose signature does not verify');
      return undefined;
    }
    return { message, tsig: record };
  }
}

/** The first record of `type` at `name` in the answer section, or null. */
function firstData(message: WireMessage, name: string, type: number): Buffer | null {
  for (const record of message.answers) {
    if (record.type === type && record.class === RRClass.IN && canonicalName(record.name) === name) return record.rdata;
  }
  return null;
}

/** The named error for a failed answer. */
function errorOf(answer: Answer, what: 'update' | 'query'): DnsError {
  const { rcode } = answer.message;
  const tsigError = answer.tsig?.error ?? 0;
  if (tsigError === TsigErrorCode.BADTIME) return new DnsClockSkewError(answer.tsig ? serverTimeOf(answer.tsig) : undefined);
  if (tsigError === TsigErrorCode.BADKEY || tsigError === TsigErrorCode.BADSIG) return new DnsNotAuthorizedError(rcodeName(rcode), tsigErrorName(tsigError));
  if (tsigError !== 0) return new DnsNotAuthorizedError(rcodeName(rcode), tsigErrorName(tsigError));
  if (rcode === Rcode.REFUSED) return new DnsNotAuthorizedError('REFUSED');
  if (rcode === Rcode.NOTZONE || rcode === Rcode.NOTAUTH) return new DnsNotInZoneError(rcodeName(rcode));
  if (what === 'update' && PREREQUISITE_FAILURES.has(rcode)) return new DnsPrerequisiteFailedError(rcodeName(rcode));
  if (rcode === Rcode.NOERROR) return new DnsUnreachableError(`The DNS server's ${what} answer was not signed.`, { rcode: 'NOERROR' });
  return new DnsUnreachableError(`The DNS server answered the ${what} with ${rcodeName(rcode)}.`, { rcode: rcodeName(rcode) });
}
