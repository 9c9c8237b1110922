/**
 * One test (or a few) per decision rule of docs/design.md section 2, on two real nodes with in-memory ports and a manual
 * clock. Each asserts what the rule promises, so breaking the rule in the machine fails it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EventId, HeartbeatMethod, NodeDnsConnectionState, NodeRole } from '../src/api/constants.js';
import { NotActingPrimaryError, SettingsError } from '../src/api/errors.js';
import { formatHeartbeatRecord, parseHeartbeatRecord } from '../src/dns/heartbeatRecord.js';
import { loadSettings } from '../src/node/settings.js';
import type { RecordsExpectation, RecordsReplacement } from '../src/dns/dnsAuthority.js';
import { eventsOf, FQDN, roleChanges, TwoNodes } from './support/twoNodes.js';

const ABSENCE_MS = 5_000;
const CHECK_MS = 1_000;
const LEASE_MS = 3_750;

let group: TwoNodes;
afterEach(async () => {
  await group?.stopAll();
});

/** Every compare-and-swap from now on, in order: when it reached DNS, what it expected and what it wrote. */
function recordUpdates(): Array<{ at: number; expected: RecordsExpectation; written: RecordsReplacement }> {
  const updates: Array<{ at: number; expected: RecordsExpectation; written: RecordsReplacement }> = [];
  group.dns.beforeUpdate = (_fqdn, written, expected) => void updates.push({ at: group.clock.monotonicNow(), expected, written });
  return updates;
}

