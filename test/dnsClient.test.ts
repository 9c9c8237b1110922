/**
 * The DNS client never kills its node: a `dns_server` whose name does not resolve (or resolves too slowly), whose
 * port is out of range, or that refuses or ignores us fails the exchange as `DnsUnreachableError`, never as an
 * exception thrown from a socket callback or a timer; and every failing exchange releases its socket, its timer and
 * its abort listener. Last, a running Primary told over the API to use a name that does not resolve keeps running,
 * with DNS disconnected.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { getEventListeners } from 'node:events';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../src/cli/agctlProcess.js';
import { exchange, parseHostPort, type DnsServerAddress } from '../src/dns/dnsTransport.js';
import { DnsUpdateClient } from '../src/dns/dnsUpdateClient.js';
import { DnsUnreachableError } from '../src/dns/errors.js';
import { resolveServerHost } from '../src/dns/resolveServerHost.js';
import { dnsBudgetMs, SettingsDnsAuthority } from '../src/dns/settingsDnsAuthority.js';
import { buildQueryMessage } from '../src/dns/updateMessage.js';
import { RRType } from '../src/dns/wireFormat.js';
import { loadSettings } from '../src/node/settings.js';
import { startNetworkedGroup, type NetworkedGroup } from './support/networkedGroup.js';

const KEY = { name: 'ag-key.example.test', algorithm: 'hmac-sha256' as const, secret: randomBytes(32).toString('base64') };
const QUERY = buildQueryMessage({ id: 0x1234, name: 'app.example.test.', type: RRType.A });
const UNRESOLVABLE = 'no-such-host.invalid';

/** Rejects after `ms` with a message naming `what`: a test waits with a deadline, never forever. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** How many UDP sockets this process holds open now. */
function openUdpSockets(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'UDPWrap').length;
}

/** Errors that escaped to the process (uncaught exceptions, unhandled rejections) and warnings, while a test runs. */
const escaped: unknown[] = [];
const warnings: Error[] = [];
const onEscape = (error: unknown) => escaped.push(error);
const onWarning = (warning: Error) => warnings.push(warning);
beforeEach(() => {
  escaped.length = 0;
  warnings.length = 0;
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
  process.off('warning', onWarning);
});

/** Lets every callback queued by the exchanges run (socket closes, nextTick warnings), so that what escaped is seen. */
async function drained(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}

const noAnswer = () => undefined;

describe('a dns_server host name', () => {
  it('that does not resolve fails the exchange as DnsUnreachableError naming it, and nothing escapes', async () => {
    const server = parseHostPort(`${UNRESOLVABLE}:53`);
    const failure = await within(5000, 'the exchange', exchange(QUERY, { server, timeoutMs: 2000, retries: 1, accept: noAnswer })).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DnsUnreachableError);
    expect((failure as Error).message).toContain(UNRESOLVABLE);
    await drained();
    expect(escaped).toEqual([]);
  });

  it('whose resolver hangs fails after the attempt timeout, as DnsUnreachableError', async () => {
    const hanging = () => new Promise<string>(() => undefined);
    const started = performance.now();
    const failure = await within(5000, 'the exchange', exchange(QUERY, { server: { host: 'slow.example.test', port: 53 }, timeoutMs: 100, retries: 1, accept: noAnswer, lookup: hanging })).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(DnsUnreachableError);
    expect((failure as Error).message).toMatch(/did not resolve within 100 ms/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('that resolves is used: the exchange goes to the address it names', async () => {
    const server = await udpEcho();
    try {
      const answer = await exchange(QUERY, {
        server: { host: 'dns.example.test', port: server.port },
        timeoutMs: 1000,
        retries: 0,
        accept: (bytes) => ({ result: bytes, truncated: false }),
        lookup: async () => '127.0.0.1',
      });
      expect(answer.result.equals(QUERY)).toBe(true);
      // And the real resolver: localhost is in /etc/hosts.
      expect(await resolveServerHost('localhost', { timeoutMs: 2000 })).toMatch(/^(127\.\d+\.\d+\.\d+|::1)$/);
    } finally {
      server.socket.close();
    }
  });

  it('counts one more attempt into the DNS budget (the lookup), an address none', () => {
    const named = loadSettings({ node_id: 'a', external_ipv4_address: '127.0.0.2', dns_server: 'ns1.example.test:53', health_report_interval: 0.5, health_check_interval: 0.5, allowed_absence_interval: 3 });
    const literal = loadSettings({ node_id: 'a', external_ipv4_address: '127.0.0.2', dns_server: '127.0.0.1:53', health_report_interval: 0.5, health_check_interval: 0.5, allowed_absence_interval: 3 });
    expect(dnsBudgetMs(named)).toBe(dnsBudgetMs(literal) * 1.5);
  });
});

/** A UDP socket on 127.0.0.1 that sends every datagram back. */
async function udpEcho(): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  socket.on('message', (bytes, from) => socket.send(bytes, from.port, from.address));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port };
}

