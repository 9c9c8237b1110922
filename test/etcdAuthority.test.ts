/**
 * The etcd authority against a real etcd member: the port's promises (read, compare-and-swap, the errors the machine
 * understands), mod_revision fencing, a paused or stopped etcd, and etcd's own authentication.
 * Where etcd is missing the suite reports itself skipped with the reason; under CI it fails instead.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/cli/agctlProcess.js';
import { DnsNotAuthorizedError, DnsNotConfiguredError, DnsPrerequisiteFailedError, DnsUnreachableError } from '../src/dns/errors.js';
import { formatHeartbeatRecord } from '../src/dns/heartbeatRecord.js';
import { EtcdAuthority, type EtcdAuthorityOptions } from '../src/etcd/etcdAuthority.js';
import { SettingsEtcdAuthority, etcdTimeoutMs, type EtcdClientSettings } from '../src/etcd/settingsEtcdAuthority.js';
import { etcdUnavailableReason, startEtcd, type EtcdServer } from './support/etcdServer.js';

/** The timeout of the clients under test: short, so failures show quickly, long enough for a loaded machine. */
const TIMEOUT_MS = 1000;
/** A rejection for no answer must come within a few timeouts (not an exact figure: the machine may be loaded). */
const SETTLE_MS = 3 * TIMEOUT_MS;
const TTL = { ttl: 30 };

const prefix = `/ag-test-${randomBytes(4).toString('hex')}`;
let nameCounter = 0;
/** A group name no other test touches, so cases are independent. */
function freshName(): string {
  nameCounter += 1;
  return `case${nameCounter}-${randomBytes(3).toString('hex')}.example.test`;
}

let seq = 0;
/** A heartbeat value as the machine writes it, unique per call. */
function heartbeat(node = 'node-a', epoch = 1): string {
  seq += 1;
  return formatHeartbeatRecord({ holder: node, epoch, seq, sentAt: Date.UTC(2026, 0, 1) + seq });
}

const opened: { close(): Promise<void> }[] = [];
function client(server: EtcdServer, overrides: Partial<EtcdAuthorityOptions> = {}): EtcdAuthority {
  const authority = new EtcdAuthority({ endpoints: [server.endpoint], prefix, timeoutMs: TIMEOUT_MS, ...overrides });
  opened.push(authority);
  return authority;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((authority) => authority.close()));
});

/** Settles `promise` and says how long it took (on the monotonic clock). */
async function timed<T>(promise: Promise<T>): Promise<{ result: PromiseSettledResult<T>; ms: number }> {
  const started = performance.now();
  const [result] = await Promise.allSettled([promise]);
  return { result: result!, ms: performance.now() - started };
}

function rejection(result: PromiseSettledResult<unknown>): unknown {
  if (result.status === 'fulfilled') throw new Error(`expected a rejection, got ${JSON.stringify(result.value)}`);
  return result.reason;
}

/** Retries `check` until it passes or `deadlineMs` has passed (then its last error is thrown). */
async function eventually(check: () => Promise<void>, deadlineMs: number): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

const etcdMissing = etcdUnavailableReason();
if (etcdMissing !== null && process.env.CI) {
  describe('etcd authority', () => {
    it('runs in CI', () => {
      throw new Error(`The etcd authority tests must run in CI, but ${etcdMissing}`);
    });
  });
}

