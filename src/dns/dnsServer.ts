/**
 * The embedded DNS server: authoritative for one zone over UDP and TCP, answering queries and TSIG-signed RFC 2136
 * updates the way BIND does. The default DNS authority on a single machine (`agctl dns-server`).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server as TcpServer, type Socket as TcpSocket } from 'node:net';
import type { Logger } from '../api/logger.js';
import { ConnectionGate } from '../net/connectionGate.js';
import {
  PreparedTsigKey,
  TSIG_FUDGE,
  appendTsig,
  findTsig,
  signMessage,
  timeAsOtherData,
  tsigErrorCode,
  verifyMessage,
  type TsigKey,
  type TsigRecord,
} from './tsig.js';
import { TsigReplayGuard } from './tsigReplayGuard.js';
import { ZonePersistence } from './zonePersistence.js';
import { ZoneStore, type ZoneChangeRecord } from './zoneStore.js';
import {
  Opcode,
  RRClass,
  RRType,
  Rcode,
  canonicalName,
  decodeMessage,
  encodeMessage,
  headerFlags,
  isInZone,
  rcodeName,
  uncompressedRdata,
  type OutRecord,
  type WireMessage,
} from './wireFormat.js';

/** Options of `startDnsServer`. */
export interface DnsServerOptions {
  /** The zone served, e.g. `example.test`. */
  readonly zone: string;
  /** Address and port for both UDP and TCP; port 0 picks a free one. */
  readonly listen: { readonly host: string; readonly port: number };
  /** The key (or keys) updates must be signed with. */
  readonly tsig: TsigKey | readonly TsigKey[];
  /**
   * JSON file the zone is kept in (loaded at start when it exists): rewritten atomically at start and stop, with
   * each change made durable in a journal next to it (`<file>.jnl`) before the server answers.
   */
  readonly dataFile?: string;
  readonly logger?: Logger;
  /** Wall clock in ms for TSIG time checks (default `Date.now`). */
  readonly wallClock?: () => number;
  /** Limits on DNS-over-TCP connections; each one left out keeps its default ({@link DEFAULT_DNS_TCP_LIMITS}). */
  readonly tcpLimits?: Partial<DnsTcpLimits>;
  /** Signed updates remembered at most to refuse replays (default 10,000; see `TsigReplayGuard`). */
  readonly replayCapacity?: number;
}

/** Limits on the DNS-over-TCP side (RFC 7766 section 6.2 asks servers to protect themselves this way). */
export interface DnsTcpLimits {
  /**
   * A connection is closed when no complete message has arrived for this long (since it opened or since its last
   * message): bytes that trickle in without completing a message do not keep it open.
   */
  readonly idleTimeoutMs: number;
  /** Connections held at once; more are closed at once. */
  readonly maxConnections: number;
  /** Connections held at once from one client address; more are closed at once. */
  readonly maxConnectionsPerAddress: number;
  /** A client that leaves more than this many bytes of answers unread is disconnected. */
  readonly maxUnreadBytes: number;
}

/** The TCP limits used where none are given: BIND's `tcp-clients` (150) and idle timeout (30 s). */
export const DEFAULT_DNS_TCP_LIMITS: DnsTcpLimits = {
  idleTimeoutMs: 30_000,
  maxConnections: 150,
  maxConnectionsPerAddress: 16,
  maxUnreadBytes: 256 * 1024,
};

/** Counters of what the server has seen since it started. */
export interface DnsServerStats {
  /** Messages received, over both transports. */
  received: number;
  /** Responses sent. */
  responses: number;
  queries: number;
  updates: number;
  /** Updates that changed the zone. */
  updatesApplied: number;
  /** Updates answered with a prerequisite failure. */
  prerequisiteFailures: number;
  /** Messages refused: unsigned updates, names outside the zone. */
  refused: number;
  /** Signed messages that failed TSIG verification (BADKEY, BADSIG, BADTIME). */
  tsigFailures: number;
  /** Signed updates refused because the same signed request was accepted before (a replay), answered REFUSED. */
  replaysRefused: number;
  /** TCP connections closed at once because a connection cap was reached. */
  tcpRefused: number;
  /** TCP connections closed by the idle timeout, or for leaving answers unread. */
  tcpClosedIdle: number;
  /** Packets that could not be decoded, dropped without an answer. */
  malformed: number;
  /** Bugs caught at the top of a handler (the server keeps running). */
  internalErrors: number;
}

