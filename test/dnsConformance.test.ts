/**
 * The DNS behaviours the nodes rely on, as ONE suite run against the embedded server and against a real BIND 9.
 * Where `named` is missing the BIND half reports itself skipped with the reason; under CI it fails instead.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsUpdateClient } from '../src/dns/dnsUpdateClient.js';
import { startDnsServer } from '../src/dns/dnsServer.js';
import {
  DnsClockSkewError,
  DnsNotAuthorizedError,
  DnsNotInZoneError,
  DnsPrerequisiteFailedError,
} from '../src/dns/errors.js';
import type { TsigKey } from '../src/dns/tsig.js';
import { RRClass, RRType, Rcode, decodeA, decodeSoa, encodeA, encodeTxt, uncompressedRdata, type OutRecord } from '../src/dns/wireFormat.js';
import { bindUnavailableReason, startBind } from './support/bind.js';
import { rawQuery, rawUpdate } from './support/dnsWire.js';

const run = promisify(execFile);
const ZONE = 'example.test';
const KEY: TsigKey = { name: 'ag-key', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };
const KEY512: TsigKey = { name: 'ag-key-512', algorithm: 'hmac-sha512', secret: randomBytes(64).toString('base64') };
const EMPTY = Buffer.alloc(0);

/** A server under test. */
interface Target {
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

let nameCounter = 0;
/** A name no other test touches, so cases are independent. */
function freshName(): string {
  nameCounter += 1;
  return `case${nameCounter}-${randomBytes(3).toString('hex')}.${ZONE}`;
}

function conformanceSuite(start: () => Promise<Target>): void {
  let target: Target;
  let dns: DnsUpdateClient;
  const client = (overrides: Partial<ConstructorParameters<typeof DnsUpdateClient>[0]> = {}) =>
    new DnsUpdateClient({ server: target, zone: ZONE, tsig: KEY, timeoutMs: 1000, retries: 1, ...overrides });
  const rr = (name: string, type: number, klass: number, rdata: Buffer = EMPTY, ttl = 0): OutRecord => ({ name, type, class: klass, ttl, rdata });
  const update = (prerequisites: OutRecord[], updates: OutRecord[], key: TsigKey | null = KEY) => rawUpdate(target, ZONE, key, prerequisites, updates);
  const addresses = async (name: string) => (await rawQuery(target, name, RRType.A)).answers.map((answer) => decodeA(answer.rdata)).sort();
  const serial = async () => {
    const answer = await rawQuery(target, ZONE, RRType.SOA);
    // BIND compresses the names inside SOA data: decompress against the whole message first.
    return decodeSoa(uncompressedRdata(answer.bytes, answer.answers[0]!)).serial;
  };

  beforeAll(async () => {
    target = await start();
    dns = client();
  });
  afterAll(async () => {
    dns?.close();
    await target?.stop();
  });

  describe('the node operations through the client', () => {
    it('reads a name that does not exist as no records', async () => {
      await expect(dns.read(freshName())).resolves.toEqual({ address: null, txt: null });
    });

    it('creates the group records only where none exist, and raises the SOA serial', async () => {
      const name = freshName();
      const before = await serial();
      await dns.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: 'hb one' }, { ttl: 30 });
      expect(await dns.read(name)).toEqual({ address: '127.0.0.2', txt: 'hb one' });
      expect(await serial()).toBeGreaterThan(before);
      const again = dns.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.3', txt: 'hb two' }, { ttl: 30 });
      await expect(again).rejects.toBeInstanceOf(DnsPrerequisiteFailedError);
      await expect(again).rejects.toMatchObject({ rcode: 'YXRRSET' });
      expect(await dns.read(name)).toEqual({ address: '127.0.0.2', txt: 'hb one' });
    });

    it('swaps the heartbeat TXT only from the value it expects', async () => {
      const name = freshName();
      await dns.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: 'seq 0' }, { ttl: 30 });
      await dns.compareAndSwap(name, { txt: 'seq 0' }, { txt: 'seq 1' }, { ttl: 30 });
      const stale = dns.compareAndSwap(name, { txt: 'seq 0' }, { txt: 'seq 2' }, { ttl: 30 });
      await expect(stale).rejects.toMatchObject({ code: DnsPrerequisiteFailedError.code, rcode: 'NXRRSET' });
      expect(await dns.read(name)).toEqual({ address: '127.0.0.2', txt: 'seq 1' });
    });

    it('takes over A and TXT in one update, and only if both still hold the expected values', async () => {
      const name = freshName();
      await dns.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: 'epoch 1' }, { ttl: 30 });
      const wrongAddress = dns.compareAndSwap(name, { address: '127.0.0.9', txt: 'epoch 1' }, { address: '127.0.0.3', txt: 'epoch 2' }, { ttl: 30 });
      await expect(wrongAddress).rejects.toBeInstanceOf(DnsPrerequisiteFailedError);
      expect(await dns.read(name)).toEqual({ address: '127.0.0.2', txt: 'epoch 1' });
      await dns.compareAndSwap(name, { address: '127.0.0.2', txt: 'epoch 1' }, { address: '127.0.0.3', txt: 'epoch 2' }, { ttl: 30 });
      expect(await dns.read(name)).toEqual({ address: '127.0.0.3', txt: 'epoch 2' });
    });

    it('removes the group records, after which the name does not exist', async () => {
      const name = freshName();
      await dns.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: 'bye' }, { ttl: 30 });
      await dns.compareAndSwap(name, { address: '127.0.0.2' }, { address: null, txt: null }, { ttl: 30 });
      expect(await dns.read(name)).toEqual({ address: null, txt: null });
      expect((await rawQuery(target, name, RRType.A)).rcode).toBe(Rcode.NXDOMAIN);
    });

    it('finds the zone with an SOA query when none is configured', async () => {
      const name = freshName();
      const discovering = client({ zone: undefined });
      try {
        await discovering.compareAndSwap(name, { address: null }, { address: '127.0.0.4' }, { ttl: 30 });
        expect((await discovering.read(name)).address).toBe('127.0.0.4');
      } finally {
        discovering.close();
      }
    });

    it('answers with a named error for a name outside the zone', async () => {
      await expect(dns.read('app.elsewhere.test')).rejects.toBeInstanceOf(DnsNotInZoneError);
      const outside = await update([], [rr('app.elsewhere.test', RRType.A, RRClass.IN, encodeA('127.0.0.1'), 30)]);
      expect(outside.rcode).toBe(Rcode.NOTZONE);
      const wrongZone = client({ zone: 'elsewhere.test' });
      await expect(wrongZone.compareAndSwap('app.elsewhere.test', {}, { address: '127.0.0.1' }, { ttl: 30 })).rejects.toMatchObject({
        code: DnsNotInZoneError.code,
        rcode: 'NOTAUTH',
      });
      wrongZone.close();
    });

    it('lets exactly one of two clients win the same compare-and-swap', async () => {
      for (let round = 0; round < 10; round++) {
        const name = freshName();
        await dns.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.1', txt: 'old' }, { ttl: 30 });
        const [a, b] = [client(), client()];
        const outcomes = await Promise.allSettled([
          a.compareAndSwap(name, { address: '127.0.0.1', txt: 'old' }, { address: '127.0.0.2', txt: 'a wins' }, { ttl: 30 }),
          b.compareAndSwap(name, { address: '127.0.0.1', txt: 'old' }, { address: '127.0.0.3', txt: 'b wins' }, { ttl: 30 }),
        ]);
        a.close();
        b.close();
        const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
        const losers = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
        expect(winners).toHaveLength(1);
        expect(losers[0]!.reason).toBeInstanceOf(DnsPrerequisiteFailedError);
        const expected = outcomes[0]!.status === 'fulfilled' ? { address: '127.0.0.2', txt: 'a wins' } : { address: '127.0.0.3', txt: 'b wins' };
        expect(await dns.read(name)).toEqual(expected);
      }
    });
  });

  describe('TSIG', () => {
    it('refuses an unsigned update', async () => {
      const name = freshName();
      const answer = await update([], [rr(name, RRType.A, RRClass.IN, encodeA('127.0.0.1'), 30)], null);
      expect(answer.rcode).toBe(Rcode.REFUSED);
      expect(await addresses(name)).toEqual([]);
    });

    it('answers an unknown key with NOTAUTH/BADKEY', async () => {
      const stranger = client({ tsig: { ...KEY, name: 'unknown-key' } });
      await expect(stranger.compareAndSwap(freshName(), {}, { address: '127.0.0.1' }, { ttl: 30 })).rejects.toMatchObject({
        code: DnsNotAuthorizedError.code,
        rcode: 'NOTAUTH',
        tsigError: 'BADKEY',
      });
      stranger.close();
    });

    it('answers a wrong secret with NOTAUTH/BADSIG, and the error does not show the secret', async () => {
      const secret = randomBytes(32).toString('base64');
      const forger = client({ tsig: { ...KEY, secret } });
      const attempt = forger.compareAndSwap(freshName(), {}, { address: '127.0.0.1' }, { ttl: 30 });
      await expect(attempt).rejects.toMatchObject({ code: DnsNotAuthorizedError.code, rcode: 'NOTAUTH', tsigError: 'BADSIG' });
      const error = (await attempt.then(() => undefined, (caught: unknown) => caught)) as Error;
      expect(`${error.message} ${JSON.stringify(error)}`).not.toContain(secret);
      forger.close();
    });

    it('answers a clock off by more than the fudge with NOTAUTH/BADTIME and the server time', async () => {
      const late = client({ wallClock: () => Date.now() - 3600_000 });
      const attempt = late.compareAndSwap(freshName(), {}, { address: '127.0.0.1' }, { ttl: 30 });
      await expect(attempt).rejects.toBeInstanceOf(DnsClockSkewError);
      const error = (await attempt.catch((caught: unknown) => caught)) as DnsClockSkewError;
      expect(error.serverTime).toBeDefined();
      expect(Math.abs(error.serverTime! - Date.now() / 1000)).toBeLessThan(60);
      late.close();
    });

    it('accepts a clock off by less than the fudge', async () => {
      const name = freshName();
      const skewed = client({ wallClock: () => Date.now() + 200_000 });
      await skewed.compareAndSwap(name, { address: null }, { address: '127.0.0.5' }, { ttl: 30 });
      expect(await addresses(name)).toEqual(['127.0.0.5']);
      skewed.close();
    });

    it('works with hmac-sha512', async () => {
      const name = freshName();
      const sha512 = client({ tsig: KEY512 });
      await sha512.compareAndSwap(name, { txt: null }, { txt: 'signed with sha512' }, { ttl: 30 });
      expect((await sha512.read(name)).txt).toBe('signed with sha512');
      sha512.close();
    });
  });

  describe('each RFC 2136 update kind', () => {
    it('adds RRs, deletes one RR, deletes an RRset, deletes all RRsets of a name', async () => {
      const name = freshName();
      const add = (address: string) => rr(name, RRType.A, RRClass.IN, encodeA(address), 30);
      expect((await update([], [add('10.0.0.1'), add('10.0.0.2'), rr(name, RRType.TXT, RRClass.IN, encodeTxt('t'), 30)])).rcode).toBe(Rcode.NOERROR);
      expect(await addresses(name)).toEqual(['10.0.0.1', '10.0.0.2']);
      expect((await update([], [rr(name, RRType.A, RRClass.NONE, encodeA('10.0.0.1'))])).rcode).toBe(Rcode.NOERROR);
      expect(await addresses(name)).toEqual(['10.0.0.2']);
      expect((await update([], [rr(name, RRType.A, RRClass.ANY)])).rcode).toBe(Rcode.NOERROR);
      expect(await addresses(name)).toEqual([]);
      expect((await rawQuery(target, name, RRType.TXT)).answers).toHaveLength(1);
      expect((await update([], [add('10.0.0.3'), rr(name, RRType.ANY, RRClass.ANY)])).rcode).toBe(Rcode.NOERROR);
      expect((await rawQuery(target, name, RRType.TXT)).rcode).toBe(Rcode.NXDOMAIN);
    });

    it('applies an update atomically: a failing prerequisite after a passing one changes nothing', async () => {
      const name = freshName();
      const before = await serial();
      const answer = await update(
        [rr(name, RRType.ANY, RRClass.NONE), rr(name, RRType.A, RRClass.ANY)],
        [rr(name, RRType.A, RRClass.IN, encodeA('10.0.0.1'), 30)],
      );
      expect(answer.rcode).toBe(Rcode.NXRRSET);
      expect(await addresses(name)).toEqual([]);
      expect(await serial()).toBe(before);
    });
  });

  describe('each RFC 2136 prerequisite kind', () => {
    let name: string;
    beforeAll(async () => {
      name = freshName();
      const answer = await update([], [
        rr(name, RRType.A, RRClass.IN, encodeA('10.1.0.1'), 30),
        rr(name, RRType.A, RRClass.IN, encodeA('10.1.0.2'), 30),
      ]);
      expect(answer.rcode).toBe(Rcode.NOERROR);
    });
    const noop = () => [rr(freshName(), RRType.TXT, RRClass.ANY)];

    it('name is in use (ANY ANY): NOERROR when it is, NXDOMAIN when not', async () => {
      expect((await update([rr(name, RRType.ANY, RRClass.ANY)], noop())).rcode).toBe(Rcode.NOERROR);
      expect((await update([rr(freshName(), RRType.ANY, RRClass.ANY)], noop())).rcode).toBe(Rcode.NXDOMAIN);
    });

    it('name is not in use (NONE ANY): NOERROR when free, YXDOMAIN when used', async () => {
      expect((await update([rr(freshName(), RRType.ANY, RRClass.NONE)], noop())).rcode).toBe(Rcode.NOERROR);
      expect((await update([rr(name, RRType.ANY, RRClass.NONE)], noop())).rcode).toBe(Rcode.YXDOMAIN);
    });

    it('RRset exists, value independent (ANY T): NOERROR when it does, NXRRSET when not', async () => {
      expect((await update([rr(name, RRType.A, RRClass.ANY)], noop())).rcode).toBe(Rcode.NOERROR);
      expect((await update([rr(name, RRType.TXT, RRClass.ANY)], noop())).rcode).toBe(Rcode.NXRRSET);
    });

    it('RRset does not exist (NONE T): NOERROR when absent, YXRRSET when present', async () => {
      expect((await update([rr(name, RRType.TXT, RRClass.NONE)], noop())).rcode).toBe(Rcode.NOERROR);
      expect((await update([rr(name, RRType.A, RRClass.NONE)], noop())).rcode).toBe(Rcode.YXRRSET);
    });

    it('RRset exists, value dependent (IN T): only the whole RRset matches', async () => {
      const a = (address: string) => rr(name, RRType.A, RRClass.IN, encodeA(address));
      expect((await update([a('10.1.0.2'), a('10.1.0.1')], noop())).rcode).toBe(Rcode.NOERROR);
      expect((await update([a('10.1.0.1')], noop())).rcode).toBe(Rcode.NXRRSET);
      expect((await update([a('10.1.0.1'), a('10.1.0.2'), a('10.1.0.3')], noop())).rcode).toBe(Rcode.NXRRSET);
    });
  });

  describe('transport', () => {
    it('falls back to TCP when the answer does not fit a 512-byte datagram', async () => {
      const name = freshName();
      const big = 'x'.repeat(700);
      await dns.compareAndSwap(name, { txt: null }, { txt: big }, { ttl: 30 });
      const udp = await rawQuery(target, name, RRType.TXT);
      expect(udp.tc).toBe(true);
      expect(udp.answers).toHaveLength(0);
      expect((await rawQuery(target, name, RRType.TXT, { tcp: true })).tc).toBe(false);
      expect((await dns.read(name)).txt).toBe(big);
    });

    it('answers authoritatively, with the SOA in the authority section of negative answers', async () => {
      const name = freshName();
      await dns.compareAndSwap(name, { address: null }, { address: '127.0.0.1' }, { ttl: 30 });
      const positive = await rawQuery(target, name, RRType.A);
      expect(positive).toMatchObject({ aa: true, rcode: Rcode.NOERROR });
      const nodata = await rawQuery(target, name, RRType.TXT);
      expect(nodata).toMatchObject({ aa: true, rcode: Rcode.NOERROR, answers: [] });
      expect(nodata.authorities.map((record) => record.type)).toEqual([RRType.SOA]);
      const nxdomain = await rawQuery(target, freshName(), RRType.A);
      expect(nxdomain).toMatchObject({ aa: true, rcode: Rcode.NXDOMAIN });
      expect(nxdomain.authorities.map((record) => record.type)).toEqual([RRType.SOA]);
    });
  });

  describe('real clients', () => {
    it('nsupdate -y adds a record that dig then shows', async () => {
      const name = freshName();
      const script = `server ${target.host} ${target.port}\nzone ${ZONE}\nupdate add ${name} 30 TXT "from nsupdate"\nupdate add ${name} 30 A 127.0.0.7\nsend\n`;
      await runWithInput('nsupdate', ['-y', `${KEY.algorithm}:${KEY.name}:${KEY.secret}`], script);
      const { stdout } = await run('dig', ['@' + target.host, '-p', String(target.port), '+norec', '+short', name, 'TXT']);
      expect(stdout.trim()).toBe('"from nsupdate"');
      expect(await dns.read(name)).toEqual({ address: '127.0.0.7', txt: 'from nsupdate' });
    });

    it('dig -y with the key gets a signed answer it verifies', async () => {
      const { stdout } = await run('dig', ['@' + target.host, '-p', String(target.port), '+norec', '-y', `${KEY.algorithm}:${KEY.name}:${KEY.secret}`, ZONE, 'SOA']);
      expect(stdout).toContain('status: NOERROR');
      expect(stdout).toContain('flags: qr aa');
      expect(stdout).toMatch(/TSIG\s+hmac-sha256\. \d+ 300 32 /);
      expect(stdout).not.toContain('could not be validated');
    });
  });
}

/** Runs a command with `input` on stdin; rejects with its output when it fails. */
function runWithInput(command: string, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

describe('DNS conformance: embedded server', () => {
  conformanceSuite(async () => {
    const server = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: [KEY, KEY512] });
    return { host: '127.0.0.1', port: server.port, stop: server.stop };
  });
});

const bindMissing = bindUnavailableReason();
if (bindMissing !== null && process.env.CI) {
  describe('DNS conformance: BIND 9', () => {
    it('runs in CI', () => {
      throw new Error(`The BIND half of the conformance suite must run in CI, but ${bindMissing}`);
    });
  });
}
describe.skipIf(bindMissing !== null)(`DNS conformance: BIND 9${bindMissing === null ? '' : ` (skipped: ${bindMissing})`}`, () => {
  conformanceSuite(async () => {
    const bind = await startBind({ zone: ZONE, keys: [KEY, KEY512] });
    return { host: bind.host, port: bind.port, stop: bind.stop };
  });
});
