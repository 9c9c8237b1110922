/**
 * Two real node processes (`agctl start`, a on 127.0.0.2, b on 127.0.0.3) with `coordination: etcd` on a real
 * three-member etcd cluster (test/support/etcdCluster.ts), no DNS server, the fast timers (heartbeat 0.1 s, standby
 * check 0.1 s, failover period A = 0.5 s). The group's keys are read with the etcd3 client, apart from the nodes'
 * own etcd client (test/support/etcdGroup.ts). The tests share one group and run in order, each from the state the
 * one before left:
 *
 * - the group forms: the keys name a (at epoch 1, or one more per reclaim after a lease lost to a slow etcd write
 *   before b joined), b is Secondary with direct heartbeats at that epoch;
 * - kill -9 of the Primary: b takes over (the keys name b at the next epoch, its GET /state says acting primary),
 *   never two nodes acting in any round of polls; the old Primary restarts as Secondary (no failback);
 * - SIGSTOP of the Primary past its lease: the other takes over, and the paused one, resumed, steps down (LEASE_LOST)
 *   without one write landing: its compare-and-swap expects the heartbeat it last wrote (by mod_revision), which
 *   the takeover replaced (the epoch fence);
 * - SIGSTOP of one etcd member (the leader, to force an election; then the first endpoint, where every node's etcd
 *   client starts): two of three still make a quorum, so there is no takeover and the heartbeats keep landing in etcd
 *   at the same epoch;
 * - SIGSTOP of two etcd members (no quorum: no read nor write succeeds). The rules: a Secondary takes over only by
 *   a compare-and-swap on the authority, which cannot succeed without a quorum, and while the direct heartbeats
 *   arrive it does not even try (rule 1: they are progress); the Primary keeps acting while its lease is
 *   confirmed (rule 3), and with two members every direct heartbeat b acknowledges confirms it, so a keeps acting
 *   through the outage (the failsafe behaviour) though its authority writes fail (its GET /state says the authority
 *   is disconnected). So: b stays Secondary, a stays acting Primary. After the resume the writes succeed again: the
 *   heartbeat key moves on at the same epoch and a says connected.
 *
 * A second group adds the embedded DNS server and the TSIG key (`dns_server` set too): the acting Primary keeps the
 * group's A record on itself (the DNS mirror), also after a takeover.
 *
 * Skipped, with the reason, where etcd is not installed; under CI (`CI` set) a missing etcd fails the run instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdUnavailableReason } from '../support/etcdCluster.js';
import { startEtcdGroup, TEST_ETCD_PREFIX, type EtcdTestGroup } from '../support/etcdGroup.js';
import { actingIn, roleRounds, rolesDuring, waitFor, type TestNode } from '../support/processes.js';

const TIMERS = { heartbeat: 0.1, check: 0.1, absence: 0.5 };
/** A: the failover period, ms. */
const A = TIMERS.absence * 1000;
/**
 * How long a takeover may take: A, a standby check, the compare-and-swap (and, with a member paused, an etcd
 * election: 200 ms with the test clusters' timing), with room for a loaded CI machine.
 */
const TAKEOVER_MS = 20 * A;
/** How long a "nothing happens" is watched: four failover periods (as test/integration/failover.test.ts). */
const QUIET_MS = 4 * A;

const etcdMissing = etcdUnavailableReason();
if (etcdMissing !== null && process.env.CI) throw new Error(`The etcd integration tests must run in CI: ${etcdMissing}`);

/** Reads the keys until `predicate` holds (etcd may be electing a leader: a failed read is tried again). */
async function keysWhere(group: EtcdTestGroup, what: string, predicate: (records: Awaited<ReturnType<EtcdTestGroup['records']>>) => boolean, deadlineMs = TAKEOVER_MS) {
  return waitFor(
    what,
    async () => {
      const records = await group.records().catch(() => null);
      return records !== null && predicate(records) ? records : undefined;
    },
    deadlineMs,
    5,
  );
}

/** Watches both nodes from before `act` until `survivor` acts (or the takeover deadline): the rounds seen, for the one-acting check. */
async function takeoverAfter(group: EtcdTestGroup, act: () => Promise<unknown>, survivor: TestNode) {
  const watching = roleRounds([group.a, group.b], TAKEOVER_MS, (round) => round[survivor.id] === 'acting-primary');
  await act();
  const rounds = await watching;
  expect(rounds.at(-1)?.[survivor.id], `${survivor.id} acting by the deadline`).toBe('acting-primary');
  return rounds;
}

