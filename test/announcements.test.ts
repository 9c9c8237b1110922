/**
 * What the group announces is the truth of the whole group (rule 8): at no instant do two nodes announce `primary`
 * (in `getNodeState()` or in a subscriber's last NODE_ROLE_CHANGED), a DNS outage changes no role and no epoch,
 * suspicion needs real silence, and a manual failover keeps its word. Two real nodes on a manual clock, an
 * in-memory network (one-way cuts lose answers too) and a hooked in-memory DNS authority.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EventId, HeartbeatMethod, NodeDnsConnectionState, NodeRole } from '../src/api/constants.js';
import { DnsUnreachableError } from '../src/dns/errors.js';
import type { RecordsExpectation, RecordsReplacement, UpdateOptions } from '../src/dns/dnsAuthority.js';
import { FailoverError, PeerUnreachableError } from '../src/api/errors.js';
import type { PeerTransport } from '../src/peer/peerTransport.js';
import { formatHeartbeatRecord, parseHeartbeatRecord } from '../src/dns/heartbeatRecord.js';
import { eventsOf, roleChanges, TwoNodes, type HarnessNode } from './support/twoNodes.js';

const ABSENCE_MS = 5_000;

let group: TwoNodes | null = null;
afterEach(async () => {
  await group?.stopAll();
  group = null;
});

/** The role a node announces now: primary if `getNodeState()` or its subscriber's last role event says so. */
function announcesPrimary(harnessNode: HarnessNode): boolean {
  if (harnessNode.node.actor === null) return false;
  const last = eventsOf(harnessNode.events, EventId.NODE_ROLE_CHANGED).at(-1);
  return harnessNode.node.getNodeState().nodeRole === NodeRole.PRIMARY || last?.new === NodeRole.PRIMARY;
}

/**
 * Watches for two announced Primaries: at every role event either node's subscribers receive (the instant a new
 * Primary announces itself is when it matters) and whenever `check()` is called (every clock step).
 */
function watchAnnouncements(twoNodes: TwoNodes): { overlaps: string[]; check(): void } {
  const overlaps: string[] = [];
  const check = () => {
    if (announcesPrimary(twoNodes.a) && announcesPrimary(twoNodes.b)) {
      overlaps.push(`at ${twoNodes.clock.monotonicNow()} ms: a says ${twoNodes.a.node.getNodeState().nodeRole}, b says ${twoNodes.b.node.getNodeState().nodeRole}`);
    }
  };
  for (const harnessNode of [twoNodes.a, twoNodes.b]) harnessNode.node.subscribe(EventId.NODE_ROLE_CHANGED, () => check());
  return { overlaps, check };
}

function epochOf(twoNodes: TwoNodes): number {
  return parseHeartbeatRecord(twoNodes.dns.records().txt!)!.epoch;
}

async function formed(): Promise<TwoNodes> {
  group = new TwoNodes();
  await group.formGroup();
  return group;
}

