/**
 * A fast UDP query loop: asks one DNS server for the A record of a name every few milliseconds, on one socket,
 * and reports the moment the first answer naming the expected address arrives. With `recursion`, the queries set RD,
 * as a stub resolver's do when it asks a caching resolver.
 */
import { createSocket } from 'node:dgram';
import type { DnsServerAddress } from '../../src/dns/dnsTransport.js';
import { Opcode, RRClass, RRType, canonicalName, decodeA, decodeMessage, encodeMessage, headerFlags } from '../../src/dns/wireFormat.js';

export interface DnsAddressPollOptions {
  readonly server: DnsServerAddress;
  readonly fqdn: string;
  /** The address awaited in the answer (any of them, given several). */
  readonly expected: string | readonly string[];
  /** Milliseconds between queries. */
  readonly everyMs: number;
  /** Set RD (ask a caching resolver to resolve) instead of asking an authority. */
  readonly recursion: boolean;
  /** Rejects when no answer names `expected` within this many milliseconds. */
  readonly deadlineMs: number;
}

/** A running poll: `seen` resolves with `performance.now()` at the first answer naming the address. */
export interface DnsAddressPoll {
  readonly seen: Promise<number>;
  /** Stops querying (also done once `seen` settles). */
  stop(): void;
}

/**
 * Starts querying at once.
 *
 * @example
 * const poll = pollDnsAddress({ server: { host: '127.0.0.1', port: 5353 }, fqdn: 'app.example.test', expected: '127.0.0.3', everyMs: 2, recursion: false, deadlineMs: 20_000 });
 * const seenAt = await poll.seen;
 */
export function pollDnsAddress(options: DnsAddressPollOptions): DnsAddressPoll {
  const name = canonicalName(options.fqdn);
  const wanted: readonly string[] = typeof options.expected === 'string' ? [options.expected] : options.expected;
  const socket = createSocket('udp4');
  let id = 0;
  let stopped = false;
  let interval: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(interval);
    clearTimeout(deadline);
    socket.close();
  };
  const seen = new Promise<number>((resolve, reject) => {
    socket.on('error', (error) => {
      stop();
      reject(error);
    });
    socket.on('message', (bytes) => {
      const at = performance.now();
      let addresses: string[];
      try {
        const message = decodeMessage(bytes);
        if (!message.qr) return;
        addresses = message.answers.filter((answer) => answer.type === RRType.A && canonicalName(answer.name) === name).map((answer) => decodeA(answer.rdata));
      } catch {
        return;
      }
      if (addresses.some((address) => wanted.includes(address))) {
        stop();
        resolve(at);
      }
    });
    deadline = setTimeout(() => {
      stop();
      reject(new Error(`${options.server.host}:${options.server.port} did not answer ${wanted.join(' or ')} for ${name} within ${options.deadlineMs} ms.`));
    }, options.deadlineMs);
    const flags = headerFlags({ opcode: Opcode.QUERY, rd: options.recursion });
    const ask = () => {
      if (stopped) return;
      id = (id + 1) & 0xffff;
      const query = encodeMessage({ id, flags, questions: [{ name, type: RRType.A, class: RRClass.IN }] });
      socket.send(query, options.server.port, options.server.host);
    };
    ask();
    interval = setInterval(ask, options.everyMs);
  });
  return { seen, stop };
}
