/**
 * Fuzzing the decoder and the running embedded server with random and mutated packets: the decoder either decodes
 * or throws its own DnsWireFormatError; the server never crashes, counts what it drops, and still answers a valid
 * query after every bad packet. Fixed seeds; fast-check prints the seed and the shrunk packet on failure.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type RunningDnsServer } from '../src/dns/dnsServer.js';
import { PreparedTsigKey, findTsig, signMessage, type TsigKey } from '../src/dns/tsig.js';
import { buildQueryMessage, buildUpdateMessage, compareAndSwapSections } from '../src/dns/updateMessage.js';
import { DnsWireFormatError, RRType, Rcode, decodeMessage } from '../src/dns/wireFormat.js';

const ZONE = 'fuzz.test';
const KEY: TsigKey = { name: 'fuzz-key', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };
const prepared = new PreparedTsigKey(KEY);

/** Valid messages of every kind the server handles, to mutate. */
const seeds: Buffer[] = [
  buildQueryMessage({ id: 1, name: `app.${ZONE}`, type: RRType.A }),
  signMessage(buildQueryMessage({ id: 2, name: ZONE, type: RRType.SOA }), prepared).message,
  signMessage(
    buildUpdateMessage({ id: 3, zone: ZONE, ...compareAndSwapSections(`app.${ZONE}`, { address: null, txt: 'x' }, { address: '127.0.0.2', txt: 'y' }, 30) }),
    prepared,
  ).message,
  buildUpdateMessage({ id: 4, zone: ZONE, ...compareAndSwapSections(`app.${ZONE}`, {}, { address: null, txt: null }, 30) }),
];

/** A packet: random bytes, or a valid message with bytes flipped, cut, appended, or a header count changed. */
const packet = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 600 }).map((bytes) => Buffer.from(bytes)),
  fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.option(fc.nat(), { nil: undefined }),
      fc.uint8Array({ maxLength: 16 }),
    )
    .map(([seed, flips, cut, tail]) => {
      const bytes = Buffer.from(seed);
      for (const [at, value] of flips) bytes[at % bytes.length] = value;
      const cutAt = cut === undefined ? bytes.length : cut % (bytes.length + 1);
      return Buffer.concat([bytes.subarray(0, cutAt), Buffer.from(tail)]);
    }),
);

describe('the decoder under fuzzing', () => {
  it('decodes or throws DnsWireFormatError, never anything else', () => {
    fc.assert(
      fc.property(packet, (bytes) => {
        try {
          const message = decodeMessage(bytes);
          findTsig(message);
        } catch (error) {
          expect(error).toBeInstanceOf(DnsWireFormatError);
        }
      }),
      { seed: 20260101, numRuns: 5000 },
    );
  });
});

describe('the embedded server under fuzzing', () => {
  let server: RunningDnsServer;
  let socket: Socket;
  let nextId = 1;

  /** Sends a valid query and resolves with its answer; rejects after a deadline. */
  function validQuery(): Promise<number> {
    const id = (nextId = (nextId % 0xfff0) + 1) + 0x8000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.off('message', onMessage);
        reject(new Error('the server did not answer a valid query within 2 s'));
      }, 2000);
      const onMessage = (bytes: Buffer) => {
        try {
          const message = decodeMessage(bytes);
          if (message.id !== id) return;
          clearTimeout(timer);
          socket.off('message', onMessage);
          resolve(message.rcode);
        } catch {
          /* an answer to a fuzz packet that we cannot decode is not ours */
        }
      };
      socket.on('message', onMessage);
      socket.send(buildQueryMessage({ id, name: ZONE, type: RRType.SOA }), server.port, '127.0.0.1');
    });
  }

  beforeAll(async () => {
    server = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY });
    socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    socket?.close();
    await server?.stop();
  });

  it('over UDP: survives every packet, then answers a valid query', async () => {
    await fc.assert(
      fc.asyncProperty(packet, async (bytes) => {
        socket.send(bytes, server.port, '127.0.0.1');
        expect(await validQuery()).toBe(Rcode.NOERROR);
      }),
      { seed: 42, numRuns: 400 },
    );
    expect(server.stats.malformed).toBeGreaterThan(0);
    expect(server.stats.internalErrors).toBe(0);
  });

  it('over TCP: survives streams of framed and unframed garbage, then answers a valid query', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(packet, { minLength: 1, maxLength: 4 }), fc.boolean(), async (packets, framed) => {
        const tcp = connect({ host: '127.0.0.1', port: server.port });
        await new Promise<void>((resolve, reject) => tcp.once('connect', resolve).once('error', reject));
        for (const bytes of packets) {
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(bytes.length, 0);
          tcp.write(framed ? Buffer.concat([prefix, bytes]) : bytes);
        }
        tcp.on('error', () => undefined);
        tcp.end();
        expect(await validQuery()).toBe(Rcode.NOERROR);
      }),
      { seed: 7, numRuns: 100 },
    );
    expect(server.stats.internalErrors).toBe(0);
  });

  it('counts what it drops', async () => {
    const before = server.stats.malformed;
    socket.send(Buffer.from([1, 2, 3]), server.port, '127.0.0.1');
    expect(await validQuery()).toBe(Rcode.NOERROR);
    expect(server.stats.malformed).toBe(before + 1);
  });
});
