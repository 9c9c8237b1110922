/**
 * The DNS mirror of an etcd group: etcd decides, the DNS A record follows the acting Primary (best effort). Both
 * sides are in-memory authorities; the DNS side is made unreachable to test failures and catching up.
 */
import { describe, expect, it } from 'vitest';
import type { Logger } from '../src/api/logger.js';
import type { DnsAuthority, RecordsExpectation, RecordsReplacement, UpdateOptions } from '../src/dns/dnsAuthority.js';
import { DnsPrerequisiteFailedError, DnsUnreachableError } from '../src/dns/errors.js';
import { InMemoryDnsAuthority } from '../src/dns/inMemoryDnsAuthority.js';
import { DnsMirror } from '../src/etcd/dnsMirror.js';
import type { GroupRecords } from '../machines/nodeMachine.types.js';

const FQDN = 'app.example.test';
const TTL = { ttl: 30 };
const hb = (seq: number) => `ag1 node=a epoch=1 seq=${seq} sent=2026-11-30T00:00:00.000Z`;

/** A logger that keeps what was logged at warn and info. */
function recordingLogger(): Logger & { readonly warnings: object[]; readonly infos: object[] } {
  const warnings: object[] = [];
  const infos: object[] = [];
  const noop = () => undefined;
  const logger = {
    warnings,
    infos,
    trace: noop,
    debug: noop,
    info: (object: object) => void infos.push(object),
    warn: (object: object) => void warnings.push(object),
    error: noop,
    fatal: noop,
    child: () => logger,
  };
  return logger as unknown as Logger & { readonly warnings: object[]; readonly infos: object[] };
}

/** A DNS authority that counts its writes and can hold one open until released. */
class CountingDns implements DnsAuthority {
  readonly inner = new InMemoryDnsAuthority();
  writes = 0;
  inFlight = 0;
  maxInFlight = 0;
  #gate: Promise<void> | null = null;
  #open: (() => void) | null = null;

  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }
  release(): void {
    this.#open?.();
    this.#gate = null;
  }
  read(fqdn: string): Promise<GroupRecords> {
    return this.inner.read(fqdn);
  }
  async compareAndSwap(fqdn: string, expectation: RecordsExpectation, replacement: RecordsReplacement, options: UpdateOptions): Promise<void> {
    this.writes += 1;
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.#gate !== null) await this.#gate;
      await this.inner.compareAndSwap(fqdn, expectation, replacement, options);
    } finally {
      this.inFlight -= 1;
    }
  }
}

function mirrorOf(options: { address?: () => string; isDnsConfigured?: () => boolean } = {}) {
  const etcd = new InMemoryDnsAuthority();
  const dns = new CountingDns();
  const logger = recordingLogger();
  const mirror = new DnsMirror({ authority: etcd, dns, logger, ...options });
  return { etcd, dns, logger, mirror };
}

