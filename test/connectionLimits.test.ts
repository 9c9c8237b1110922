/**
 * Connection limits of the two servers a group runs: the embedded DNS server's TCP side and a node's HTTP server.
 * Idle and slow clients are closed after the configured timeouts (a client that trickles bytes is as idle as a
 * silent one), connections beyond the caps per client address and per server are closed at once, and a group keeps
 * heartbeating and answering `GET /state` while 1,000 slow clients per server keep coming back.
 *
 * Slow clients connect from their own loopback addresses (127.0.0.1xx), so that the per-address caps meet them and
 * not the nodes' own traffic, as on a real network.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { execFileSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../src/api/errors.js';
import { freePort } from '../src/cli/agctlProcess.js';
import { startDnsServer, type RunningDnsServer } from '../src/dns/dnsServer.js';
import type { TsigKey } from '../src/dns/tsig.js';
import { buildQueryMessage } from '../src/dns/updateMessage.js';
import { RRType, Rcode, decodeMessage } from '../src/dns/wireFormat.js';
import { httpConnectionLimitsFromEnv, resolveHttpConnectionLimits, type HttpConnectionLimits } from '../src/http/httpConnectionLimits.js';
import { startNetworkedNode, type NetworkedNode } from '../src/http/networkedNode.js';
import { silentLogger } from '../src/api/logger.js';
import { rawQuery } from './support/dnsWire.js';
import { exchangeTcpForTests } from './support/tcpExchange.js';
import { TEST_PORTS, startCluster, waitFor, type TestCluster } from './support/processes.js';

const ZONE = 'limits.test';
const KEY: TsigKey = { name: 'ag-key', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };
const TOKEN = 'api-token-limits-0123456789';

/** A client connection and what became of it. */
interface Tracked {
  readonly socket: Socket;
  readonly source: string;
  readonly openedAt: number;
  closedAt: number | null;
  received: Buffer;
}

/** Connects from `source` to `target`; resolves once connected. */
function open(target: { host: string; port: number }, source: string): Promise<Tracked> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port, localAddress: source });
    const tracked: Tracked = { socket, source, openedAt: 0, closedAt: null, received: Buffer.alloc(0) };
    socket.on('data', (chunk: Buffer) => (tracked.received = Buffer.concat([tracked.received, chunk])));
    socket.on('close', () => (tracked.closedAt = performance.now()));
    socket.on('error', () => undefined);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      (tracked as { openedAt: number }).openedAt = performance.now();
      resolve(tracked);
    });
  });
}

/** Resolves with how long `tracked` was open once the server closed it; rejects after `deadlineMs`. */
function lifetime(tracked: Tracked, deadlineMs: number): Promise<number> {
  return waitFor(`the server to close a connection from ${tracked.source}`, () => (tracked.closedAt === null ? undefined : tracked.closedAt - tracked.openedAt), deadlineMs, 10);
}

/** A DNS query framed for TCP (RFC 7766). */
function framedQuery(id: number): Buffer {
  const message = buildQueryMessage({ id, name: ZONE, type: RRType.SOA });
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(message.length, 0);
  return Buffer.concat([prefix, message]);
}

/** Sends a query over an open connection and resolves with the answer's rcode; rejects if the connection closes first. */
async function askOver(tracked: Tracked, id: number): Promise<number> {
  const before = tracked.received.length;
  tracked.socket.write(framedQuery(id));
  const frame = await waitFor(`an answer over the connection from ${tracked.source}`, () => {
    const fresh = tracked.received.subarray(before);
    if (fresh.length >= 2 && fresh.length >= 2 + fresh.readUInt16BE(0)) return fresh.subarray(2, 2 + fresh.readUInt16BE(0));
    if (tracked.closedAt !== null) throw new Error(`the server closed the connection from ${tracked.source} without answering`);
    return undefined;
  }, 5000, 5);
  const answer = decodeMessage(Buffer.from(frame));
  expect(answer.id).toBe(id);
  return answer.rcode;
}