/** A running embedded server. */
export interface RunningDnsServer {
  readonly address: string;
  readonly port: number;
  readonly zone: string;
  readonly stats: Readonly<DnsServerStats>;
  /** The zone's current SOA serial. */
  serial(): number;
  /** Closes both sockets; resolves when they are closed. */
  stop(): Promise<void>;
}

/** Largest UDP answer without EDNS (RFC 1035). */
const CLASSIC_UDP_SIZE = 512;
/** Largest UDP answer we send whatever the client offers (DNS flag day 2020). */
const MAX_UDP_SIZE = 1232;

/**
 * Starts the embedded server and resolves once both sockets listen. Rejects with `ZoneFileCorruptError` when the
 * data file or its journal holds anything but committed zones (both are then left untouched).
 *
 * @example
 * const server = await startDnsServer({ zone: 'example.test', listen: { host: '127.0.0.1', port: 0 }, tsig: key });
 * // dig @127.0.0.1 -p ${server.port} example.test SOA
 * await server.stop();
 */
export async function startDnsServer(options: DnsServerOptions): Promise<RunningDnsServer> {
  const keys = new Map<string, PreparedTsigKey>();
  for (const key of Array.isArray(options.tsig) ? options.tsig : [options.tsig as TsigKey]) {
    const prepared = new PreparedTsigKey(key);
    keys.set(prepared.name, prepared);
  }
  const zoneName = canonicalName(options.zone);
  const create = () => ZoneStore.create(zoneName, { nameServerAddress: options.listen.host });
  let store: ZoneStore;
  let persistence: ZonePersistence | undefined;
  if (options.dataFile === undefined) store = create();
  else {
    let droppedTail;
    ({ persistence, store, droppedTail } = ZonePersistence.open(options.dataFile, create));
    if (droppedTail !== undefined) {
      options.logger?.warn({ journal: `${options.dataFile}.jnl`, ...droppedTail }, 'dropped a torn last journal line (a crash mid-write; that update was never answered)');
    }
    if (store.zone !== zoneName) {
      persistence.close(store);
      throw new Error(`The data file ${options.dataFile} holds zone ${store.zone}, not ${zoneName}.`);
    }
  }
  let handler: MessageHandler;
  let sockets;
  try {
    handler = new MessageHandler(store, keys, persistence, options);
    sockets = await listen(options.listen, handler);
  } catch (error) {
    persistence?.close(store);
    throw error;
  }
  const { udp, tcp, port } = sockets;
  options.logger?.info({ zone: zoneName, address: options.listen.host, port, keys: [...keys.keys()], serial: store.serial, dataFile: options.dataFile, tcpLimits: handler.tcpLimits }, 'DNS server listening');
  let stopped: Promise<void> | undefined;
  return {
    address: options.listen.host,
    port,
    zone: zoneName,
    stats: handler.stats,
    serial: () => handler.store.serial,
    stop: () =>
      (stopped ??= (async () => {
        await Promise.all([
          new Promise<void>((resolve) => udp.close(() => resolve())),
          new Promise<void>((resolve) => {
            tcp.close(() => resolve());
            for (const socket of handler.connections) socket.destroy();
          }),
        ]);
        persistence?.close(handler.store);
        options.logger?.info({ zone: zoneName, stats: handler.stats }, 'DNS server stopped');
      })()),
  };
}

