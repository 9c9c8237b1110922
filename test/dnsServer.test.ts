/**
 * The embedded server as a program: persistence across restarts, replayed signed updates, and `agctl dns-server`
 * (flags, JSON logs on stdout, a clean stop on SIGTERM).
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DnsUpdateClient } from '../src/dns/dnsUpdateClient.js';
import { startDnsServer } from '../src/dns/dnsServer.js';
import { PreparedTsigKey, findTsig, signMessage, verifyMessage, type TsigKey } from '../src/dns/tsig.js';
import { buildUpdateMessage, compareAndSwapSections } from '../src/dns/updateMessage.js';
import { Rcode, type WireMessage } from '../src/dns/wireFormat.js';
import { freePort } from './support/bind.js';
import { rawExchange } from './support/dnsWire.js';

const ZONE = 'persist.test';
const KEY: TsigKey = { name: 'ag-key', algorithm: 'hmac-sha512', secret: randomBytes(64).toString('base64') };
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ag-dns-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('persistence', () => {
  it('a restart with the same data file loses no record and keeps the serial', async () => {
    const dataFile = join(await tempDir(), 'zone.json');
    const first = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY, dataFile });
    const dns = new DnsUpdateClient({ server: { host: '127.0.0.1', port: first.port }, zone: ZONE, tsig: KEY, timeoutMs: 1000, retries: 1 });
    await dns.compareAndSwap(`app.${ZONE}`, { address: null, txt: null }, { address: '127.0.0.2', txt: 'epoch 1' }, { ttl: 30 });
    await dns.compareAndSwap(`app.${ZONE}`, { txt: 'epoch 1' }, { txt: 'epoch 2' }, { ttl: 30 });
    const serial = first.serial();
    dns.close();
    await first.stop();

    const second = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY, dataFile });
    const again = new DnsUpdateClient({ server: { host: '127.0.0.1', port: second.port }, zone: ZONE, tsig: KEY, timeoutMs: 1000, retries: 1 });
    try {
      expect(await again.read(`app.${ZONE}`)).toEqual({ address: '127.0.0.2', txt: 'epoch 2' });
      expect(second.serial()).toBe(serial);
      await again.compareAndSwap(`app.${ZONE}`, { txt: 'epoch 2' }, { txt: 'epoch 3' }, { ttl: 30 });
      expect(second.serial()).toBe(serial + 1);
    } finally {
      again.close();
      await second.stop();
    }
  });

  it('keeps a snapshot and a journal, leaves no temp file, and never writes the secret', async () => {
    const dir = await tempDir();
    const dataFile = join(dir, 'zone.json');
    const server = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY, dataFile });
    const dns = new DnsUpdateClient({ server: { host: '127.0.0.1', port: server.port }, zone: ZONE, tsig: KEY, timeoutMs: 1000, retries: 1 });
    await dns.compareAndSwap(`app.${ZONE}`, { txt: null }, { txt: 'x' }, { ttl: 30 });
    dns.close();
    await server.stop();
    expect((await readdir(dir)).sort()).toEqual(['zone.json', 'zone.json.jnl']);
    const text = await readFile(dataFile, 'utf8');
    expect(JSON.parse(text)).toMatchObject({ format: 'ag-zone-1', zone: ZONE });
    expect(JSON.stringify(JSON.parse(text).records)).toContain(Buffer.from([1, 0x78]).toString('base64'));
    expect(text + (await readFile(`${dataFile}.jnl`, 'utf8'))).not.toContain(KEY.secret);
  });

  it('recovers the last complete journal line after a crash, ignoring a torn one', async () => {
    const dataFile = join(await tempDir(), 'zone.json');
    const first = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY, dataFile });
    const dns = new DnsUpdateClient({ server: { host: '127.0.0.1', port: first.port }, zone: ZONE, tsig: KEY, timeoutMs: 1000, retries: 1 });
    await dns.compareAndSwap(`app.${ZONE}`, { txt: null }, { txt: 'committed' }, { ttl: 30 });
    dns.close();
    // A crash: the process dies without folding the journal in; a last write was torn half way.
    const journal = await readFile(`${dataFile}.jnl`, 'utf8');
    const snapshotBefore = await readFile(dataFile, 'utf8');
    await appendFile(`${dataFile}.jnl`, journal.slice(0, journal.length / 2));
    const crashedCopy = join(await tempDir(), 'zone.json');
    await writeFile(crashedCopy, snapshotBefore);
    await writeFile(`${crashedCopy}.jnl`, await readFile(`${dataFile}.jnl`, 'utf8'));
    await first.stop();
    const second = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY, dataFile: crashedCopy });
    const again = new DnsUpdateClient({ server: { host: '127.0.0.1', port: second.port }, zone: ZONE, tsig: KEY, timeoutMs: 1000, retries: 1 });
    try {
      expect((await again.read(`app.${ZONE}`)).txt).toBe('committed');
    } finally {
      again.close();
      await second.stop();
    }
  });

  it('refuses a data file of another zone', async () => {
    const dataFile = join(await tempDir(), 'zone.json');
    const server = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY, dataFile });
    await server.stop();
    await expect(startDnsServer({ zone: 'other.test', listen: { host: '127.0.0.1', port: 0 }, tsig: KEY, dataFile })).rejects.toThrow(/holds zone persist\.test/);
  });
});

/** A pino logger that keeps its JSON lines in memory. */
function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines, text: () => text };
}

