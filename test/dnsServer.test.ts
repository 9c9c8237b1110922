/**
 * The embedded server as a program: persistence across restarts, and `agctl dns-server` (flags, JSON logs on
 * stdout, a clean stop on SIGTERM).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DnsUpdateClient } from '../src/dns/dnsUpdateClient.js';
import { startDnsServer } from '../src/dns/dnsServer.js';
import type { TsigKey } from '../src/dns/tsig.js';
import { freePort } from './support/bind.js';

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

  it('--help prints the usage and exits 0', async () => {
    const cli = runCli(['--help']);
    expect(await cli.exit).toBe(0);
    expect(cli.output().stdout).toContain('Usage: agctl dns-server');
  });
});