/** Binds UDP and TCP on the same port; with port 0, retries until one free for both is found. */
async function listen(address: { host: string; port: number }, handler: MessageHandler): Promise<{ udp: UdpSocket; tcp: TcpServer; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const udp = createSocket(isIPv6(address.host) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(address.port, address.host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    const port = udp.address().port;
    const tcp = createServer((socket) => handler.serveTcp(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, address.host, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      udp.close();
      if (address.port === 0 && (error as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 20) continue;
      throw error;
    }
    udp.on('message', (bytes, peer) => {
      const response = handler.handle(bytes, 'udp', peer.address);
      if (response !== null) udp.send(response, peer.port, peer.address);
    });
    udp.on('error', (error) => handler.logger?.error({ err: error }, 'DNS server UDP socket error'));
    tcp.on('error', (error) => handler.logger?.error({ err: error }, 'DNS server TCP socket error'));
    return { udp, tcp, port };
  }
}

/** A decoded request's TSIG state: absent, verified (with the request MAC), or failed. */
type RequestSignature =
  | { readonly kind: 'none' }
  | { readonly kind: 'valid'; readonly key: PreparedTsigKey; readonly record: TsigRecord }
  | { readonly kind: 'failed'; readonly error: 'BADKEY' | 'BADSIG' | 'BADTIME'; readonly key: PreparedTsigKey | undefined; readonly record: TsigRecord };

/** The transport-independent part of the server: one message in, at most one message out. Never throws. */
class MessageHandler {
  store: ZoneStore;
  readonly stats: DnsServerStats = {
    received: 0,
    responses: 0,
    queries: 0,
    updates: 0,
    updatesApplied: 0,
    prerequisiteFailures: 0,
    refused: 0,
    tsigFailures: 0,
    replaysRefused: 0,
    tcpRefused: 0,
    tcpClosedIdle: 0,
    malformed: 0,
    internalErrors: 0,
  };
  readonly connections = new Set<TcpSocket>();
  readonly logger: Logger | undefined;
  readonly #keys: Map<string, PreparedTsigKey>;
  readonly #persistence: ZonePersistence | undefined;
  readonly #wallClock: () => number;
  readonly #replays: TsigReplayGuard;
  readonly #tcpLimits: DnsTcpLimits;
  readonly #gate: ConnectionGate;

  constructor(store: ZoneStore, keys: Map<string, PreparedTsigKey>, persistence: ZonePersistence | undefined, options: DnsServerOptions) {
    this.store = store;
    this.#keys = keys;
    this.#persistence = persistence;
    this.logger = options.logger;
    this.#wallClock = options.wallClock ?? Date.now;
    this.#replays = new TsigReplayGuard(options.replayCapacity === undefined ? {} : { capacity: options.replayCapacity });
    this.#tcpLimits = { ...DEFAULT_DNS_TCP_LIMITS, ...definedOnly(options.tcpLimits ?? {}) };
    for (const name of ['idleTimeoutMs', 'maxUnreadBytes'] as const) {
      const value = this.#tcpLimits[name];
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`tcpLimits.${name} must be a positive integer, got ${String(value)}`);
    }
    this.#gate = new ConnectionGate(this.#tcpLimits, { what: 'DNS server TCP', logger: this.logger });
  }

  /** The TCP limits in force. */
  get tcpLimits(): DnsTcpLimits {
    return this.#tcpLimits;
  }

  /**
   * Serves length-prefixed messages on one TCP connection (RFC 7766), within the connection caps. The idle timer
   * restarts only when a whole message has arrived, so a client trickling bytes is closed like an idle one.
   */
  serveTcp(socket: TcpSocket): void {
    socket.on('error', () => socket.destroy());
    if (!this.#gate.admit(socket)) {
      this.stats.tcpRefused += 1;
      return;
    }
    this.connections.add(socket);
    let buffered: Buffer = Buffer.alloc(0);
    socket.setNoDelay(true);
    const idle = setTimeout(() => {
      this.stats.tcpClosedIdle += 1;
      this.logger?.debug({ peer: socket.remoteAddress, idleTimeoutMs: this.#tcpLimits.idleTimeoutMs, bufferedBytes: buffered.length }, 'closed an idle DNS TCP connection');
      socket.destroy();
    }, this.#tcpLimits.idleTimeoutMs);
    socket.on('close', () => {
      clearTimeout(idle);
      this.connections.delete(socket);
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) return;
        const bytes = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        idle.refresh();
        const response = this.handle(bytes, 'tcp', socket.remoteAddress ?? '?');
        if (response !== null && !socket.destroyed) {
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(response.length, 0);
          socket.write(Buffer.concat([prefix, response]));
          if (socket.writableLength > this.#tcpLimits.maxUnreadBytes) {
            this.stats.tcpClosedIdle += 1;
            this.logger?.debug({ peer: socket.remoteAddress, unreadBytes: socket.writableLength }, 'closed a DNS TCP connection that leaves its answers unread');
            socket.destroy();
            return;
          }
        }
      }
    });
  }

  /** Handles one message: the response to send, or null to send nothing. */
  handle(bytes: Buffer, transport: 'udp' | 'tcp', peer: string): Buffer | null {
    this.stats.received += 1;
    try {
      const response = this.#handle(bytes, transport, peer);
      if (response !== null) this.stats.responses += 1;
      return response;
    } catch (error) {
      this.stats.internalErrors += 1;
      this.logger?.error({ err: error, peer, transport }, 'DNS server failed on a message; dropped it');
      return null;
    }
  }

  #handle(bytes: Buffer, transport: 'udp' | 'tcp', peer: string): Buffer | null {
    let request: WireMessage;
    let found: ReturnType<typeof findTsig>;
    try {
      request = decodeMessage(bytes);
      found = findTsig(request);
    } catch (error) {
      this.stats.malformed += 1;
      this.logger?.debug({ peer, transport, size: bytes.length, reason: (error as Error).message }, 'dropped a malformed DNS packet');
      return null;
    }
    if (request.qr) {
      this.stats.malformed += 1;
      this.logger?.debug({ peer, transport }, 'dropped a DNS response sent to the server');
      return null;
    }
    const signature = this.#checkSignature(request, found);
    const reply = new Reply(request, signature, transport, Math.floor(this.#wallClock() / 1000));
    if (signature.kind === 'failed') {
      this.stats.tsigFailures += 1;
      this.logger?.warn({ peer, transport, keyName: signature.record.keyName, tsigError: signature.error }, 'DNS request failed TSIG verification');
      return reply.error(Rcode.NOTAUTH);
    }
    if (request.opcode === Opcode.QUERY) return this.#query(request, reply);
    if (request.opcode === Opcode.UPDATE) return this.#update(request, reply, signature, peer);
    return reply.error(Rcode.NOTIMP);
  }

  #checkSignature(request: WireMessage, found: ReturnType<typeof findTsig>): RequestSignature {
    if (found === null) return { kind: 'none' };
    const check = verifyMessage(request, found, (name) => this.#keys.get(name), { now: Math.floor(this.#wallClock() / 1000) });
    const key = this.#keys.get(canonicalName(found.record.keyName));
    if (check.ok) return { kind: 'valid', key: key!, record: check.record };
    return { kind: 'failed', error: check.error, key, record: check.record };
  }

  #query(request: WireMessage, reply: Reply): Buffer {
    this.stats.queries += 1;
    const question = request.questions[0];
    if (request.questions.length !== 1 || question === undefined) return reply.error(Rcode.FORMERR);
    const name = canonicalName(question.name);
    if ((question.class !== RRClass.IN && question.class !== RRClass.ANY) || !isInZone(name, this.store.zone)) {
      this.stats.refused += 1;
      return reply.error(Rcode.REFUSED);
    }
    if (question.type === RRType.AXFR || question.type === RRType.IXFR) {
      this.stats.refused += 1;
      return reply.error(Rcode.REFUSED);
    }
    const found = this.store.lookup(name, question.type);
    if (found.kind === 'answer') {
      const answers: OutRecord[] = [];
      for (const { type, rrset } of found.rrsets) {
        for (const rdata of rrset.rdatas) answers.push({ name: question.name, type, class: RRClass.IN, ttl: rrset.ttl, rdata });
      }
      return reply.answer(Rcode.NOERROR, answers, []);
    }
    // Negative answers carry the SOA, with the negative TTL, so resolvers know how long to cache them (RFC 2308).
    const soa: OutRecord = { name: this.store.zone, type: RRType.SOA, class: RRClass.IN, ttl: this.store.negativeTtl(), rdata: this.store.soa().rdatas[0]! };
    return reply.answer(found.kind === 'nxdomain' ? Rcode.NXDOMAIN : Rcode.NOERROR, [], [soa]);
  }

  #update(request: WireMessage, reply: Reply, signature: RequestSignature, peer: string): Buffer {
    this.stats.updates += 1;
    // Like BIND with `allow-update { key ...; }`: only a verified key may update.
    if (signature.kind !== 'valid') {
      this.stats.refused += 1;
      this.logger?.warn({ peer }, 'refused an unsigned DNS update');
      return reply.error(Rcode.REFUSED);
    }
    // A signed update is accepted once: a copy (same MAC, whatever the header ID) is refused, never applied again.
    const verdict = this.#replays.check(signature.key.name, signature.record, Math.floor(this.#wallClock() / 1000));
    if (verdict !== 'fresh') {
      this.stats.replaysRefused += 1;
      this.stats.refused += 1;
      const { originalId, timeSigned } = signature.record;
      this.logger?.warn(
        { peer, transport: reply.transport, keyName: signature.key.name, id: request.id, originalId, timeSigned, reason: verdict },
        verdict === 'replayed' ? 'refused a replayed DNS update' : 'refused a DNS update older than the replay memory',
      );
      return reply.error(Rcode.REFUSED);
    }
    const zone = request.questions[0];
    if (request.questions.length !== 1 || zone === undefined || zone.type !== RRType.SOA) return reply.error(Rcode.FORMERR);
    if (canonicalName(zone.name) !== this.store.zone || zone.class !== RRClass.IN) {
      this.stats.refused += 1;
      return reply.error(Rcode.NOTAUTH);
    }
    let prerequisites: ZoneChangeRecord[];
    let updates: ZoneChangeRecord[];
    try {
      prerequisites = request.answers.map((rr) => changeRecord(request, rr, false));
      updates = request.authorities.map((rr) => changeRecord(request, rr, true));
    } catch {
      return reply.error(Rcode.FORMERR);
    }
    let outcome;
    try {
      const persistence = this.#persistence;
      outcome = this.store.update(prerequisites, updates, persistence === undefined ? undefined : (next) => persistence.commit(next));
    } catch (error) {
      this.logger?.error({ err: error, dataFile: this.#persistence?.path }, 'could not persist the zone; update abandoned');
      return reply.error(Rcode.SERVFAIL);
    }
    if (outcome.changed) {
      this.stats.updatesApplied += 1;
      this.logger?.info({ peer, keyName: signature.key.name, serial: this.store.serial, names: [...new Set(updates.map((rr) => rr.name))] }, 'DNS update applied');
    } else if (outcome.rcode !== Rcode.NOERROR) {
      if (outcome.rcode === Rcode.NXRRSET || outcome.rcode === Rcode.YXRRSET || outcome.rcode === Rcode.NXDOMAIN || outcome.rcode === Rcode.YXDOMAIN) {
        this.stats.prerequisiteFailures += 1;
      }
      this.logger?.info({ peer, keyName: signature.key.name, rcode: rcodeName(outcome.rcode) }, 'DNS update not applied');
    }
    return reply.error(outcome.rcode);
  }
}

/** `partial` without the keys whose value is undefined, so that spreading it over defaults keeps them. */
function definedOnly<T extends object>(partial: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** A prerequisite or update record with its data in storage form (names decompressed); throws when malformed. */
function changeRecord(request: WireMessage, rr: WireMessage['answers'][number], isUpdate: boolean): ZoneChangeRecord {
  // Records that only name a type (class ANY, and class NONE prerequisites) have no data to interpret.
  const hasData = rr.class === RRClass.IN || (isUpdate && rr.class === RRClass.NONE);
  const rdata = hasData && rr.type !== RRType.ANY ? uncompressedRdata(request.bytes, rr) : Buffer.from(rr.rdata);
  return { name: canonicalName(rr.name), type: rr.type, class: rr.class, ttl: rr.ttl, rdata };
}

/** Builds the response to one request: header, echoed question, EDNS, and the TSIG the request calls for. */
class Reply {
  readonly #request: WireMessage;
  readonly #signature: RequestSignature;
  readonly transport: 'udp' | 'tcp';
  readonly #now: number;
  readonly #udpSize: number;
  readonly #edns: boolean;

  constructor(request: WireMessage, signature: RequestSignature, transport: 'udp' | 'tcp', now: number) {
    this.#request = request;
    this.#signature = signature;
    this.transport = transport;
    this.#now = now;
    const opt = request.additionals.find((rr) => rr.type === RRType.OPT);
    this.#edns = opt !== undefined;
    this.#udpSize = opt === undefined ? CLASSIC_UDP_SIZE : Math.min(MAX_UDP_SIZE, Math.max(CLASSIC_UDP_SIZE, opt.class));
  }

  /** A response with no records besides the question (update answers and errors). */
  error(rcode: number): Buffer {
    return this.answer(rcode, [], [], false);
  }

  answer(rcode: number, answers: OutRecord[], authorities: OutRecord[], authoritative = true): Buffer {
    const full = this.#build(rcode, answers, authorities, authoritative, false);
    if (this.transport === 'tcp' || full.length <= this.#udpSize) return full;
    // Too big for this datagram: send the header and question with TC set, so the client retries over TCP.
    return this.#build(rcode, [], [], authoritative, true);
  }

  #build(rcode: number, answers: OutRecord[], authorities: OutRecord[], authoritative: boolean, truncated: boolean): Buffer {
    const request = this.#request;
    const additionals: OutRecord[] = [];
    if (this.#edns) additionals.push({ name: '', type: RRType.OPT, class: MAX_UDP_SIZE, ttl: 0, rdata: Buffer.alloc(0) });
    const message = encodeMessage({
      id: request.id,
      flags: headerFlags({ qr: true, opcode: request.opcode, aa: authoritative && rcode !== Rcode.REFUSED, tc: truncated, rd: request.rd, rcode }),
      questions: request.questions.slice(0, 1),
      answers,
      authorities,
      additionals,
    });
    const signature = this.#signature;
    if (signature.kind === 'none') return message;
    if (signature.kind === 'valid') {
      return signMessage(message, signature.key, { timeSigned: this.#now, requestMac: signature.record.mac }).message;
    }
    if (signature.error === 'BADTIME' && signature.key !== undefined) {
      // Signed (the key is good) with the request's time, and our time in the other data (RFC 8945 5.2.3).
      return signMessage(message, signature.key, {
        timeSigned: signature.record.timeSigned,
        requestMac: signature.record.mac,
        error: tsigErrorCode('BADTIME'),
        otherData: timeAsOtherData(this.#now),
      }).message;
    }
    // BADKEY and BADSIG: we cannot (or must not) sign; echo key and algorithm with an empty MAC (RFC 8945 5.3.2).
    return appendTsig(message, {
      keyName: signature.record.keyName,
      algorithm: signature.record.algorithm,
      timeSigned: signature.record.timeSigned,
      fudge: TSIG_FUDGE,
      mac: Buffer.alloc(0),
      originalId: signature.record.originalId,
      error: tsigErrorCode(signature.error),
      otherData: Buffer.alloc(0),
    });
  }
}