function destroyAll(connections: readonly Tracked[]): void {
  for (const connection of connections) connection.socket.destroy();
}

describe('DNS over TCP', () => {
  let server: RunningDnsServer | undefined;
  const connections: Tracked[] = [];
  afterAll(async () => {
    destroyAll(connections);
    await server?.stop();
  });

  it('closes a silent and a trickling connection after the idle timeout; one that keeps sending whole messages stays', async () => {
    server = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY, tcpLimits: { idleTimeoutMs: 500 } });
    const target = { host: '127.0.0.1', port: server.port };
    const silent = await open(target, '127.0.0.111');
    const trickling = await open(target, '127.0.0.111');
    const active = await open(target, '127.0.0.111');
    connections.push(silent, trickling, active);
    // A length prefix announcing 256 bytes, then one byte every 50 ms: the message never completes.
    trickling.socket.write(Buffer.from([0x01, 0x00]));
    const trickle = setInterval(() => trickling.socket.write(Buffer.from([0x41])), 50);
    // Meanwhile the active client asks every 100 ms, for well over four idle timeouts.
    const asking = (async () => {
      const rcodes: number[] = [];
      for (let i = 1; i <= 25; i++) {
        rcodes.push(await askOver(active, i));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return rcodes;
    })();
    try {
      const [silentMs, tricklingMs] = await Promise.all([lifetime(silent, 10_000), lifetime(trickling, 10_000)]);
      for (const ms of [silentMs, tricklingMs]) {
        expect(ms).toBeGreaterThanOrEqual(450);
        expect(ms).toBeLessThan(500 + 4000);
      }
      expect(await asking).toEqual(Array.from({ length: 25 }, () => Rcode.NOERROR));
      expect(active.closedAt).toBeNull();
      expect(server.stats.tcpClosedIdle).toBe(2);
    } finally {
      clearInterval(trickle);
    }
  });
});

describe('DNS over TCP caps', () => {
  let server: RunningDnsServer | undefined;
  const connections: Tracked[] = [];
  afterAll(async () => {
    destroyAll(connections);
    await server?.stop();
  });

  it('holds at most maxConnectionsPerAddress from one address and maxConnections in all; UDP is still answered', async () => {
    server = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY, tcpLimits: { maxConnections: 6, maxConnectionsPerAddress: 4 } });
    const target = { host: '127.0.0.1', port: server.port };
    const first = await Promise.all(Array.from({ length: 10 }, () => open(target, '127.0.0.112')));
    connections.push(...first);
    await waitFor('6 of 10 connections from one address closed', () => first.filter((c) => c.closedAt !== null).length === 6, 5000);
    const kept = first.filter((c) => c.closedAt === null);
    for (const [i, connection] of kept.entries()) expect(await askOver(connection, 100 + i)).toBe(Rcode.NOERROR);

    // Another address gets what is left of the server's cap (2), no more.
    const second = await Promise.all(Array.from({ length: 5 }, () => open(target, '127.0.0.113')));
    connections.push(...second);
    await waitFor('3 of 5 connections from a second address closed', () => second.filter((c) => c.closedAt !== null).length === 3, 5000);
    for (const [i, connection] of second.filter((c) => c.closedAt === null).entries()) expect(await askOver(connection, 200 + i)).toBe(Rcode.NOERROR);
    const third = await open(target, '127.0.0.114');
    connections.push(third);
    await lifetime(third, 5000);
    expect((await rawQuery(target, ZONE, RRType.SOA)).rcode).toBe(Rcode.NOERROR);

    // Room again once connections close.
    destroyAll(kept);
    const fourth = await waitFor('a connection admitted after others closed', async () => {
      const connection = await open(target, '127.0.0.114');
      connections.push(connection);
      try {
        return (await askOver(connection, 300)) === Rcode.NOERROR ? connection : undefined;
      } catch {
        return undefined;
      }
    }, 5000, 20);
    expect(fourth.closedAt).toBeNull();
    expect(server.stats.tcpRefused).toBeGreaterThanOrEqual(6 + 3 + 1);
  });
});