describe.skipIf(etcdMissing !== null)(`two node processes on a three-member etcd cluster${etcdMissing === null ? '' : ` (skipped: ${etcdMissing})`}`, () => {
  let group: EtcdTestGroup;
  beforeAll(async () => {
    group = await startEtcdGroup(TIMERS, { form: true });
  }, 90_000);
  afterAll(async () => {
    await group?.stop();
  });

  it('forms the group: the etcd keys name a, b is Secondary at its epoch and lists both members', async () => {
    const records = await group.records();
    expect(records.address).toBe('127.0.0.2');
    expect(records.heartbeat).toMatchObject({ holder: 'a' });
    // Epoch 1, unless an etcd write outlasted the lease (0.375 s) while a had no Secondary to confirm it: then a lost
    // its lease and, the keys still naming it, reclaimed them at the next epoch (rule 5). Every epoch past 1 is one
    // such reclaim, nothing else (no other node was running).
    const reclaims = group.a.process!.logs.filter((line) => (line.event as { reason?: string } | undefined)?.reason === 'records still name this node');
    expect(records.heartbeat!.epoch).toBe(1 + reclaims.length);
    const state = await group.b.state();
    expect(state).toMatchObject({ node_role: 'secondary', acting_primary: false, heartbeat_method: 'direct', epoch: records.heartbeat!.epoch });
    const members = await group.b.api('GET', '/ag/api/v1/group');
    expect(members.body.members).toEqual({ primary: '127.0.0.2', secondary: '127.0.0.3' });
    expect(members.body.configuration_extensions).toMatchObject({ coordination: 'etcd', etcd_endpoints: group.etcd.endpoints, etcd_prefix: TEST_ETCD_PREFIX, dns_server: null });
  });

  it('kill -9 of the Primary: b takes over, the keys name b at the next epoch, never two acting', async () => {
    const epoch = (await group.records()).heartbeat!.epoch;
    const rounds = await takeoverAfter(group, () => group.a.process!.kill('SIGKILL'), group.b);
    const records = await keysWhere(group, 'the keys to name b', (now) => now.address === '127.0.0.3');
    expect(records.heartbeat).toMatchObject({ holder: 'b', epoch: epoch + 1 });
    expect(await group.b.state()).toMatchObject({ node_role: 'primary', acting_primary: true, epoch: epoch + 1 });
    expect(rounds.at(-1)).toEqual({ a: null, b: 'acting-primary' });
    expect(rounds.filter((round) => actingIn(round) > 1)).toEqual([]);
  });

  it('the old Primary restarts as Secondary (no failback)', async () => {
    await group.a.start();
    const state = await group.a.waitForState('Secondary with direct heartbeats', (s) => s.node_role === 'secondary' && s.heartbeat_method === 'direct', TAKEOVER_MS);
    expect(state.acting_primary).toBe(false);
    expect((await group.records()).address).toBe('127.0.0.3');
  });

  it('a Primary paused past its lease steps down on resume without one write landing (epoch fence)', async () => {
    const paused = group.b.process!;
    const epoch = (await group.records()).heartbeat!.epoch;
    await paused.kill('SIGSTOP');
    let rounds;
    try {
      rounds = await takeoverAfter(group, async () => undefined, group.a);
      await keysWhere(group, 'the keys to name a', (now) => now.address === '127.0.0.2' && now.heartbeat?.holder === 'a');
    } finally {
      await paused.kill('SIGCONT');
    }
    // Every read from the resume until b says Secondary shows a at the new epoch: b's writes never landed.
    const seen = new Set<string>();
    await waitFor(
      'b to report Secondary',
      async () => {
        const records = await group.records().catch(() => null);
        if (records !== null) seen.add(`${records.heartbeat?.holder}@${records.heartbeat?.epoch}/${records.address}`);
        const state = await group.b.state();
        return state !== null && state.node_role === 'secondary' && !state.acting_primary;
      },
      TAKEOVER_MS,
      5,
    );
    expect([...seen]).toEqual([`a@${epoch + 1}/127.0.0.2`]);
    expect(paused.logs.some((line) => (line.event as { eventId?: string } | undefined)?.eventId === 'LEASE_LOST')).toBe(true);
    expect(rounds.filter((round) => actingIn(round) > 1)).toEqual([]);
    await group.b.waitForState('Secondary following a', (state) => state.node_role === 'secondary' && state.epoch === epoch + 1 && state.heartbeat_method === 'direct', TAKEOVER_MS);
  });

  it('SIGSTOP of one etcd member (the leader, then the first endpoint): no takeover, the heartbeats keep landing in etcd', async () => {
    // The leader: the other two elect a new one. The first endpoint: where every node's client starts, so the clients
    // must move to another member (a frozen member keeps its connections open; every call to it waits out its deadline).
    const leader = await group.keys.leader();
    for (const index of leader === 0 ? [0] : [leader, 0]) {
      const member = group.etcd.members[index]!;
      const before = await keysWhere(group, 'the keys', () => true);
      member.pause();
      try {
        const [aRoles, bRoles] = await Promise.all([rolesDuring(group.a, QUIET_MS), rolesDuring(group.b, QUIET_MS)]);
        expect([...aRoles], `a while ${member.name} is paused`).toEqual(['acting-primary']);
        expect([...bRoles], `b while ${member.name} is paused`).toEqual(['secondary']);
        const during = await keysWhere(group, `a newer heartbeat in etcd while ${member.name} is paused`, (now) => (now.heartbeat?.seq ?? 0) > before.heartbeat!.seq);
        expect(during.address).toBe('127.0.0.2');
        expect(during.heartbeat).toMatchObject({ holder: 'a', epoch: before.heartbeat!.epoch });
      } finally {
        member.resume();
      }
      await group.etcd.waitHealthy(TAKEOVER_MS);
    }
  });

  it('SIGSTOP of two etcd members (no quorum): no takeover, a keeps acting on direct acknowledgements; writes succeed again after the resume', async () => {
    const before = await group.records();
    const [first, second] = group.etcd.members;
    first!.pause();
    second!.pause();
    try {
      // The outage is real: no linearizable read succeeds.
      await expect(group.keys.read(2 * A)).rejects.toThrow();
      await group.a.waitForState('its authority writes failing (disconnected)', (state) => state.node_dns_connection_state === 'disconnected', TAKEOVER_MS);
      const [aRoles, bRoles] = await Promise.all([rolesDuring(group.a, QUIET_MS), rolesDuring(group.b, QUIET_MS)]);
      expect([...bRoles]).toEqual(['secondary']);
      expect([...aRoles]).toEqual(['acting-primary']);
      expect(await group.b.state()).toMatchObject({ node_role: 'secondary', heartbeat_method: 'direct', epoch: before.heartbeat!.epoch });
    } finally {
      first!.resume();
      second!.resume();
    }
    const after = await keysWhere(group, 'a newer heartbeat in etcd after the resume', (now) => (now.heartbeat?.seq ?? 0) > before.heartbeat!.seq);
    expect(after.address).toBe('127.0.0.2');
    expect(after.heartbeat).toMatchObject({ holder: 'a', epoch: before.heartbeat!.epoch });
    await group.a.waitForState('connected again', (state) => state.node_dns_connection_state === 'connected' && state.acting_primary === true, TAKEOVER_MS);
  });
});

describe.skipIf(etcdMissing !== null)(`etcd with dns_server and the TSIG key set too: the DNS mirror${etcdMissing === null ? '' : ` (skipped: ${etcdMissing})`}`, () => {
  let group: EtcdTestGroup;
  beforeAll(async () => {
    group = await startEtcdGroup(TIMERS, { form: true, dns: 'embedded' });
  }, 90_000);
  afterAll(async () => {
    await group?.stop();
  });

  it('the A record names the acting Primary, and follows it after a takeover', async () => {
    await waitFor('the A record to name a', async () => (await group.dnsRecords()).address === '127.0.0.2', TAKEOVER_MS, 5);
    // The mirror writes the A record only: the group's state (the heartbeat) lives in etcd.
    expect((await group.records()).heartbeat).toMatchObject({ holder: 'a' });
    const rounds = await takeoverAfter(group, () => group.a.process!.kill('SIGKILL'), group.b);
    await keysWhere(group, 'the keys to name b', (now) => now.address === '127.0.0.3');
    await waitFor('the A record to name b', async () => (await group.dnsRecords()).address === '127.0.0.3', TAKEOVER_MS, 5);
    expect(rounds.filter((round) => actingIn(round) > 1)).toEqual([]);
  });
});