describe('rule 1: freshness by sequence progress on the monotonic clock', () => {
  it('keeps the Secondary watching while only the DNS path delivers heartbeats', async () => {
    group = new TwoNodes();
    await group.formGroup();
    group.cutDirectPath();
    await group.clock.advance(ABSENCE_MS * 4);
    expect(group.b.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
    expect(group.b.node.getNodeState().heartbeatMethod).toBe(HeartbeatMethod.DNS);
    expect(group.a.node.isActingPrimary()).toBe(true);
    expect(eventsOf(group.b.events, EventId.TAKEOVER_STARTED)).toHaveLength(0);
  });

  it('keeps the Secondary watching while only the direct path delivers heartbeats', async () => {
    group = new TwoNodes();
    await group.formGroup();
    // DNS unreachable for both: the Primary's TXT writes fail, its lease lives on the Secondary's acknowledgements.
    group.dns.setReachable(false);
    await group.clock.advance(ABSENCE_MS * 4);
    expect(group.a.node.isActingPrimary()).toBe(true);
    expect(group.b.node.getNodeState().heartbeatMethod).toBe(HeartbeatMethod.DIRECT);
    expect(eventsOf(group.b.events, EventId.TAKEOVER_STARTED)).toHaveLength(0);
  });

  it('declares absence only after a whole failover period without progress, and then takes over', async () => {
    group = new TwoNodes();
    await group.formGroup();
    await group.a.crash();
    const crashedAt = group.clock.monotonicNow();
    const tookMs = await group.clock.advanceUntil(() => group.b.node.isActingPrimary(), ABSENCE_MS * 3);
    // The newest heartbeat was sent at most one interval before the crash; absence is measured from it.
    expect(tookMs).toBeGreaterThanOrEqual(ABSENCE_MS - 1_000);
    expect(tookMs).toBeLessThanOrEqual(ABSENCE_MS + CHECK_MS + 50);
    expect(group.clock.monotonicNow()).toBeGreaterThan(crashedAt);
    expect(eventsOf(group.b.events, EventId.PRIMARY_SUSPECTED).length).toBeGreaterThan(0);
    expect(group.dns.records().address).toBe(group.b.address);
  });

  it('ignores the Primary wall clock: a Primary an hour ahead or behind is neither early nor late', async () => {
    group = new TwoNodes();
    await group.formGroup();
    group.cutDirectPath();
    // Rewrite b's view: a heartbeat that claims a far-future send time but no new seq is not progress.
    const records = group.dns.records();
    const current = parseHeartbeatRecord(records.txt!)!;
    group.b.node.actor!.send({
      type: 'HEARTBEAT_RECEIVED',
      heartbeat: { ...current, sentAt: current.sentAt + 3_600_000 },
      at: { monotonic: group.clock.monotonicNow(), wall: group.clock.wallNow() },
    });
    await group.a.crash();
    const tookMs = await group.clock.advanceUntil(() => group.b.node.isActingPrimary(), ABSENCE_MS * 3);
    expect(tookMs).toBeLessThanOrEqual(ABSENCE_MS + CHECK_MS + 50);
  });
});

describe('rule 2: takeover is a compare-and-swap', () => {
  it('abandons the takeover and stays Secondary when the records changed after its last read', async () => {
    group = new TwoNodes();
    await group.formGroup();
    await group.a.crash();
    // Just before b's takeover update lands, another writer (the "old Primary") writes a newer heartbeat.
    group.dns.beforeUpdate = (fqdn, replacement) => {
      if (replacement.address !== group.b.address) return;
      group.dns.beforeUpdate = null;
      const current = parseHeartbeatRecord(group.dns.records().txt!)!;
      group.dns.inner.apply(fqdn, {}, { txt: formatHeartbeatRecord({ ...current, seq: current.seq + 1 }) }, { ttl: 30 });
    };
    await group.clock.advanceUntil(() => eventsOf(group.b.events, EventId.TAKEOVER_ABANDONED).length > 0, ABSENCE_MS * 3);
    expect(eventsOf(group.b.events, EventId.TAKEOVER_ABANDONED)[0]!.reason).toBe('lost the race');
    expect(group.b.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
    expect(group.dns.records().address).toBe(group.a.address);
    expect(roleChanges(group.b.events)).not.toContain('secondary>primary');
  });

  it('replaces A and TXT together with the next epoch and seq 0; the first heartbeat (seq 1) follows at once', async () => {
    group = new TwoNodes();
    await group.formGroup();
    await group.a.crash();
    const lastOfA = group.dns.records();
    const before = parseHeartbeatRecord(lastOfA.txt!)!;
    const updates = recordUpdates();
    await group.clock.advanceUntil(() => group.b.node.isActingPrimary(), ABSENCE_MS * 3);
    const [takeover, firstHeartbeat] = updates;
    expect(takeover!.expected).toEqual({ address: group.a.address, txt: lastOfA.txt });
    expect(takeover!.written.address).toBe(group.b.address);
    expect(parseHeartbeatRecord(takeover!.written.txt!)).toMatchObject({ holder: 'b', epoch: before.epoch + 1, seq: 0 });
    // Rule 3: the lease runs from the takeover's send time, so the first heartbeat leaves as b becomes Primary, not a
    // heartbeat interval later. Rule 4: its compare-and-swap expects the record the takeover wrote.
    expect(firstHeartbeat!.at).toBe(takeover!.at);
    expect(firstHeartbeat!.expected.txt).toBe(takeover!.written.txt);
    expect(parseHeartbeatRecord(firstHeartbeat!.written.txt!)).toMatchObject({ holder: 'b', epoch: before.epoch + 1, seq: 1 });
    expect(group.dns.records().address).toBe(group.b.address);
  });
});

describe('rule 3: the Primary holds a lease from the send time of its last confirmed heartbeat', () => {
  it('steps down when no heartbeat is confirmed for a lease, before the Secondary may take over', async () => {
    group = new TwoNodes();
    await group.formGroup();
    group.cutDirectPath();
    group.dns.setReachable(false);
    const isolatedAt = group.clock.monotonicNow();
    const tookMs = await group.clock.advanceUntil(() => !group.a.node.isActingPrimary(), ABSENCE_MS * 2, 1);
    expect(tookMs).toBeLessThanOrEqual(LEASE_MS);
    await group.clock.advance(10);
    const state = group.a.node.getNodeState();
    expect(state.nodeRole).toBe(NodeRole.SECONDARY);
    expect(state.nodeDnsConnectionState).toBe(NodeDnsConnectionState.DISCONNECTED);
    expect(eventsOf(group.a.events, EventId.LEASE_LOST).map((event) => event.reason)).toContain('lease expired');
    // The Secondary, isolated too, never took over: it cannot reach DNS.
    expect(group.clock.monotonicNow() - isolatedAt).toBeLessThan(ABSENCE_MS);
    expect(group.b.node.isActingPrimary()).toBe(false);
  });

  it('refuses timers that cannot keep the lease promise, naming the field and the rule', () => {
    const base = { node_id: 'a', external_ipv4_address: '127.0.0.2' };
    expect(() => loadSettings({ ...base, health_report_interval: 30, allowed_absence_interval: 60 })).toThrow(
      /health_report_interval: rule 3: 2 heartbeats must fit into the lease/,
    );
    expect(() => loadSettings({ ...base, lease_duration: 60, allowed_absence_interval: 60 })).toThrow(/lease_duration: rule 3/);
    try {
      loadSettings({ ...base, health_check_interval: 90 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SettingsError);
      expect((error as SettingsError).issues).toEqual([expect.objectContaining({ field: 'health_check_interval' })]);
    }
  });
});

describe('rule 4: fencing', () => {
  it('steps down at once when its own TXT compare-and-swap fails', async () => {
    group = new TwoNodes();
    await group.formGroup();
    const current = parseHeartbeatRecord(group.dns.records().txt!)!;
    group.dns.inner.apply(FQDN, {}, { address: group.b.address, txt: formatHeartbeatRecord({ holder: 'b', epoch: current.epoch + 1, seq: 0, sentAt: current.sentAt }) }, { ttl: 30 });
    await group.clock.advanceUntil(() => group.a.node.getNodeState().nodeRole === NodeRole.SECONDARY, 1_100, 1);
    expect(group.a.node.isActingPrimary()).toBe(false);
    expect(eventsOf(group.a.events, EventId.LEASE_LOST)[0]!.reason).toBe('own heartbeat write lost the race');
  });

  it('steps down when the peer answers with a higher epoch', async () => {
    group = new TwoNodes();
    await group.formGroup();
    // b takes over by force while a cannot hear of it through DNS.
    group.dns.setReachable(false);
    const current = parseHeartbeatRecord(group.dns.inner.peek(FQDN).txt!)!;
    group.b.node.actor!.send({
      type: 'HEARTBEAT_RECEIVED',
      heartbeat: { holder: 'b', epoch: current.epoch + 1, seq: 0, sentAt: current.sentAt },
      at: { monotonic: group.clock.monotonicNow(), wall: group.clock.wallNow() },
    });
    await group.clock.advanceUntil(() => !group.a.node.isActingPrimary(), 1_100, 1);
    expect(eventsOf(group.a.events, EventId.LEASE_LOST)[0]!.reason).toBe('fenced by a newer epoch');
  });
});

describe('rule 5: no automatic failback', () => {
  it('brings a restarted old Primary back as Secondary after a takeover', async () => {
    group = new TwoNodes();
    await group.formGroup();
    await group.a.crash();
    await group.clock.advanceUntil(() => group.b.node.isActingPrimary(), ABSENCE_MS * 3);
    await group.a.restart();
    await group.clock.advance(3_000);
    // It never even tried to re-assert itself: the records name b.
    const aStates = group.transitions.filter((event) => event.actorRef === group.a.node.actor).map((event) => JSON.stringify((event as { snapshot?: unknown }).snapshot));
    expect(aStates.some((state) => state.includes('"value":"reclaiming"'))).toBe(false);
    expect(group.a.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
    expect(group.a.node.isActingPrimary()).toBe(false);
    expect(group.b.node.isActingPrimary()).toBe(true);
    expect(roleChanges(group.a.events).at(-1)).toBe('-' + '>secondary');
  });

  it('lets a restarted Primary resume only after re-asserting the records that still name it', async () => {
    group = new TwoNodes();
    await group.formGroup();
    const found = group.dns.records();
    const before = parseHeartbeatRecord(found.txt!)!;
    const updates = recordUpdates();
    await group.a.restart();
    expect(group.a.node.isActingPrimary()).toBe(true);
    const [reclaim, firstHeartbeat] = updates;
    // A reclaim starts a new epoch, so the peer counts its heartbeats as progress whatever seq it saw before.
    expect(reclaim!.expected.txt).toBe(found.txt);
    expect(parseHeartbeatRecord(reclaim!.written.txt!)).toMatchObject({ holder: 'a', epoch: before.epoch + 1, seq: 0 });
    // Rule 3: its first heartbeat leaves at once, on the record the reclaim wrote (rule 4), and reaches the peer.
    expect(firstHeartbeat!.at).toBe(reclaim!.at);
    expect(firstHeartbeat!.expected.txt).toBe(reclaim!.written.txt);
    expect(parseHeartbeatRecord(firstHeartbeat!.written.txt!)).toMatchObject({ holder: 'a', epoch: before.epoch + 1, seq: 1 });
    await group.clock.advanceUntil(() => group.b.node.getNodeState().epoch === before.epoch + 1, 1, 1);
  });
});

describe('rule 6: manual failover from either side', () => {
  it('hands over from the Primary: the Secondary takes over at once', async () => {
    group = new TwoNodes();
    await group.formGroup();
    const startedAt = group.clock.monotonicNow();
    const done = group.a.node.failover();
    await group.clock.advanceUntil(() => group.b.node.isActingPrimary(), ABSENCE_MS, 1);
    await done;
    expect(group.clock.monotonicNow() - startedAt).toBeLessThan(CHECK_MS);
    expect(group.a.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
    expect(eventsOf(group.b.events, EventId.TAKEOVER_STARTED)[0]!.mode).toBe('handover');
  });

  it('takes over from the Secondary after asking the Primary to step down', async () => {
    group = new TwoNodes();
    await group.formGroup();
    const done = group.b.node.failover();
    await group.clock.advanceUntil(() => group.b.node.isActingPrimary(), ABSENCE_MS, 1);
    await done;
    expect(group.a.node.isActingPrimary()).toBe(false);
    expect(eventsOf(group.a.events, EventId.LEASE_LOST)[0]!.reason).toBe('manual failover requested by the secondary');
  });

  it('forces a takeover when the Primary cannot be asked, acting once the old lease has certainly ended, well within a failover period', async () => {
    group = new TwoNodes();
    await group.formGroup();
    group.cutDirectPath();
    const startedAt = group.clock.monotonicNow();
    const done = group.b.node.failover();
    let bothActing = false;
    await group.clock.advanceUntil(() => {
      bothActing ||= group.a.node.isActingPrimary() && group.b.node.isActingPrimary();
      return group.b.node.isActingPrimary();
    }, ABSENCE_MS * 3, 1);
    await done;
    const lastProgress = group.b.node.actor!.getSnapshot().context;
    expect(bothActing).toBe(false);
    // Item 11: it waits only as long as the old lease can run from the last progress it saw (the TXT it read), not a
    // whole failover period from its write.
    expect(group.clock.monotonicNow() - startedAt).toBeLessThan(ABSENCE_MS);
    expect(group.clock.monotonicNow() - startedAt).toBeGreaterThanOrEqual(lastProgress.timers.leaseBoundMs - 1_000);
    expect(group.a.node.isActingPrimary()).toBe(false);
    expect(eventsOf(group.b.events, EventId.TAKEOVER_STARTED)[0]!.mode).toBe('forced');
  });
});

describe('rule 7: acting as Primary means a lease valid at the instant of the call', () => {
  it('refuses Primary-only work in a process that was paused past its lease, before any timer runs', async () => {
    group = new TwoNodes();
    await group.formGroup();
    let ran = 0;
    await group.a.node.requirePrimary(() => {
      ran += 1;
    });
    expect(ran).toBe(1);
    group.clock.jump(LEASE_MS + 1);
    // No timer has fired: the machine still says primary, but the lease check at call time refuses.
    expect(group.a.node.getNodeState().nodeRole).toBe(NodeRole.PRIMARY);
    expect(group.a.node.getNodeState().actingPrimary).toBe(false);
    expect(group.a.node.isActingPrimary()).toBe(false);
    await expect(group.a.node.requirePrimary(() => (ran += 1))).rejects.toBeInstanceOf(NotActingPrimaryError);
    expect(ran).toBe(1);
  });

  it('sends no heartbeat from a process resumed past its lease, even when its heartbeat timer fires first', async () => {
    group = new TwoNodes();
    await group.formGroup();
    const seenBefore = group.b.node.actor!.getSnapshot().context.progress.seen!;
    const sent: number[] = [];
    group.network.intercept = (message) => {
      if (message.type === 'heartbeat') sent.push(message.heartbeat.seq);
    };
    group.clock.jump(LEASE_MS + 1);
    await group.clock.advance(1);
    expect(sent).toEqual([]);
    expect(group.a.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
    // The Secondary saw no stale progress, so its failover period still counts from before the pause.
    expect(group.b.node.actor!.getSnapshot().context.progress.seen).toEqual(seenBefore);
  });

  it('aborts the signal of running Primary-only work when the lease is lost', async () => {
    group = new TwoNodes();
    await group.formGroup();
    let aborted = false;
    const work = group.a.node.requirePrimary(
      ({ signal }) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          });
        }),
    );
    group.cutDirectPath();
    group.dns.setReachable(false);
    await group.clock.advanceUntil(() => aborted, LEASE_MS * 2, 10);
    await work;
    expect(group.a.node.isActingPrimary()).toBe(false);
  });
});