/** `text` if it holds a whole HTTP response (headers and Content-Length bytes of body), else undefined. */
function wholeResponse(text: string): string | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
  return Buffer.byteLength(text.slice(end + 4)) >= length ? text : undefined;
}

/** GET /ag/api/v1/state with the API token from `source`; resolves with the status, headers and body, or rejects. */
function get(url: string, source: string, options: { token?: string; timeoutMs?: number } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const path = '/ag/api/v1/state';
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${url}${path}`, { headers: { authorization: `Bearer ${options.token ?? TOKEN}` }, localAddress: source, agent: false, timeout: timeoutMs }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url}${path} within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end();
  });
}

describe('a node’s HTTP server', () => {
  let dns: RunningDnsServer;
  let running: NetworkedNode | undefined;
  let url = '';
  const connections: Tracked[] = [];
  const address = '127.0.0.5';

  beforeAll(async () => {
    dns = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY });
  });
  afterAll(async () => {
    destroyAll(connections);
    await running?.stop({ handOver: false });
    await dns.stop();
  });


  async function startNode(connectionLimits: Partial<HttpConnectionLimits>) {
    destroyAll(connections.splice(0));
    await running?.stop({ handOver: false });
    const port = await freePort([address], TEST_PORTS);
    running = await startNetworkedNode(
      { node_id: 'n', external_ipv4_address: address, external_port: port, dns_server: `127.0.0.1:${dns.port}`, api_token: TOKEN, peer_secret: 'peer-secret-limits-0123456789' },
      { logger: silentLogger(), processMetrics: false, connectionLimits },
    );
    url = running.url;
    return { host: address, port };
  }

  it('answers 408 and closes a silent client, one trickling its headers and one trickling its body; closes an idle keep-alive connection', async () => {
    const target = await startNode({ headersTimeoutMs: 600, requestTimeoutMs: 1200, keepAliveTimeoutMs: 800, connectionTimeoutMs: 10_000 });
    const silent = await open(target, '127.0.0.121');
    const headers = await open(target, '127.0.0.121');
    const body = await open(target, '127.0.0.121');
    const keepAlive = await open(target, '127.0.0.121');
    connections.push(silent, headers, body, keepAlive);
    const header = `GET /ag/api/v1/state HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(500)}`;
    let at = 0;
    body.socket.write(`POST /ag/api/v1/failover HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`);
    const trickle = setInterval(() => {
      headers.socket.write(header[at++ % header.length]!);
      body.socket.write(' ');
    }, 50);
    keepAlive.socket.write(`GET /ag/api/v1/state HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
    try {
      await waitFor('the keep-alive answer', () => keepAlive.received.toString().includes('\r\n\r\n{'), 5000);
      const answeredAt = performance.now();
      const [silentMs, headersMs, bodyMs] = await Promise.all([lifetime(silent, 10_000), lifetime(headers, 10_000), lifetime(body, 10_000)]);
      for (const ms of [silentMs, headersMs]) {
        expect(ms).toBeGreaterThanOrEqual(550);
        expect(ms).toBeLessThan(600 + 4000);
      }
      expect(bodyMs).toBeGreaterThanOrEqual(1100);
      expect(bodyMs).toBeLessThan(1200 + 4000);
      for (const connection of [silent, headers, body]) expect(connection.received.toString()).toMatch(/^HTTP\/1\.1 408 /);
      await lifetime(keepAlive, 10_000);
      expect(keepAlive.closedAt! - answeredAt).toBeLessThan(800 + 4000);
      expect(keepAlive.received.toString()).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      clearInterval(trickle);
    }
  });

  it('holds at most maxConnectionsPerAddress from one address and maxConnections in all; other addresses are still served', async () => {
    const target = await startNode({ maxConnections: 8, maxConnectionsPerAddress: 5 });
    const first = await Promise.all(Array.from({ length: 10 }, () => open(target, '127.0.0.122')));
    connections.push(...first);
    await waitFor('5 of 10 connections from one address closed', () => first.filter((c) => c.closedAt !== null).length === 5, 5000);
    expect((await get(url, '127.0.0.1')).status).toBe(200);
    // The 5 kept ones are served.
    for (const connection of first.filter((c) => c.closedAt === null)) connection.socket.write(`GET /ag/api/v1/state HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
    await waitFor('answers on the 5 kept connections', () => first.every((c) => c.closedAt !== null || c.received.toString().startsWith('HTTP/1.1 200 ')), 5000);

    const second = await Promise.all(Array.from({ length: 5 }, () => open(target, '127.0.0.123')));
    connections.push(...second);
    await waitFor('2 of 5 connections from a second address closed (8 in all)', () => second.filter((c) => c.closedAt !== null).length === 2, 5000);
    await expect(get(url, '127.0.0.124')).rejects.toThrow();
    destroyAll(first);
    const answer = await waitFor('GET /state once connections closed', () => get(url, '127.0.0.124').catch(() => undefined), 5000, 20);
    expect(answer.status).toBe(200);
  });

  it('ends keep-alive after maxRequestsPerSocket requests on one connection', async () => {
    const target = await startNode({ maxRequestsPerSocket: 3 });
    const connection = await open(target, '127.0.0.125');
    connections.push(connection);
    const answers: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const before = connection.received.length;
      connection.socket.write(`GET /ag/api/v1/state HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
      answers.push(await waitFor(`answer ${i}`, () => wholeResponse(connection.received.subarray(before).toString()), 5000));
    }
    expect(answers[1]).toMatch(/^HTTP\/1\.1 200 [^]*\r\nConnection: keep-alive\r\n/i);
    expect(answers[2]).toMatch(/^HTTP\/1\.1 200 [^]*\r\nConnection: close\r\n/i);
    // A client that goes on anyway is turned away.
    expect(answers[3]).toMatch(/^HTTP\/1\.1 503 /);
  });
});