describe('replayed signed updates', () => {
  const prepared = new PreparedTsigKey(KEY);
  const FQDN = `app.${ZONE}`;

  /** A signed compare-and-swap of the A record, as a node sends it (and as someone on the path could capture it). */
  function signedSwap(id: number, from: string | null, to: string): { bytes: Buffer; mac: Buffer } {
    const unsigned = buildUpdateMessage({ id, zone: ZONE, ...compareAndSwapSections(FQDN, { address: from }, { address: to }, 30) });
    const { message, mac } = signMessage(unsigned, prepared);
    return { bytes: message, mac };
  }

  /** The same bytes with another header ID: the TSIG record still carries the original ID the MAC covers. */
  function withHeaderId(bytes: Buffer, id: number): Buffer {
    const copy = Buffer.from(bytes);
    copy.writeUInt16BE(id, 0);
    return copy;
  }

  /** Whether the server signed `answer` with the key, chained on the request's MAC (RFC 8945 5.3). */
  function signedByServer(answer: WireMessage, requestMac: Buffer): boolean {
    const found = findTsig(answer);
    if (found === null || found.record.error !== 0) return false;
    return verifyMessage(answer, found, (name) => (name === prepared.name ? prepared : undefined), { requestMac }).ok;
  }

  it('refuses a captured update sent again, with its own message ID and with a new one, over UDP and TCP: the A record stays', async () => {
    const log = memoryLogger();
    const server = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY, logger: log.logger });
    const address = { host: '127.0.0.1', port: server.port };
    const dns = new DnsUpdateClient({ server: address, zone: ZONE, tsig: KEY, timeoutMs: 1000, retries: 1 });
    try {
      await dns.compareAndSwap(FQDN, { address: null }, { address: '127.0.0.2' }, { ttl: 30 });
      // The takeover that an attacker captures on the wire: A 127.0.0.2 -> 127.0.0.3.
      const captured = signedSwap(0x1234, '127.0.0.2', '127.0.0.3');
      const first = await rawExchange(address, captured.bytes);
      expect(first.rcode).toBe(Rcode.NOERROR);
      expect((await dns.read(FQDN)).address).toBe('127.0.0.3');
      // The group moves on: the record names 127.0.0.2 again, so the captured prerequisite holds once more.
      await dns.compareAndSwap(FQDN, { address: '127.0.0.3' }, { address: '127.0.0.2' }, { ttl: 30 });
      const serial = server.serial();

      const sameId = await rawExchange(address, captured.bytes);
      const newId = await rawExchange(address, withHeaderId(captured.bytes, 0x4321));
      const overTcp = await rawExchange(address, withHeaderId(captured.bytes, 0x5555), { tcp: true });
      for (const answer of [sameId, newId, overTcp]) {
        expect(answer.rcode).toBe(Rcode.REFUSED);
        // Signed with the key: the refusal is the server's, not a spoofer's.
        expect(signedByServer(answer, captured.mac)).toBe(true);
      }
      expect([sameId.id, newId.id, overTcp.id]).toEqual([0x1234, 0x4321, 0x5555]);
      expect((await dns.read(FQDN)).address).toBe('127.0.0.2');
      expect(server.serial()).toBe(serial);
      expect(server.stats.replaysRefused).toBe(3);
      expect(server.stats.updatesApplied).toBe(3);

      const refusals = log.lines.filter((line) => line.msg === 'refused a replayed DNS update');
      expect(refusals).toHaveLength(3);
      expect(refusals[1]).toMatchObject({ level: 40, keyName: KEY.name, id: 0x4321, originalId: 0x1234, reason: 'replayed', transport: 'udp' });
      expect(refusals[2]).toMatchObject({ transport: 'tcp' });
      expect(log.text()).not.toContain(KEY.secret);
      expect(log.text()).not.toContain(captured.mac.toString('base64'));
    } finally {
      dns.close();
      await server.stop();
    }
  });

  it('remembers updates that were not applied too: a failed compare-and-swap replayed once it would hold is refused', async () => {
    const server = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY });
    const address = { host: '127.0.0.1', port: server.port };
    const dns = new DnsUpdateClient({ server: address, zone: ZONE, tsig: KEY, timeoutMs: 1000, retries: 1 });
    try {
      await dns.compareAndSwap(FQDN, { address: null }, { address: '127.0.0.2' }, { ttl: 30 });
      // Sent while the record named 127.0.0.2: the prerequisite fails and nothing changes.
      const captured = signedSwap(0x2222, '127.0.0.9', '127.0.0.3');
      expect((await rawExchange(address, captured.bytes)).rcode).toBe(Rcode.NXRRSET);
      await dns.compareAndSwap(FQDN, { address: '127.0.0.2' }, { address: '127.0.0.9' }, { ttl: 30 });
      // Now the prerequisite would hold: the copy is still refused.
      expect((await rawExchange(address, withHeaderId(captured.bytes, 0x3333))).rcode).toBe(Rcode.REFUSED);
      expect((await dns.read(FQDN)).address).toBe('127.0.0.9');
      // A fresh update signed the ordinary way goes through.
      await dns.compareAndSwap(FQDN, { address: '127.0.0.9' }, { address: '127.0.0.3' }, { ttl: 30 });
      expect((await dns.read(FQDN)).address).toBe('127.0.0.3');
    } finally {
      dns.close();
      await server.stop();
    }
  });
});