describe.skipIf(etcdMissing !== null)(`etcd authority${etcdMissing === null ? '' : ` (skipped: ${etcdMissing})`}`, () => {
  describe('the port on a running etcd', () => {
    let etcd: EtcdServer;
    beforeAll(async () => {
      etcd = await startEtcd();
    });
    afterAll(async () => {
      await etcd?.stop();
    });

    it('reads an absent group as nulls', async () => {
      expect(await client(etcd).read(freshName())).toEqual({ address: null, txt: null });
    });

    it('creates a group when both keys are expected absent, under <prefix>/groups/<fqdn>/', async () => {
      const name = freshName();
      const hb = heartbeat();
      await client(etcd).compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: hb }, TTL);
      expect(await client(etcd).read(name)).toEqual({ address: '127.0.0.2', txt: hb });
      const raw = await etcd.etcdctl(['get', '--prefix', `${prefix}/groups/${name}/`]);
      expect(raw.trim().split('\n')).toEqual([`${prefix}/groups/${name}/address`, '127.0.0.2', `${prefix}/groups/${name}/heartbeat`, hb]);
    });

    it('names one group however the fqdn is written (case, trailing dot)', async () => {
      const name = freshName();
      const hb = heartbeat();
      await client(etcd).compareAndSwap(`${name.toUpperCase()}.`, { address: null, txt: null }, { address: '127.0.0.2', txt: hb }, TTL);
      expect(await client(etcd).read(name)).toEqual({ address: '127.0.0.2', txt: hb });
    });

    it('a second create fails with DnsPrerequisiteFailedError and changes nothing', async () => {
      const name = freshName();
      const first = heartbeat('node-a');
      await client(etcd).compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: first }, TTL);
      const second = client(etcd).compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.3', txt: heartbeat('node-b') }, TTL);
      await expect(second).rejects.toBeInstanceOf(DnsPrerequisiteFailedError);
      expect(await client(etcd).read(name)).toEqual({ address: '127.0.0.2', txt: first });
    });

    it('a heartbeat compare-and-swap on its own value succeeds, again and again', async () => {
      const name = freshName();
      const authority = client(etcd);
      let current = heartbeat();
      await authority.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: current }, TTL);
      for (let i = 0; i < 5; i++) {
        const next = heartbeat();
        await authority.compareAndSwap(name, { address: '127.0.0.2', txt: current }, { txt: next }, TTL);
        current = next;
      }
      expect(await client(etcd).read(name)).toEqual({ address: '127.0.0.2', txt: current });
    });

    it('a compare-and-swap with a stale heartbeat fails and changes nothing', async () => {
      const name = freshName();
      const authority = client(etcd);
      const stale = heartbeat();
      const current = heartbeat();
      await authority.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: stale }, TTL);
      await authority.compareAndSwap(name, { txt: stale }, { txt: current }, TTL);
      await expect(authority.compareAndSwap(name, { txt: stale }, { address: '127.0.0.9', txt: heartbeat() }, TTL)).rejects.toBeInstanceOf(
        DnsPrerequisiteFailedError,
      );
      // A client that never saw the value compares by value: the same stale expectation fails there too.
      await expect(client(etcd).compareAndSwap(name, { txt: stale }, { address: '127.0.0.9', txt: heartbeat() }, TTL)).rejects.toBeInstanceOf(
        DnsPrerequisiteFailedError,
      );
      expect(await client(etcd).read(name)).toEqual({ address: '127.0.0.2', txt: current });
    });

    it('a stale address expectation fails and changes nothing', async () => {
      const name = freshName();
      const hb = heartbeat();
      await client(etcd).compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: hb }, TTL);
      await expect(client(etcd).compareAndSwap(name, { address: '127.0.0.3', txt: hb }, { txt: heartbeat() }, TTL)).rejects.toBeInstanceOf(
        DnsPrerequisiteFailedError,
      );
      expect(await client(etcd).read(name)).toEqual({ address: '127.0.0.2', txt: hb });
    });

    it('a takeover replaces address and heartbeat in one compare-and-swap', async () => {
      const name = freshName();
      const old = heartbeat('node-a', 1);
      await client(etcd).compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: old }, TTL);
      const taker = client(etcd);
      const seen = await taker.read(name);
      const taken = heartbeat('node-b', 2);
      await taker.compareAndSwap(name, { address: seen.address, txt: seen.txt }, { address: '127.0.0.3', txt: taken }, TTL);
      expect(await client(etcd).read(name)).toEqual({ address: '127.0.0.3', txt: taken });
    });

    it('a null replacement deletes the key', async () => {
      const name = freshName();
      const authority = client(etcd);
      const hb = heartbeat();
      await authority.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: hb }, TTL);
      await authority.compareAndSwap(name, { txt: hb }, { address: null }, TTL);
      expect(await client(etcd).read(name)).toEqual({ address: null, txt: hb });
      await authority.compareAndSwap(name, { address: null, txt: hb }, { txt: null }, TTL);
      expect(await client(etcd).read(name)).toEqual({ address: null, txt: null });
      expect(await etcd.etcdctl(['get', '--prefix', `${prefix}/groups/${name}/`])).toBe('');
    });

    it('a value written by another client is compared by value', async () => {
      const name = freshName();
      const writer = client(etcd);
      const hb = heartbeat('node-a');
      await writer.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: hb }, TTL);
      const other = client(etcd);
      const next = heartbeat('node-b', 2);
      await other.compareAndSwap(name, { address: '127.0.0.2', txt: hb }, { address: '127.0.0.3', txt: next }, TTL);
      expect(await writer.read(name)).toEqual({ address: '127.0.0.3', txt: next });
      // The first writer saw the other's value in that read: it can compare on it.
      const after = heartbeat('node-a', 3);
      await writer.compareAndSwap(name, { txt: next }, { address: '127.0.0.2', txt: after }, TTL);
      expect(await other.read(name)).toEqual({ address: '127.0.0.2', txt: after });
    });

    it('fences by mod_revision: the same text rewritten by someone else in between fails the compare (ABA)', async () => {
      const name = freshName();
      const fenced = client(etcd);
      const hb = heartbeat();
      await fenced.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: hb }, TTL);
      // Someone else writes the very same text again: the value is equal, its revision is not.
      await etcd.etcdctl(['put', `${prefix}/groups/${name}/heartbeat`, hb]);
      const next = heartbeat();
      await expect(fenced.compareAndSwap(name, { txt: hb }, { txt: next }, TTL)).rejects.toBeInstanceOf(DnsPrerequisiteFailedError);
      expect(await client(etcd).read(name)).toEqual({ address: '127.0.0.2', txt: hb });
      // The failed compare told the client the new revision: now the compare holds.
      await fenced.compareAndSwap(name, { txt: hb }, { txt: next }, TTL);
      expect(await client(etcd).read(name)).toEqual({ address: '127.0.0.2', txt: next });
    });

    it('fences a read value too, while a client that never saw it compares by value', async () => {
      const name = freshName();
      const hb = heartbeat();
      await client(etcd).compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: hb }, TTL);
      const reader = client(etcd);
      expect((await reader.read(name)).txt).toBe(hb);
      await etcd.etcdctl(['put', `${prefix}/groups/${name}/heartbeat`, hb]);
      await expect(reader.compareAndSwap(name, { txt: hb }, { txt: heartbeat() }, TTL)).rejects.toBeInstanceOf(DnsPrerequisiteFailedError);
      const fresh = heartbeat();
      await client(etcd).compareAndSwap(name, { txt: hb }, { txt: fresh }, TTL);
      expect((await client(etcd).read(name)).txt).toBe(fresh);
    });

    it('returns whatever the heartbeat key holds, as it is (the caller parses)', async () => {
      const name = freshName();
      const garbage = 'not a heartbeat: ag2 node=?? épée\ttab';
      await etcd.etcdctl(['put', `${prefix}/groups/${name}/heartbeat`, garbage]);
      await etcd.etcdctl(['put', `${prefix}/groups/${name}/address`, 'not-an-address']);
      await etcd.etcdctl(['put', `${prefix}/groups/${name}/other`, 'ignored']);
      expect(await client(etcd).read(name)).toEqual({ address: 'not-an-address', txt: garbage });
    });

    it('does not read another group whose name starts the same', async () => {
      const name = freshName();
      await client(etcd).compareAndSwap(`${name}x`, { address: null, txt: null }, { address: '127.0.0.2', txt: heartbeat() }, TTL);
      expect(await client(etcd).read(name)).toEqual({ address: null, txt: null });
    });

    it('with several endpoints, one of them dead, every call is answered by the live one', async () => {
      const dead = `127.0.0.1:${await freePort(['127.0.0.1'], { from: 19000, to: 19499 })}`;
      const authority = client(etcd, { endpoints: [dead, etcd.endpoint] });
      const name = freshName();
      let current = heartbeat();
      await authority.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: current }, TTL);
      for (let i = 0; i < 3; i++) {
        const next = heartbeat();
        await authority.compareAndSwap(name, { txt: current }, { txt: next }, TTL);
        current = next;
        expect(await authority.read(name)).toEqual({ address: '127.0.0.2', txt: current });
      }
    });

    it('a closed client rejects with DnsUnreachableError', async () => {
      const authority = client(etcd);
      await authority.close();
      await expect(authority.read(freshName())).rejects.toBeInstanceOf(DnsUnreachableError);
    });

    it('SettingsEtcdAuthority: works from settings, rebuilds on a change, names an unreadable file', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ag-etcd-settings-'));
      try {
        let settings: EtcdClientSettings = { etcdEndpoints: [etcd.endpoint], etcdPrefix: prefix, timers: { heartbeatIntervalMs: 500 } };
        expect(etcdTimeoutMs(settings)).toBe(1000);
        const authority = new SettingsEtcdAuthority({ settings: () => settings });
        opened.push(authority);
        const name = freshName();
        const hb = heartbeat();
        await authority.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: hb }, TTL);
        expect(await authority.read(name)).toEqual({ address: '127.0.0.2', txt: hb });
        // Another prefix is another key space: the group is absent there.
        settings = { ...settings, etcdPrefix: `${prefix}-other` };
        expect(await authority.read(name)).toEqual({ address: null, txt: null });
        settings = { ...settings, etcdCaFile: join(dir, 'missing-ca.pem') };
        const missing = rejection((await timed(authority.read(name))).result);
        expect(missing).toBeInstanceOf(DnsNotConfiguredError);
        expect((missing as Error).message).toContain('etcd_ca_file');
        expect((missing as Error).message).toContain('missing-ca.pem');
        settings = { ...settings, etcdCaFile: undefined, etcdEndpoints: [] };
        await expect(authority.read(name)).rejects.toThrow(/etcd_endpoints/);
        const passwordFile = join(dir, 'password');
        await writeFile(passwordFile, 'unused-password\n');
        settings = { ...settings, etcdEndpoints: [etcd.endpoint], etcdUsername: 'root' };
        await expect(authority.read(name)).rejects.toThrow(/etcd_password_file/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('an etcd that does not answer', () => {
    let etcd: EtcdServer;
    beforeAll(async () => {
      etcd = await startEtcd();
    });
    afterAll(async () => {
      await etcd?.stop();
    });

    it('paused (SIGSTOP): read and compare-and-swap reject with DnsUnreachableError within a few timeouts; it recovers', async () => {
      const name = freshName();
      const authority = client(etcd);
      const hb = heartbeat();
      const pausedWrite = heartbeat();
      await authority.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: hb }, TTL);
      etcd.pause();
      try {
        const read = await timed(authority.read(name));
        const readError = rejection(read.result);
        expect(readError).toBeInstanceOf(DnsUnreachableError);
        expect((readError as Error).message).toContain(etcd.endpoint);
        expect(read.ms).toBeLessThan(SETTLE_MS);
        const write = await timed(authority.compareAndSwap(name, { txt: hb }, { txt: pausedWrite }, TTL));
        expect(rejection(write.result)).toBeInstanceOf(DnsUnreachableError);
        expect(write.ms).toBeLessThan(SETTLE_MS);
      } finally {
        etcd.resume();
      }
      // The write was in etcd's socket when it froze: it may be applied once etcd runs again, as the port says of an
      // unreachable outcome. The next read tells, and a compare-and-swap on what it read holds.
      let seen = { address: null as string | null, txt: null as string | null };
      await eventually(async () => {
        seen = await authority.read(name);
      }, 10 * TIMEOUT_MS);
      expect(seen.address).toBe('127.0.0.2');
      expect([hb, pausedWrite]).toContain(seen.txt);
      const next = heartbeat();
      await authority.compareAndSwap(name, { txt: seen.txt }, { txt: next }, TTL);
      expect((await client(etcd).read(name)).txt).toBe(next);
    });

    it('stopped: read and compare-and-swap reject with DnsUnreachableError naming the endpoint', async () => {
      const authority = client(etcd);
      const name = freshName();
      await authority.read(name);
      await etcd.stop();
      const read = await timed(authority.read(name));
      const readError = rejection(read.result);
      expect(readError).toBeInstanceOf(DnsUnreachableError);
      expect((readError as Error).message).toContain(etcd.endpoint);
      expect(read.ms).toBeLessThan(SETTLE_MS);
      const write = await timed(authority.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: heartbeat() }, TTL));
      expect(rejection(write.result)).toBeInstanceOf(DnsUnreachableError);
      expect(write.ms).toBeLessThan(SETTLE_MS);
      // A client that never connected fails the same way.
      const fresh = await timed(client(etcd).read(name));
      expect(rejection(fresh.result)).toBeInstanceOf(DnsUnreachableError);
      expect(fresh.ms).toBeLessThan(SETTLE_MS);
    });
  });

  describe('an etcd with authentication enabled', () => {
    const password = `right-${randomBytes(6).toString('hex')}`;
    const wrongPassword = `wrong-${randomBytes(6).toString('hex')}`;
    let etcd: EtcdServer;
    beforeAll(async () => {
      etcd = await startEtcd();
      await etcd.etcdctl(['user', 'add', `root:${password}`]);
      await etcd.etcdctl(['user', 'add', `nobody:${password}`]);
      await etcd.etcdctl(['auth', 'enable']);
    });
    afterAll(async () => {
      await etcd?.stop();
    });

    it('a wrong password rejects with DnsNotAuthorizedError, never showing the password', async () => {
      const authority = client(etcd, { auth: { username: 'root', password: wrongPassword } });
      const name = freshName();
      const read = rejection((await timed(authority.read(name))).result);
      expect(read).toBeInstanceOf(DnsNotAuthorizedError);
      const write = rejection((await timed(authority.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: heartbeat() }, TTL))).result);
      expect(write).toBeInstanceOf(DnsNotAuthorizedError);
      for (const error of [read, write]) {
        const shown = `${(error as Error).message} ${JSON.stringify(error)} ${String((error as Error).stack)}`;
        expect(shown).not.toContain(wrongPassword);
        expect(shown).not.toContain(password);
      }
    });

    it('no password at all is refused too', async () => {
      await expect(client(etcd).read(freshName())).rejects.toBeInstanceOf(DnsNotAuthorizedError);
    });

    it('a user without permission on the keys is refused (DnsNotAuthorizedError)', async () => {
      const error = rejection((await timed(client(etcd, { auth: { username: 'nobody', password } }).read(freshName()))).result);
      expect(error).toBeInstanceOf(DnsNotAuthorizedError);
      expect((error as Error).message).not.toContain(password);
    });

    it('the right password works', async () => {
      const authority = client(etcd, { auth: { username: 'root', password } });
      const name = freshName();
      const hb = heartbeat();
      await authority.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: hb }, TTL);
      expect(await authority.read(name)).toEqual({ address: '127.0.0.2', txt: hb });
      const next = heartbeat();
      await authority.compareAndSwap(name, { txt: hb }, { txt: next }, TTL);
      expect(await client(etcd, { auth: { username: 'root', password } }).read(name)).toEqual({ address: '127.0.0.2', txt: next });
    });
  });
});