describe('a node’s HTTP server', () => {
  it('stops within a second or so though slow clients are still connected', async () => {
    const dns = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY });
    const address = '127.0.0.6';
    const port = await freePort([address], TEST_PORTS);
    const node = await startNetworkedNode(
      { node_id: 'n', external_ipv4_address: address, external_port: port, dns_server: `127.0.0.1:${dns.port}`, api_token: TOKEN, peer_secret: 'peer-secret-limits-0123456789' },
      { logger: silentLogger(), processMetrics: false },
    );
    const silent = await open({ host: address, port }, '127.0.0.126');
    const partial = await open({ host: address, port }, '127.0.0.126');
    partial.socket.write('GET /ag/api/v1/state HTTP/1.1\r\nHost');
    expect((await get(node.url, '127.0.0.1')).status).toBe(200);
    try {
      const started = performance.now();
      let stopMs: number | undefined;
      void node.stop({ handOver: false }).then(() => (stopMs = performance.now() - started));
      // With the default 10 s headers timeout, only the stop itself can close these two within the deadline.
      await waitFor('the node to stop', () => stopMs, 8000, 20);
      await Promise.all([lifetime(silent, 5000), lifetime(partial, 5000)]);
    } finally {
      destroyAll([silent, partial]);
      await dns.stop();
    }
  });
});

