/**
 * A Secondary watches the group on the authority instead of only polling it (rule 1): with an authority that has
 * `watch` (here the in-memory one), the Primary's heartbeat writes reach the Secondary as they are committed, between
 * its standby checks, while the direct path is cut; the absence deadline re-arms on them, and no takeover happens.
 * A takeover still needs the read that confirms the absence. Without `watch` the same group works by polling.
 * Also: the in-memory authority's watch itself, and when a node subscribes and stops.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { GroupRecords } from '../machines/nodeMachine.types.js';
import { NodeRole } from '../src/api/constants.js';
import type { GroupRecordsListener } from '../src/coordination/groupAuthority.js';
import { parseHeartbeatRecord } from '../src/dns/heartbeatRecord.js';
import { InMemoryDnsAuthority } from '../src/dns/inMemoryDnsAuthority.js';
import { DnsUnreachableError } from '../src/dns/errors.js';
import { capturingLogger } from './support/capturingLogger.js';
import { settle } from './support/manualClock.js';
import { FQDN, HookedDns, TwoNodes } from './support/twoNodes.js';

/** The group's timers: heartbeat 1 s, failover period 5 s, and the longest standby check interval it allows (5 s). */
const LONG_CHECK = { health_report_interval: 1, health_check_interval: 5, allowed_absence_interval: 5 } as const;
const HEARTBEAT_MS = 1_000;
const CHECK_MS = 5_000;
const ABSENCE_MS = 5_000;

/** The hooked in-memory authority with the in-memory watch: counts the watches running. */
class WatchedDns extends HookedDns {
  active = 0;
  watch(fqdn: string, listener: GroupRecordsListener, onError?: (error: unknown) => void): () => void {
    const stop = this.inner.watch(fqdn, listener, onError);
    this.active += 1;
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      this.active -= 1;
      stop();
    };
  }
}

const groups: TwoNodes[] = [];
afterEach(async () => {
  for (const group of groups.splice(0)) await group.stopAll();
});

/** A formed group with the long check interval whose nodes use `dns` (with or without watch). */
async function formedGroup(dns: HookedDns): Promise<TwoNodes> {
  const group = new TwoNodes({ group: LONG_CHECK, nodes: { a: { ports: { dns } }, b: { ports: { dns } } } });
  groups.push(group);
  await group.formGroup();
  return group;
}

/** The Secondary's rule 1 bookkeeping. */
function progressOf(group: TwoNodes) {
  return group.b.node.actor!.getSnapshot().context.progress;
}

/** The heartbeat the authority holds now. */
function heartbeatInAuthority(dns: HookedDns) {
  return parseHeartbeatRecord(dns.inner.peek(FQDN).txt!)!;
}

describe('the in-memory authority watch', () => {
  it('tells the records as they are, then each committed change in order, each once, and nothing after stop', async () => {
    const dns = new InMemoryDnsAuthority();
    const told: GroupRecords[] = [];
    const stop = dns.watch(FQDN, (records) => told.push(records));
    // Nothing is told synchronously, not even the records as they are.
    expect(told).toEqual([]);
    await settle();
    expect(told).toEqual([{ address: null, txt: null }]);
    await dns.compareAndSwap(FQDN, { address: null, txt: null }, { address: '127.0.0.2', txt: 'one' }, { ttl: 30 });
    await dns.compareAndSwap(FQDN, { txt: 'one' }, { txt: 'two' }, { ttl: 30 });
    // A failed compare-and-swap changes nothing and tells nothing; neither does one that writes the same values.
    await expect(dns.compareAndSwap(FQDN, { txt: 'one' }, { txt: 'three' }, { ttl: 30 })).rejects.toThrow();
    await dns.compareAndSwap(FQDN, { txt: 'two' }, { txt: 'two' }, { ttl: 30 });
    // Another name is not this watch's business.
    await dns.compareAndSwap('other.example.test', {}, { txt: 'x' }, { ttl: 30 });
    await settle();
    expect(told).toEqual([
      { address: null, txt: null },
      { address: '127.0.0.2', txt: 'one' },
      { address: '127.0.0.2', txt: 'two' },
    ]);
    stop();
    await dns.compareAndSwap(FQDN, { txt: 'two' }, { txt: 'four' }, { ttl: 30 });
    await settle();
    expect(told.map((records) => records.txt)).toEqual([null, 'one', 'two']);
  });
});