/** Runs the CLI; `untilLog` resolves at the first stdout JSON line the predicate accepts. */
function runCli(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/dnsServerCli.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AG_LOG_LEVEL: 'info' },
  });
  let stdout = '';
  let stderr = '';
  let pending = '';
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ test: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    pending += chunk.toString();
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const text of complete) {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        continue;
      }
      lines.push(line);
      for (const waiter of [...waiters]) if (waiter.test(line)) waiters.splice(waiters.indexOf(waiter), 1), waiter.resolve(line);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exit,
    output: () => ({ stdout, stderr }),
    untilLog: (test: (line: Record<string, unknown>) => boolean, timeoutMs = 15_000) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const seen = lines.find(test);
        if (seen !== undefined) return resolve(seen);
        const timer = setTimeout(() => reject(new Error(`no such log line within ${timeoutMs} ms:\n${stdout}\n${stderr}`)), timeoutMs);
        waiters.push({ test, resolve: (line) => (clearTimeout(timer), resolve(line)) });
        exit.then(() => reject(new Error(`the CLI exited:\n${stdout}\n${stderr}`)));
      }),
  };
}

describe('agctl dns-server', () => {
  it('serves the zone, logs JSON to stdout without the secret, and stops with 0 on SIGTERM', async () => {
    const port = await freePort();
    const dataFile = join(await tempDir(), 'zone.json');
    const cli = runCli(['--zone', ZONE, '--listen', `127.0.0.1:${port}`, '--tsig-name', KEY.name, '--tsig-secret', KEY.secret, '--tsig-algorithm', KEY.algorithm, '--data', dataFile]);
    const ready = await cli.untilLog((line) => line.msg === 'DNS server listening');
    expect(ready).toMatchObject({ zone: ZONE, port });
    const dns = new DnsUpdateClient({ server: { host: '127.0.0.1', port }, tsig: KEY, timeoutMs: 1000, retries: 1 });
    await dns.compareAndSwap(`app.${ZONE}`, { address: null }, { address: '127.0.0.9' }, { ttl: 30 });
    expect((await dns.read(`app.${ZONE}`)).address).toBe('127.0.0.9');
    dns.close();
    await cli.untilLog((line) => line.msg === 'DNS update applied');
    cli.child.kill('SIGTERM');
    expect(await cli.exit).toBe(0);
    expect(cli.output().stdout).toContain('"msg":"DNS server stopped"');
    expect(cli.output().stdout).not.toContain(KEY.secret);
  });

  it.each([
    [['--zone', ZONE, '--listen', '127.0.0.1:5353', '--tsig-name', 'k', '--tsig-secret', 'AAAA', '--bogus'], /--bogus/],
    [['--zone', ZONE, '--listen', 'localhost', '--tsig-name', 'k', '--tsig-secret', 'AAAA'], /--listen/],
    [['--zone', ZONE, '--listen', '127.0.0.1:5353', '--tsig-name', 'k'], /--tsig-secret/],
    [['--zone', ZONE, '--listen', '127.0.0.1:5353', '--tsig-name', 'k', '--tsig-secret', 'AAAA', '--tsig-algorithm', 'hmac-md5'], /--tsig-algorithm/],
    [['--zone', ZONE, '--listen', '127.0.0.1:5353', '--tsig-name', 'k', '--tsig-secret', 'not-base64!'], /--tsig-secret: not base64/],
  ])('exits 2 naming the flag for %j', async (args, flag) => {
    const cli = runCli(args);
    expect(await cli.exit).toBe(2);
    expect(cli.output().stderr).toMatch(flag);
    expect(cli.output().stderr).not.toContain('not-base64!');
  });

  it('exits 65 naming the file and line when the journal is damaged, and leaves the files as they were', async () => {
    const dataFile = join(await tempDir(), 'zone.json');
    const server = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY, dataFile });
    await server.stop();
    const snapshot = await readFile(dataFile, 'utf8');
    // A committed line with a byte changed, followed by another committed line.
    const journal = `${snapshot.replace(/\n\s*/g, '').replace('"records"', '"rec#rds"')}\n${snapshot.replace(/\n\s*/g, '')}\n`;
    await writeFile(`${dataFile}.jnl`, journal);
    const cli = runCli(['--zone', ZONE, '--listen', `127.0.0.1:${await freePort()}`, '--tsig-name', KEY.name, '--tsig-secret', KEY.secret, '--data', dataFile]);
    // A server that starts anyway is stopped after the deadline, and the exit code says so.
    const deadline = setTimeout(() => cli.child.kill('SIGKILL'), 20_000);
    expect(await cli.exit.finally(() => clearTimeout(deadline))).toBe(65);
    expect(cli.output().stderr).toContain(`${dataFile}.jnl, line 1`);
    expect(cli.output().stdout).toContain('AG_DNS_ZONE_FILE_CORRUPT');
    expect(cli.output().stdout + cli.output().stderr).not.toContain(KEY.secret);
    expect(await readFile(dataFile, 'utf8')).toBe(snapshot);
    expect(await readFile(`${dataFile}.jnl`, 'utf8')).toBe(journal);
  });

  it('--help prints the usage and exits 0', async () => {
    const cli = runCli(['--help']);
    expect(await cli.exit).toBe(0);
    expect(cli.output().stdout).toContain('Usage: agctl dns-server');
  });
});