describe('the limits’ settings', () => {
  it('reads AG_HTTP_* variables, timeouts in seconds', () => {
    expect(httpConnectionLimitsFromEnv({ AG_HTTP_HEADERS_TIMEOUT: '2.5', AG_HTTP_MAX_CONNECTIONS: '10', AG_HTTP_KEEP_ALIVE_TIMEOUT: '' })).toEqual({ headersTimeoutMs: 2500, maxConnections: 10 });
    expect(resolveHttpConnectionLimits({ maxConnectionsPerAddress: 3 })).toMatchObject({ maxConnectionsPerAddress: 3, maxConnections: 512, headersTimeoutMs: 10_000 });
  });

  it('refuses a bad value, naming the variable', () => {
    expect(() => httpConnectionLimitsFromEnv({ AG_HTTP_MAX_CONNECTIONS: '0', AG_HTTP_REQUEST_TIMEOUT: 'soon' })).toThrow(SettingsError);
    expect(() => httpConnectionLimitsFromEnv({ AG_HTTP_MAX_CONNECTIONS: '1.5' })).toThrow(/AG_HTTP_MAX_CONNECTIONS: must be a whole number above 0/);
    expect(() => httpConnectionLimitsFromEnv({ AG_HTTP_REQUEST_TIMEOUT: 'soon' })).toThrow(/AG_HTTP_REQUEST_TIMEOUT: must be seconds/);
    expect(() => resolveHttpConnectionLimits({ headersTimeoutMs: 5000, requestTimeoutMs: 1000 })).toThrow(/AG_HTTP_HEADERS_TIMEOUT: must not exceed AG_HTTP_REQUEST_TIMEOUT/);
  });
});

/**
 * Slow clients that keep coming back: `count` connections from `sources`, each sending `first` and then one more
 * byte a second, never finishing a request; a connection the server closes is opened again after 4-6 s.
 */
class SlowSwarm {
  /** How long each connection the server closed had been open, ms. */
  readonly lifetimes: number[] = [];
  connects = 0;
  readonly #open = new Set<Tracked>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #running = true;
  readonly #tick: NodeJS.Timeout;