describe('DnsMirror', () => {
  it('reads from etcd only, never from DNS', async () => {
    const { etcd, dns, mirror } = mirrorOf();
    etcd.apply(FQDN, {}, { address: '127.0.0.2', txt: hb(1) }, TTL);
    dns.inner.apply(FQDN, {}, { address: '127.0.0.9' }, TTL);
    expect(await mirror.read(FQDN)).toEqual({ address: '127.0.0.2', txt: hb(1) });
    dns.inner.setReachable(false);
    expect(await mirror.read(FQDN)).toEqual({ address: '127.0.0.2', txt: hb(1) });
  });

  it('after a create, replaces the A record on DNS with the address written (no prerequisite, the TTL given)', async () => {
    const { etcd, dns, mirror } = mirrorOf();
    dns.inner.apply(FQDN, {}, { address: '127.0.0.9', txt: 'someone else' }, TTL);
    await mirror.compareAndSwap(FQDN, { address: null, txt: null }, { address: '127.0.0.2', txt: hb(1) }, { ttl: 45 });
    expect(etcd.peek(FQDN)).toEqual({ address: '127.0.0.2', txt: hb(1) });
    await mirror.settled();
    // Only the A record: the TXT record on DNS is not the mirror's.
    expect(dns.inner.peek(FQDN)).toEqual({ address: '127.0.0.2', txt: 'someone else' });
    expect(mirror.pending).toBe(false);
  });

  it('writes nothing to DNS when the etcd prerequisite fails, and rejects with the etcd error', async () => {
    const { etcd, dns, mirror } = mirrorOf();
    etcd.apply(FQDN, {}, { address: '127.0.0.3', txt: hb(7) }, TTL);
    await expect(mirror.compareAndSwap(FQDN, { address: null, txt: null }, { address: '127.0.0.2', txt: hb(1) }, TTL)).rejects.toBeInstanceOf(DnsPrerequisiteFailedError);
    await expect(mirror.compareAndSwap(FQDN, { txt: hb(6) }, { address: '127.0.0.2', txt: hb(8) }, TTL)).rejects.toBeInstanceOf(DnsPrerequisiteFailedError);
    await mirror.settled();
    expect(dns.writes).toBe(0);
    expect(dns.inner.peek(FQDN)).toEqual({ address: null, txt: null });
  });

  it('writes nothing to DNS when etcd is unreachable', async () => {
    const { etcd, dns, mirror } = mirrorOf();
    etcd.setReachable(false);
    await expect(mirror.compareAndSwap(FQDN, { address: null, txt: null }, { address: '127.0.0.2', txt: hb(1) }, TTL)).rejects.toBeInstanceOf(DnsUnreachableError);
    await mirror.settled();
    expect(dns.writes).toBe(0);
  });

  it('a DNS failure never fails the etcd write; the A record catches up at the next heartbeat write once DNS is back', async () => {
    const { etcd, dns, logger, mirror } = mirrorOf();
    dns.inner.setReachable(false);
    await mirror.compareAndSwap(FQDN, { address: null, txt: null }, { address: '127.0.0.2', txt: hb(1) }, TTL);
    await mirror.settled();
    expect(etcd.peek(FQDN).address).toBe('127.0.0.2');
    expect(dns.inner.peek(FQDN).address).toBeNull();
    expect(mirror.pending).toBe(true);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatchObject({ fqdn: FQDN, address: '127.0.0.2', code: 'AG_DNS_UNREACHABLE' });

    // Still down: each heartbeat write tries again, one warning only (rate-limited), the etcd writes succeed.
    await mirror.compareAndSwap(FQDN, { txt: hb(1) }, { txt: hb(2) }, TTL);
    await mirror.settled();
    await mirror.compareAndSwap(FQDN, { txt: hb(2) }, { txt: hb(3) }, TTL);
    await mirror.settled();
    expect(dns.writes).toBe(3);
    expect(logger.warnings).toHaveLength(1);
    expect(etcd.peek(FQDN).txt).toBe(hb(3));

    dns.inner.setReachable(true);
    await mirror.compareAndSwap(FQDN, { txt: hb(3) }, { txt: hb(4) }, TTL);
    await mirror.settled();
    expect(dns.inner.peek(FQDN)).toEqual({ address: '127.0.0.2', txt: null });
    expect(mirror.pending).toBe(false);
    expect(logger.infos).toContainEqual(expect.objectContaining({ fqdn: FQDN, address: '127.0.0.2', suppressedWarnings: 2 }));

    // Once right, heartbeat writes leave DNS alone.
    await mirror.compareAndSwap(FQDN, { txt: hb(4) }, { txt: hb(5) }, TTL);
    await mirror.settled();
    expect(dns.writes).toBe(4);
  });

  it('a takeover moves the A record to the new address', async () => {
    const { etcd, dns, mirror } = mirrorOf();
    await mirror.compareAndSwap(FQDN, { address: null, txt: null }, { address: '127.0.0.2', txt: hb(1) }, TTL);
    await mirror.compareAndSwap(FQDN, { txt: hb(1) }, { address: '127.0.0.3', txt: 'ag1 node=b epoch=2 seq=1 sent=2026-11-30T00:00:01.000Z' }, TTL);
    await mirror.settled();
    expect(etcd.peek(FQDN).address).toBe('127.0.0.3');
    expect(dns.inner.peek(FQDN).address).toBe('127.0.0.3');
  });

  it('leaves DNS alone when the etcd write deletes the address', async () => {
    const { dns, mirror } = mirrorOf();
    await mirror.compareAndSwap(FQDN, { address: null, txt: null }, { address: '127.0.0.2', txt: hb(1) }, TTL);
    await mirror.settled();
    const writes = dns.writes;
    await mirror.compareAndSwap(FQDN, { txt: hb(1) }, { address: null, txt: null }, TTL);
    await mirror.settled();
    expect(dns.writes).toBe(writes);
    expect(dns.inner.peek(FQDN).address).toBe('127.0.0.2');
  });

  it('a delete cancels a retry still waiting: DNS stays as it is', async () => {
    const { dns, mirror } = mirrorOf();
    dns.inner.setReachable(false);
    await mirror.compareAndSwap(FQDN, { address: null, txt: null }, { address: '127.0.0.2', txt: hb(1) }, TTL);
    await mirror.settled();
    dns.inner.setReachable(true);
    await mirror.compareAndSwap(FQDN, { txt: hb(1) }, { address: null, txt: null }, TTL);
    await mirror.settled();
    expect(mirror.pending).toBe(false);
    expect(dns.writes).toBe(1);
    expect(dns.inner.peek(FQDN).address).toBeNull();
  });

  it('keeps at most one DNS write in flight, and the etcd result does not wait for it', async () => {
    const { etcd, dns, mirror } = mirrorOf();
    dns.hold();
    await mirror.compareAndSwap(FQDN, { address: null, txt: null }, { address: '127.0.0.2', txt: hb(1) }, TTL);
    // The etcd write has settled although the DNS write is held open.
    expect(etcd.peek(FQDN).address).toBe('127.0.0.2');
    expect(dns.inFlight).toBe(1);
    for (let seq = 1; seq <= 5; seq += 1) await mirror.compareAndSwap(FQDN, { txt: hb(seq) }, { txt: hb(seq + 1) }, TTL);
    // A takeover while the first write is held: written once the first is done, not at the same time.
    await mirror.compareAndSwap(FQDN, { txt: hb(6) }, { address: '127.0.0.3', txt: hb(7) }, TTL);
    expect(dns.writes).toBe(1);
    dns.release();
    await mirror.settled();
    expect(dns.maxInFlight).toBe(1);
    expect(dns.writes).toBe(2);
    expect(dns.inner.peek(FQDN).address).toBe('127.0.0.3');
  });

  it('a Primary that resumes with heartbeat writes only sets the A record to its own address', async () => {
    const { etcd, dns, mirror } = mirrorOf({ address: () => '127.0.0.2' });
    etcd.apply(FQDN, {}, { address: '127.0.0.2', txt: hb(1) }, TTL);
    await mirror.compareAndSwap(FQDN, { txt: hb(1) }, { txt: hb(2) }, TTL);
    await mirror.settled();
    expect(dns.inner.peek(FQDN).address).toBe('127.0.0.2');
    await mirror.compareAndSwap(FQDN, { txt: hb(2) }, { txt: hb(3) }, TTL);
    await mirror.settled();
    expect(dns.writes).toBe(1);
  });

  it('writes nothing while DNS is not configured, and catches up at a heartbeat write once it is', async () => {
    let configured = false;
    const { dns, mirror } = mirrorOf({ isDnsConfigured: () => configured });
    await mirror.compareAndSwap(FQDN, { address: null, txt: null }, { address: '127.0.0.2', txt: hb(1) }, TTL);
    await mirror.settled();
    expect(dns.writes).toBe(0);
    configured = true;
    await mirror.compareAndSwap(FQDN, { txt: hb(1) }, { txt: hb(2) }, TTL);
    await mirror.settled();
    expect(dns.inner.peek(FQDN).address).toBe('127.0.0.2');
  });
});