describe('a Secondary watching the authority (rule 1)', () => {
  it('sees the Primary’s heartbeat writes between its standby checks, re-arms its absence deadline on them and never takes over, with the direct path cut', async () => {
    const dns = new WatchedDns();
    const group = await formedGroup(dns);
    expect(dns.active).toBe(2);
    group.cutDirectPath();
    const readsBefore = dns.reads;
    // Every heartbeat interval the Secondary knows the heartbeat the authority holds, within the same step.
    for (let step = 0; step < 4 * (CHECK_MS / HEARTBEAT_MS); step += 1) {
      await group.clock.advance(HEARTBEAT_MS);
      const inAuthority = heartbeatInAuthority(dns);
      const progress = progressOf(group);
      expect(progress.seen).toEqual({ epoch: inAuthority.epoch, seq: inAuthority.seq });
      expect(progress.lastHeartbeat?.method).toBe('dns');
      // The deadline was armed by the last report: less than a heartbeat interval ago.
      expect(group.clock.monotonicNow() - progress.absenceDeadlineArmedAt!).toBeLessThan(HEARTBEAT_MS);
      expect(group.b.node.getNodeState().state).toBe('secondary.watching');
    }
    // 20 s, four failover periods, of the authority path alone: no takeover, and no standby check was needed.
    expect(group.a.node.isActingPrimary()).toBe(true);
    expect(group.b.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
    expect(group.b.events.filter((event) => event.eventId === 'TAKEOVER_STARTED' || event.eventId === 'PRIMARY_SUSPECTED')).toEqual([]);
    expect(dns.reads - readsBefore).toBe(0);
  });

  it('still confirms the absence with a read before it takes over', async () => {
    const dns = new WatchedDns();
    const group = await formedGroup(dns);
    group.cutDirectPath();
    await group.clock.advance(2 * HEARTBEAT_MS);
    const readsBefore = dns.reads;
    const lastProgressAt = progressOf(group).lastProgressAt!;
    await group.a.crash();
    const took = await group.clock.advanceUntil(() => group.b.node.isActingPrimary(), 3 * ABSENCE_MS);
    // Not before the failover period since the last progress, and only after a read of the records.
    expect(group.clock.monotonicNow() - lastProgressAt).toBeGreaterThanOrEqual(ABSENCE_MS);
    expect(took).toBeGreaterThan(0);
    expect(dns.reads).toBeGreaterThan(readsBefore);
    expect(parseHeartbeatRecord(dns.records().txt!)?.holder).toBe('b');
  });

  it('works by polling without a watch: progress shows only at the standby checks, still no takeover', async () => {
    const dns = new HookedDns();
    const group = await formedGroup(dns);
    group.cutDirectPath();
    const readsBefore = dns.reads;
    let behind = 0;
    for (let step = 0; step < 4 * (CHECK_MS / HEARTBEAT_MS); step += 1) {
      await group.clock.advance(HEARTBEAT_MS);
      const inAuthority = heartbeatInAuthority(dns);
      if (progressOf(group).seen?.seq !== inAuthority.seq) behind += 1;
    }
    // Between checks the Secondary lags the authority; its checks (one per check interval) keep it from taking over.
    expect(behind).toBeGreaterThan(CHECK_MS / HEARTBEAT_MS);
    expect(dns.reads - readsBefore).toBeGreaterThanOrEqual(3);
    expect(group.a.node.isActingPrimary()).toBe(true);
    expect(group.b.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
    expect(group.b.events.some((event) => event.eventId === 'TAKEOVER_STARTED')).toBe(false);
  });

  it('watches only while in a group: stops on leave and on stop, and again after a rejoin', async () => {
    const dns = new WatchedDns();
    const group = await formedGroup(dns);
    expect(dns.active).toBe(2);
    await group.b.node.leaveGroup();
    await settle();
    expect(dns.active).toBe(1);
    await group.b.node.joinGroup({ address: group.a.address });
    await settle();
    expect(dns.active).toBe(2);
    await group.b.node.stop({ handOver: false });
    expect(dns.active).toBe(1);
    await group.a.node.stop({ handOver: false });
    expect(dns.active).toBe(0);
  });

  it('logs a failing watch at warn, at most once a minute, with its code and reason and the count of those left out', async () => {
    const { logger, lines } = capturingLogger();
    const failures: Array<(error: unknown) => void> = [];
    class FailingWatchDns extends WatchedDns {
      override watch(fqdn: string, listener: GroupRecordsListener, onError?: (error: unknown) => void): () => void {
        if (onError !== undefined) failures.push(onError);
        return super.watch(fqdn, listener, onError);
      }
    }
    const dns = new FailingWatchDns();
    const group = new TwoNodes({ group: LONG_CHECK, nodes: { a: { ports: { dns, logger } }, b: { ports: { dns } } } });
    groups.push(group);
    await group.formGroup();
    const fail = failures[0]!;
    fail(new DnsUnreachableError('etcd watch of app.example.test at 127.0.0.1:2379 failed: connection refused', { rcode: 'ETCD_UNREACHABLE' }));
    fail(new DnsUnreachableError('etcd watch of app.example.test at 127.0.0.1:2379 failed: connection refused', { rcode: 'ETCD_UNREACHABLE' }));
    await group.clock.advance(61_000);
    fail(new DnsUnreachableError('etcd watch of app.example.test at 127.0.0.1:2379 failed: deadline', { rcode: 'ETCD_UNREACHABLE' }));
    const warnings = lines.filter((line) => line.level === 40 && String(line.msg).startsWith('the watch of the group'));
    expect(warnings.map((line) => [line.code, line.reason, line.suppressed])).toEqual([
      ['AG_DNS_UNREACHABLE', 'etcd watch of app.example.test at 127.0.0.1:2379 failed: connection refused', 0],
      ['AG_DNS_UNREACHABLE', 'etcd watch of app.example.test at 127.0.0.1:2379 failed: deadline', 1],
    ]);
    expect(warnings.every((line) => line.fqdn === FQDN && line.node === 'a')).toBe(true);
  });
});