  constructor(
    readonly name: string,
    readonly target: { host: string; port: number },
    readonly sources: readonly string[],
    readonly count: number,
    readonly first: Buffer,
  ) {
    this.#tick = setInterval(() => {
      for (const connection of this.#open) if (connection.openedAt > 0) connection.socket.write('a');
    }, 1000);
  }

  /** Opens the connections, 50 at a time so that the servers' accept queues do not overflow. */
  async start(): Promise<void> {
    for (let i = 0; i < this.count; i++) {
      this.#connect(this.sources[i % this.sources.length]!);
      if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Connections open now (connected and not closed by the server) for at least `ms`. */
  openFor(ms: number): number {
    const since = performance.now() - ms;
    return [...this.#open].filter((connection) => connection.openedAt > 0 && connection.openedAt <= since).length;
  }

  /** How long the oldest connection still open has been open, ms. */
  oldestOpenMs(): number {
    const now = performance.now();
    return Math.max(0, ...[...this.#open].filter((connection) => connection.openedAt > 0).map((connection) => now - connection.openedAt));
  }

  stop(): void {
    this.#running = false;
    clearInterval(this.#tick);
    for (const timer of this.#timers) clearTimeout(timer);
    for (const connection of this.#open) connection.socket.destroy();
  }

  #connect(source: string): void {
    this.connects += 1;
    const socket = connect({ host: this.target.host, port: this.target.port, localAddress: source });
    const connection: Tracked = { socket, source, openedAt: 0, closedAt: null, received: Buffer.alloc(0) };
    this.#open.add(connection);
    socket.on('connect', () => {
      (connection as { openedAt: number }).openedAt = performance.now();
      socket.write(this.first);
    });
    // Read what the server says (a 408): a paused socket would not notice the server closing it.
    socket.resume();
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#open.delete(connection);
      if (!this.#running) return;
      if (connection.openedAt > 0) this.lifetimes.push(performance.now() - connection.openedAt);
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (this.#running) this.#connect(source);
      }, 4000 + Math.random() * 2000);
      this.#timers.add(timer);
    });
  }
}

/** Lowers a process's file descriptor limit, as most systems set it (soft 1,024). */
function limitFileDescriptors(pid: number, limit: number): void {
  execFileSync('prlimit', ['--pid', String(pid), `--nofile=${limit}:${limit}`]);
}

/**
 * Makes sure this process may hold `needed` descriptors (its slow clients): raises the soft limit up to the hard one
 * when it is lower (a shell's usual 1,024), and fails saying so when the hard limit is too low.
 */
function ensureOwnFileDescriptors(needed: number): void {
  const [soft, hard] = execFileSync('prlimit', ['--pid', String(process.pid), '--nofile', '--output', 'SOFT,HARD', '--noheadings'], { encoding: 'utf8' })
    .trim()
    .split(/\s+/)
    .map((value) => (value === 'unlimited' ? Infinity : Number(value)));
  if (soft! >= needed) return;
  if (hard! < needed) throw new Error(`this test holds ${needed} sockets, but the hard file descriptor limit is ${hard} (ulimit -Hn)`);
  execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${needed}:${hard === Infinity ? 'unlimited' : hard}`]);
}

describe('a group under 1,000 slow clients per server', () => {
  const HEADERS_TIMEOUT_S = 2;
  const DNS_IDLE_S = 2;
  let cluster: TestCluster | undefined;
  const swarms: SlowSwarm[] = [];
  afterAll(async () => {
    for (const swarm of swarms) swarm.stop();
    await cluster?.stop();
  });

  it('keeps heartbeating and answering GET /state; slow connections are closed after the timeouts or at once', async () => {
    cluster = await startCluster('embedded', { heartbeat: 0.5, check: 0.5, absence: 3 }, {
      form: true,
      nodeEnv: {
        AG_HTTP_HEADERS_TIMEOUT: String(HEADERS_TIMEOUT_S),
        AG_HTTP_REQUEST_TIMEOUT: '4',
        AG_HTTP_MAX_CONNECTIONS: '200',
        AG_HTTP_MAX_CONNECTIONS_PER_ADDRESS: '16',
      },
      dnsArgs: ['--tcp-idle-timeout', String(DNS_IDLE_S), '--max-tcp-connections', '100', '--max-tcp-per-address', '16'],
    });
    const { a, b, dns } = cluster;
    ensureOwnFileDescriptors(4096);
    // The usual per-process limit: 1,000 connections held would use up a process's descriptors.
    for (const pid of [a.process!.pid, b.process!.pid, dns.pid!]) limitFileDescriptors(pid, 1024);
    const sources = ['127.0.0.101', '127.0.0.102'];
    const slowRequest = Buffer.from('GET /ag/api/v1/state HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    swarms.push(
      new SlowSwarm('http a', { host: a.address, port: a.port }, sources, 1000, slowRequest),
      new SlowSwarm('http b', { host: b.address, port: b.port }, sources, 1000, slowRequest),
      // A length prefix announcing 256 bytes that never all come.
      new SlowSwarm('dns tcp', { host: dns.host, port: dns.port }, sources, 1000, Buffer.from([0x01, 0x00])),
    );
    await Promise.all(swarms.map((swarm) => swarm.start()));

    const lastHeartbeats = new Set<string>();
    const latencies: number[] = [];
    const failures: string[] = [];
    const txtSeen = new Set<string>();
    let tcpAnswers = 0;
    const windowMs = 20_000;
    const until = performance.now() + windowMs;
    let round = 0;
    const openSamples = new Map(swarms.map((swarm) => [swarm, [] as number[]]));
    while (performance.now() < until) {
      round += 1;
      // What the servers hold: connections open for a second or more (a refused one is closed as soon as the server
      // takes it from the accept queue, which may take a moment while 1,000 come at once).
      for (const swarm of swarms) openSamples.get(swarm)!.push(swarm.openFor(1000));
      const started = performance.now();
      const [stateA, stateB] = await Promise.all(
        [a, b].map((node) =>
          get(node.url, '127.0.0.1', { token: node.token, timeoutMs: 5000 }).then(
            (answer) => (answer.status === 200 ? (JSON.parse(answer.body) as Record<string, unknown>) : (failures.push(`${node.id}: ${answer.status}`), null)),
            (error: unknown) => (failures.push(`${node.id}: ${(error as Error).message}`), null),
          ),
        ),
      );
      latencies.push(performance.now() - started);
      if (stateA != null && stateA.acting_primary !== true) failures.push(`a is not acting Primary: ${JSON.stringify(stateA)}`);
      if (stateB != null) {
        if (stateB.node_role !== 'secondary' || stateB.heartbeat_method !== 'direct') failures.push(`b: ${stateB.node_role} ${String(stateB.heartbeat_method)}`);
        lastHeartbeats.add(String(stateB.last_heartbeat_time));
      }
      if (round % 4 === 0) {
        // The group's records over UDP, and a query over TCP from an address the slow clients do not use.
        const records = await cluster.records().catch((error: unknown) => (failures.push(`dns udp: ${(error as Error).message}`), null));
        if (records?.txt) txtSeen.add(records.txt);
        const query = buildQueryMessage({ id: round, name: dns.zone, type: RRType.SOA });
        const tcp = await exchangeTcpForTests({ host: dns.host, port: dns.port }, query, (bytes) => ({ result: decodeMessage(bytes) }), 3000).catch(
          (error: unknown) => (failures.push(`dns tcp: ${(error as Error).message}`), null),
        );
        if (tcp?.rcode === Rcode.NOERROR) tcpAnswers += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    const summary = swarms.map((swarm) => ({
      swarm: swarm.name,
      connects: swarm.connects,
      openNow: swarm.openFor(0),
      closedAtOnce: swarm.lifetimes.filter((ms) => ms < 500).length,
      longestClosedMs: Math.round(Math.max(0, ...swarm.lifetimes)),
      oldestOpenMs: Math.round(swarm.oldestOpenMs()),
      mostHeld: Math.max(...openSamples.get(swarm)!),
    }));
    console.info(JSON.stringify({ rounds: round, stateLatencyMaxMs: Math.round(Math.max(...latencies)), heartbeatsSeenByB: lastHeartbeats.size, txtValues: txtSeen.size, tcpAnswers, summary }));

    expect(failures).toEqual([]);
    // Heartbeats kept arriving, directly and through DNS (every 0.5 s; allow for a loaded machine).
    expect(lastHeartbeats.size).toBeGreaterThanOrEqual(windowMs / 500 / 3);
    expect(txtSeen.size).toBeGreaterThanOrEqual(3);
    expect(tcpAnswers).toBeGreaterThanOrEqual(3);
    for (const swarm of swarms) {
      // Every slow connection was closed: many at once (the caps), the rest after the timeout (2 s, checked every
      // 0.5 s). Measured by the clients, so the margin covers a loaded machine (a connection waits in the accept queue
      // before the server sees it, the close waits for the client's event loop); without limits they live as long as
      // the whole window.
      const limitMs = (swarm.name === 'dns tcp' ? DNS_IDLE_S : HEADERS_TIMEOUT_S) * 1000 + 8000;
      expect(swarm.lifetimes.length).toBeGreaterThan(swarm.count);
      expect(Math.max(...swarm.lifetimes)).toBeLessThan(limitMs);
      expect(swarm.oldestOpenMs()).toBeLessThan(limitMs);
      expect(swarm.lifetimes.filter((ms) => ms < 500).length).toBeGreaterThan(swarm.lifetimes.length / 4);
      // The servers hold 2 × 16 of the 1,000 (measured 32; the margin is for connections queued a second on a
      // loaded machine).
      expect(Math.max(...openSamples.get(swarm)!)).toBeLessThanOrEqual(64);
    }
  }, 120_000);
});