describe('a retransmitted update whose first answer was lost', () => {
  it('succeeds when the first copy was applied, although the server refuses the copy as a replay', async () => {
    const server = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY });
    // A UDP relay that drops the server's first answer: the client retransmits the same signed bytes.
    const relay = createSocket('udp4');
    const upstream = createSocket('udp4');
    let client: { address: string; port: number } | null = null;
    let answers = 0;
    relay.on('message', (bytes, from) => {
      client = { address: from.address, port: from.port };
      upstream.send(bytes, server.port, '127.0.0.1');
    });
    upstream.on('message', (bytes) => {
      answers += 1;
      if (answers > 1 && client !== null) relay.send(bytes, client.port, client.address);
    });
    await new Promise<void>((resolve) => relay.bind(0, '127.0.0.1', resolve));
    const dns = new DnsUpdateClient({ server: { host: '127.0.0.1', port: relay.address().port }, zone: ZONE, tsig: KEY, timeoutMs: 300, retries: 1 });
    try {
      await dns.compareAndSwap(`app.${ZONE}`, { address: null, txt: null }, { address: '127.0.0.2', txt: 'v1' }, { ttl: 30 });
      expect(server.stats.replaysRefused).toBe(1);
      const direct = new DnsUpdateClient({ server: { host: '127.0.0.1', port: server.port }, zone: ZONE, tsig: KEY, timeoutMs: 1000, retries: 1 });
      expect(await direct.read(`app.${ZONE}`)).toEqual({ address: '127.0.0.2', txt: 'v1' });
      direct.close();
    } finally {
      dns.close();
      relay.close();
      upstream.close();
      await server.stop();
    }
  });
});