describe('one announced Primary through a manual failover', () => {
  it('a handover from the Primary: the old Primary announces secondary before the new one announces primary', async () => {
    const g = await formed();
    const watch = watchAnnouncements(g);
    const epoch = epochOf(g);
    await g.a.node.failover();
    // The answer comes only once the new Primary acts.
    expect(g.b.node.isActingPrimary()).toBe(true);
    await g.clock.advanceWatching(2_000, 1, watch.check);
    expect(watch.overlaps).toEqual([]);
    expect(epochOf(g)).toBe(epoch + 1);
    expect(roleChanges(g.a.events)).toEqual(['->not_in_group', 'not_in_group>primary', 'primary>secondary']);
    expect(roleChanges(g.b.events)).toEqual(['->not_in_group', 'not_in_group>secondary', 'secondary>primary']);
  });

  it('a failover asked on the Secondary: the Primary hands over to it', async () => {
    const g = await formed();
    const watch = watchAnnouncements(g);
    await g.b.node.failover();
    expect(g.b.node.isActingPrimary()).toBe(true);
    await g.clock.advanceWatching(2_000, 1, watch.check);
    expect(watch.overlaps).toEqual([]);
    expect(eventsOf(g.a.events, EventId.LEASE_LOST)[0]!.reason).toBe('manual failover requested by the secondary');
    expect(eventsOf(g.b.events, EventId.TAKEOVER_STARTED)[0]!.mode).toBe('handover');
  });

  it('a handover whose answer is lost: one Primary in the end, never two announced', async () => {
    const g = await formed();
    const watch = watchAnnouncements(g);
    // The answer to the offer is lost: cut b -> a the moment b starts taking over.
    g.b.node.subscribe(EventId.TAKEOVER_STARTED, () => g.network.cut('b', 'a'));
    const outcome = g.a.node.failover().then(
      () => 'completed',
      (error: unknown) => (error as Error).message,
    );
    await g.clock.advanceUntil(() => g.b.node.isActingPrimary(), ABSENCE_MS, 1);
    g.network.heal('b', 'a');
    await g.clock.advanceWatching(3_000, 1, watch.check);
    expect(await outcome).toBe('completed');
    expect(watch.overlaps).toEqual([]);
    expect(g.a.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
    expect(g.a.node.isActingPrimary()).toBe(false);
    expect(g.b.node.isActingPrimary()).toBe(true);
    expect(g.dns.records().address).toBe(g.b.address);
  });

  it("a handover whose takeover goes unanswered but is applied: not called refused; the records decide, one Primary", async () => {
    const g = await formed();
    const watch = watchAnnouncements(g);
    const swap = g.dns.compareAndSwap.bind(g.dns);
    g.dns.compareAndSwap = async (fqdn: string, expectation: RecordsExpectation, replacement: RecordsReplacement, options: UpdateOptions) => {
      await swap(fqdn, expectation, replacement, options);
      if (replacement.address === g.b.address) throw new DnsUnreachableError('answer lost (test)');
    };
    const outcome = g.a.node.failover().then(
      () => 'completed',
      (error: unknown) => (error as FailoverError).outcome,
    );
    await g.clock.advanceWatching(ABSENCE_MS, 1, watch.check);
    expect(await outcome).toBe('completed');
    expect(watch.overlaps).toEqual([]);
    expect(g.b.node.isActingPrimary()).toBe(true);
    expect(g.a.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
    expect(g.dns.records().address).toBe(g.b.address);
  });

  it('a handover whose answer is lost before the taker hears its own compare-and-swap: completed only once the new Primary acts', async () => {
    // a's offer times out after 100 ms (as a real peer timeout can, before the taker's update is answered), and b
    // hears the answer to its takeover's compare-and-swap only 2 s after DNS applied it. So a's reclaim loses and its
    // read names b at the new epoch well before b acts: the records alone are no proof that b acts.
    let inner: PeerTransport | null = null;
    const impatient: PeerTransport = {
      listen: (self, receiver) => inner!.listen(self, receiver),
      send: (to, message) => {
        const sent = inner!.send(to, message);
        if (message.type !== 'handover') return sent;
        const timedOut = new Promise<never>((_, reject) => g.clock.setTimeout(() => reject(new PeerUnreachableError('the handover answer timed out (test)')), 100));
        sent.catch(() => undefined);
        return Promise.race([sent, timedOut]);
      },
    };
    group = new TwoNodes({ nodes: { a: { ports: { peer: impatient } } } });
    const g = group;
    inner = g.network.transport();
    await g.formGroup();
    const watch = watchAnnouncements(g);
    const epoch = epochOf(g);
    const swap = g.dns.compareAndSwap.bind(g.dns);
    g.dns.compareAndSwap = async (fqdn: string, expectation: RecordsExpectation, replacement: RecordsReplacement, options: UpdateOptions) => {
      await swap(fqdn, expectation, replacement, options);
      if (replacement.address === g.b.address) await new Promise<void>((resolve) => g.clock.setTimeout(resolve, 2_000));
    };
    let takerActsAtAnswer: boolean | null = null;
    const outcome = g.a.node.failover().then(
      () => {
        takerActsAtAnswer = g.b.node.isActingPrimary();
        return 'completed';
      },
      (error: unknown) => (error as Error).message,
    );
    await g.clock.advanceWatching(2 * ABSENCE_MS, 1, watch.check);
    expect(await outcome).toBe('completed');
    expect(takerActsAtAnswer, 'b acts when a answers completed').toBe(true);
    expect(watch.overlaps).toEqual([]);
    expect(epochOf(g)).toBe(epoch + 1);
    expect(g.b.node.isActingPrimary()).toBe(true);
    expect(g.a.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
  });

  it('failover asked on both nodes at once: one takeover, one success, one 409-style refusal naming the new Primary', async () => {
    const g = await formed();
    const watch = watchAnnouncements(g);
    const epoch = epochOf(g);
    const results = await Promise.allSettled([g.a.node.failover(), g.b.node.failover()]);
    await g.clock.advanceWatching(2_000, 1, watch.check);
    const fulfilled = results.filter((result) => result.status === 'fulfilled');
    const rejected = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toBeInstanceOf(FailoverError);
    expect(rejected[0]).toMatchObject({ outcome: 'refused', reason: 'in_progress' });
    expect((rejected[0] as Error).message).toMatch(/b becomes Primary/);
    expect(epochOf(g)).toBe(epoch + 1);
    expect(g.b.node.isActingPrimary()).toBe(true);
    expect(watch.overlaps).toEqual([]);
  });
});

describe('no outage from a DNS outage', () => {
  it('keeps the Primary acting and every role and epoch while DNS is down for twice the failover period', async () => {
    const g = await formed();
    const watch = watchAnnouncements(g);
    const epoch = g.a.node.getNodeState().epoch;
    const rolesBefore = [roleChanges(g.a.events).length, roleChanges(g.b.events).length];
    g.dns.setReachable(false);
    let lostActing = false;
    await g.clock.advanceWatching(2 * ABSENCE_MS, 10, () => {
      watch.check();
      lostActing ||= !g.a.node.isActingPrimary();
    });
    expect(lostActing).toBe(false);
    // The Primary's TXT writes fail; the Secondary, fed by direct heartbeats, has no reason to read DNS (as in the product).
    expect(g.a.node.getNodeState().nodeDnsConnectionState).toBe(NodeDnsConnectionState.DISCONNECTED);
    g.dns.setReachable(true);
    await g.clock.advanceWatching(3_000, 10, watch.check);
    expect(g.a.node.getNodeState().nodeDnsConnectionState).toBe(NodeDnsConnectionState.CONNECTED);
    expect(g.b.node.getNodeState().nodeDnsConnectionState).toBe(NodeDnsConnectionState.CONNECTED);
    expect([roleChanges(g.a.events).length, roleChanges(g.b.events).length]).toEqual(rolesBefore);
    expect([g.a.node.getNodeState().epoch, g.b.node.getNodeState().epoch, epochOf(g)]).toEqual([epoch, epoch, epoch]);
    expect(eventsOf(g.a.events, EventId.LEASE_LOST)).toEqual([]);
    expect(watch.overlaps).toEqual([]);
  });

  it('carries on when its own unanswered writes were applied late: no role change, no new epoch', async () => {
    const g = await formed();
    const epoch = epochOf(g);
    // The server applies the next three updates but its answers never arrive (a paused server that resumes).
    let lateAnswers = 3;
    const applyThenLoseAnswer = g.dns.compareAndSwap.bind(g.dns);
    g.dns.compareAndSwap = async (fqdn: string, expectation: RecordsExpectation, replacement: RecordsReplacement, options: UpdateOptions) => {
      await applyThenLoseAnswer(fqdn, expectation, replacement, options);
      if (lateAnswers > 0) {
        lateAnswers -= 1;
        throw new DnsUnreachableError('no answer (test: the update was applied, its answer lost)');
      }
    };
    await g.clock.advanceWatching(6_000, 10, () => undefined);
    expect(lateAnswers).toBe(0);
    expect(roleChanges(g.a.events)).toEqual(['->not_in_group', 'not_in_group>primary']);
    expect(epochOf(g)).toBe(epoch);
    expect(parseHeartbeatRecord(g.dns.records().txt!)!.seq).toBeGreaterThan(3);
    expect(g.a.node.isActingPrimary()).toBe(true);
    expect(g.a.node.getNodeState().nodeDnsConnectionState).toBe(NodeDnsConnectionState.CONNECTED);
  });
});

describe('suspicion only on real silence', () => {
  it('does not suspect a Primary whose heartbeat arrives while the standby check reads DNS, and does without one', async () => {
    const g = await formed();
    // Neither path makes progress on its own: the direct path is cut and the Primary's TXT writes fail.
    g.cutDirectPath();
    g.dns.beforeUpdate = () => {
      throw new DnsUnreachableError('writes fail (test)');
    };
    const checkWith = async (heartbeat: boolean) => {
      g.dns.holdReads = true;
      await g.clock.advanceUntil(() => g.b.node.getNodeState().state === 'secondary.checking', 3_000, 1);
      if (heartbeat) {
        const seen = g.b.node.actor!.getSnapshot().context.progress.seen!;
        const at = { monotonic: g.clock.monotonicNow(), wall: g.clock.wallNow() };
        g.b.node.actor!.send({ type: 'HEARTBEAT_RECEIVED', heartbeat: { holder: 'a', epoch: seen.epoch, seq: seen.seq + 1, sentAt: at.wall }, at });
      }
      g.dns.release();
      await g.clock.advance(1);
      return eventsOf(g.b.events, EventId.PRIMARY_SUSPECTED).length;
    };
    expect(await checkWith(true)).toBe(0);
    // The control: the same check with no heartbeat meanwhile raises the suspicion.
    expect(await checkWith(false)).toBe(1);
  });

  it('suspects a Primary that fell silent on both paths, before declaring it absent', async () => {
    const g = await formed();
    await g.a.crash();
    await g.clock.advanceUntil(() => g.b.node.isActingPrimary(), 3 * ABSENCE_MS, 10);
    const suspected = eventsOf(g.b.events, EventId.PRIMARY_SUSPECTED);
    expect(suspected.length).toBeGreaterThan(0);
    expect(suspected.every((event) => event.silentForMs > 0 && event.silentForMs < ABSENCE_MS)).toBe(true);
  });
});

describe('no false failover after a pause', () => {
  it('does not count a pause during its standby check read as the Primary\'s silence', async () => {
    const g = await formed();
    g.cutDirectPath();
    // b's check read is sent, then b's process is paused for longer than a failover period before it sees the answer
    // (the answer shows the records as they were before the pause; the Primary kept writing meanwhile).
    g.dns.holdReads = true;
    await g.clock.advanceUntil(() => g.b.node.getNodeState().state === 'secondary.checking', 3_000, 1);
    g.clock.jump(2 * ABSENCE_MS);
    g.dns.release();
    await g.clock.advance(1);
    // (The harness's one clock moved for a too, so a's own lease is no measure here; b's decision is.)
    expect(eventsOf(g.b.events, EventId.TAKEOVER_STARTED)).toEqual([]);
    expect(g.b.node.getNodeState().state).toBe('secondary.watching');
  });
});

describe('state fields with the product meaning', () => {
  it('on a Primary, heartbeat_method says direct while the direct path confirms and dns when only DNS does', async () => {
    const g = await formed();
    const methods = new Set<string | null>();
    await g.clock.advanceWatching(5_000, 10, () => methods.add(g.a.node.getNodeState().heartbeatMethod));
    expect([...methods]).toEqual([HeartbeatMethod.DIRECT]);
    g.cutDirectPath();
    await g.clock.advance(3_000);
    expect(g.a.node.getNodeState().heartbeatMethod).toBe(HeartbeatMethod.DNS);
  });
});

describe('failover requests that keep their word', () => {
  it('on the Secondary during a DNS outage: refused at once, nothing changes then or after DNS returns', async () => {
    const g = await formed();
    const epoch = epochOf(g);
    g.dns.setReachable(false);
    await expect(g.b.node.failover()).rejects.toMatchObject({ outcome: 'failed', reason: 'dns_unreachable' });
    expect(g.a.node.isActingPrimary()).toBe(true);
    expect(eventsOf(g.a.events, EventId.LEASE_LOST)).toEqual([]);
    await g.clock.advance(ABSENCE_MS);
    g.dns.setReachable(true);
    await g.clock.advance(2 * ABSENCE_MS);
    expect(g.a.node.isActingPrimary()).toBe(true);
    expect(epochOf(g)).toBe(epoch);
    expect(roleChanges(g.b.events)).toEqual(['->not_in_group', 'not_in_group>secondary']);
  });

  it('on the Primary during a DNS outage: refused because the Secondary cannot take over; the Primary never stops acting', async () => {
    const g = await formed();
    const epoch = epochOf(g);
    g.dns.setReachable(false);
    let lostActing = false;
    const outcome = g.a.node.failover().catch((error: unknown) => error);
    await g.clock.advanceWatching(3_000, 1, () => (lostActing ||= !g.a.node.isActingPrimary()));
    expect(await outcome).toMatchObject({ outcome: 'refused', reason: 'not_ready', actingPrimary: true });
    expect(lostActing).toBe(false);
    g.dns.setReachable(true);
    await g.clock.advance(2 * ABSENCE_MS);
    expect(g.a.node.isActingPrimary()).toBe(true);
    expect(epochOf(g)).toBe(epoch);
    expect(roleChanges(g.a.events)).toEqual(['->not_in_group', 'not_in_group>primary']);
  });

  it("a heartbeat write of the Primary's that lands after its offer does not spoil the handover", async () => {
    const g = await formed();
    const watch = watchAnnouncements(g);
    // a's write that was in flight as it stepped down lands just before b's compare-and-swap (seen under load).
    g.dns.beforeUpdate = (fqdn, replacement) => {
      if (replacement.address !== g.b.address) return;
      g.dns.beforeUpdate = null;
      const current = parseHeartbeatRecord(g.dns.records().txt!)!;
      g.dns.inner.apply(fqdn, {}, { txt: formatHeartbeatRecord({ ...current, seq: current.seq + 1 }) }, { ttl: 30 });
    };
    await g.a.node.failover();
    expect(g.b.node.isActingPrimary()).toBe(true);
    await g.clock.advanceWatching(2_000, 1, watch.check);
    expect(watch.overlaps).toEqual([]);
    expect(g.dns.records().address).toBe(g.b.address);
  });

  it('a handover the Secondary refuses: the Primary re-asserts itself and answers only once it acts again', async () => {
    const g = await formed();
    const watch = watchAnnouncements(g);
    // The offer reaches b as if from before an epoch b knows (the offerer re-asserted itself meanwhile): refused.
    g.network.intercept = (message) => {
      if (message.type === 'handover') Object.assign(message, { epoch: 0 });
    };
    const outcome = g.a.node.failover().catch((error: unknown) => error);
    await g.clock.advanceWatching(ABSENCE_MS, 1, watch.check);
    const error = (await outcome) as FailoverError;
    expect(error).toBeInstanceOf(FailoverError);
    expect(error.outcome).toBe('refused');
    expect(error.actingPrimary).toBe(true);
    expect(g.a.node.isActingPrimary()).toBe(true);
    expect(watch.overlaps).toEqual([]);
    // Both changes were announced: the step-down and the reclaim.
    expect(roleChanges(g.a.events).slice(-2)).toEqual(['primary>secondary', 'secondary>primary']);
  });
});