describe('failing exchanges leak nothing', () => {
  let silent: Socket;
  let silentPort: number;
  let closedPort: number;
  beforeAll(async () => {
    silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    silentPort = silent.address().port;
    closedPort = await freePort(['127.0.0.1']);
  });
  afterAll(() => silent.close());

  const ROUNDS = 25;
  const servers: ReadonlyArray<[string, () => DnsServerAddress]> = [
    ['port 0', () => ({ host: '127.0.0.1', port: 0 })],
    ['port 65536', () => ({ host: '127.0.0.1', port: 65536 })],
    ['port 99999', () => ({ host: '127.0.0.1', port: 99999 })],
    ['a name that does not resolve', () => ({ host: UNRESOLVABLE, port: 53 })],
    ['a closed port (refused)', () => ({ host: '127.0.0.1', port: closedPort })],
    ['a server that never answers', () => ({ host: '127.0.0.1', port: silentPort })],
  ];

  it.each(servers)(`%s: ${ROUNDS} exchanges in turn on one signal reject as DnsUnreachableError and release every socket and abort listener`, async (_name, server) => {
    const before = openUdpSockets();
    const closing = new AbortController();
    // One after the other, as a node's heartbeat writes are: a leak would pile up across them.
    for (let round = 0; round < ROUNDS; round++) {
      const failure = await within(5000, 'an exchange', exchange(QUERY, { server: server(), timeoutMs: 20, retries: 1, accept: noAnswer, signal: closing.signal })).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(DnsUnreachableError);
      expect(getEventListeners(closing.signal, 'abort')).toHaveLength(0);
    }
    await waitFor('the exchanges’ UDP sockets to close', () => openUdpSockets() <= before, 5000);
    await drained();
    expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
    expect(escaped).toEqual([]);
  });

  it('an exchange aborted while it waits rejects at once and releases its socket and listener', async () => {
    const before = openUdpSockets();
    const closing = new AbortController();
    const pending = exchange(QUERY, { server: { host: '127.0.0.1', port: silentPort }, timeoutMs: 10_000, retries: 0, accept: noAnswer, signal: closing.signal });
    await waitFor('the exchange to open its socket', () => openUdpSockets() > before, 5000);
    closing.abort();
    await expect(within(2000, 'the aborted exchange', pending)).rejects.toBeInstanceOf(DnsUnreachableError);
    expect(getEventListeners(closing.signal, 'abort')).toHaveLength(0);
    await waitFor('the socket to close', () => openUdpSockets() <= before, 5000);
  });

  it('an accept that throws on an answer does not escape: the answer is ignored', async () => {
    const server = await udpEcho();
    try {
      const failure = await exchange(QUERY, {
        server: { host: '127.0.0.1', port: server.port },
        timeoutMs: 100,
        retries: 0,
        accept: () => {
          throw new RangeError('a parser bug');
        },
      }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(DnsUnreachableError);
      await drained();
      expect(escaped).toEqual([]);
    } finally {
      server.socket.close();
    }
  });

  it('a DNS client on a port out of range: 20 heartbeat writes fail as DnsUnreachableError, without a MaxListenersExceededWarning or an open socket', async () => {
    const before = openUdpSockets();
    const client = new DnsUpdateClient({ server: { host: '127.0.0.1', port: 65536 }, zone: 'example.test', tsig: KEY, timeoutMs: 50, retries: 1 });
    try {
      for (let write = 0; write < 20; write++) {
        const failure = await within(5000, 'a write', client.compareAndSwap('app.example.test', { address: null }, { address: '127.0.0.2' }, { ttl: 30 })).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(DnsUnreachableError);
      }
      await waitFor('the sockets to close', () => openUdpSockets() <= before, 5000);
      await drained();
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
      expect(escaped).toEqual([]);
    } finally {
      client.close();
    }
  });

  it('the node’s DNS authority with a name that does not resolve: reads and writes fail as DnsUnreachableError', async () => {
    const settings = loadSettings({ node_id: 'a', external_ipv4_address: '127.0.0.2', dns_server: `${UNRESOLVABLE}:53`, tsig_name: KEY.name, tsig_secret: KEY.secret, health_report_interval: 0.1, health_check_interval: 0.1, allowed_absence_interval: 1 });
    const errors: unknown[] = [];
    const dns = new SettingsDnsAuthority({ settings: () => settings, onError: (error) => errors.push(error) });
    try {
      await expect(within(5000, 'the read', dns.read('app.example.test'))).rejects.toBeInstanceOf(DnsUnreachableError);
      await expect(within(5000, 'the write', dns.compareAndSwap('app.example.test', { address: null }, { address: '127.0.0.2' }, { ttl: 30 }))).rejects.toBeInstanceOf(DnsUnreachableError);
      expect(errors.every((error) => error instanceof DnsUnreachableError)).toBe(true);
      await drained();
      expect(escaped).toEqual([]);
    } finally {
      dns.close();
    }
  });
});

describe('a running Primary told to use a dns_server that does not resolve', () => {
  let net: NetworkedGroup;
  beforeAll(async () => {
    net = await startNetworkedGroup(['a', 'b']);
    expect((await net.api('a', 'POST', '/group', net.createBody)).status).toBe(201);
    expect((await net.api('b', 'PUT', '/group/members', {})).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await net?.stop();
  });

  /** a's count of DNS requests that failed as unreachable, from its /metrics. */
  async function unreachableCount(): Promise<number> {
    const text = await (await fetch(`${net.running('a').url}/metrics`)).text();
    return Number(/^ag_dns_errors_total\{kind="unreachable"\} (\d+)/m.exec(text)?.[1] ?? 0);
  }

  it('answers 200, keeps running and serving, and reports DNS disconnected; nothing escapes', async () => {
    const changed = await net.api('a', 'PUT', '/group', { dns_server: `${UNRESOLVABLE}:53` });
    expect(changed.status).toBe(200);
    // Its heartbeat writes now fail: the node notices, and says so, instead of dying.
    await waitFor('a to report DNS disconnected', async () => (await net.api('a', 'GET', '/state')).body.node_dns_connection_state === 'disconnected', 15_000, 100);
    // Several more DNS requests fail on the unresolvable name (counted in /metrics); the node keeps answering.
    const failed = await unreachableCount();
    await waitFor('5 more failed DNS requests', async () => (await unreachableCount()) >= failed + 5, 15_000, 100);
    expect((await net.api('a', 'GET', '/state')).status).toBe(200);
    expect(escaped).toEqual([]);
    // Back to a name that works: the node reconnects.
    expect((await net.api('a', 'PUT', '/group', { dns_server: net.dnsServer })).status).toBe(200);
    await waitFor('a to reconnect to DNS', async () => (await net.api('a', 'GET', '/state')).body.node_dns_connection_state === 'connected', 15_000, 100);
    await drained();
    expect(escaped).toEqual([]);
  });
});
