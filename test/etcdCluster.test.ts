/**
 * The test etcd cluster helper against real etcd processes: replication between members, service with one member
 * frozen, no linearizable reads without a quorum (they fail within the call's deadline) and service back once a
 * quorum is, and a killed member that rejoins from its data dir. Where etcd is missing the suite reports itself
 * skipped with the reason; under CI it fails instead.
 */
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../src/cli/agctlProcess.js';
import { ETCD_TEST_TIMING, etcdUnavailableReason, startEtcdCluster, type EtcdCluster, type EtcdMember } from './support/etcdCluster.js';

/** The deadline of each client call: many election timeouts, so a healthy cluster always answers within it. */
const CALL_TIMEOUT_MS = 1_000;
/** How long the cluster may take to elect a leader again and serve (elections take a few election timeouts). */
const RECOVERY_MS = 50 * ETCD_TEST_TIMING.electionTimeoutMs;

const clients: Etcd3[] = [];

/** A client of ONE member (no other member to fail over to), each call bounded by {@link CALL_TIMEOUT_MS}. */
function clientOf(member: EtcdMember): Etcd3 {
  const client = new Etcd3({
    hosts: [member.clientUrl],
    dialTimeout: CALL_TIMEOUT_MS,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + CALL_TIMEOUT_MS }),
  });
  clients.push(client);
  return client;
}

/** The member the (answering) members report as raft leader. */
async function leaderOf(of: EtcdCluster, askable: readonly EtcdMember[] = of.members): Promise<EtcdMember> {
  const status = await clientOf(askable[0]!).maintenance.status();
  const members = await clientOf(askable[0]!).cluster.memberList({});
  const leader = members.members.find((member) => member.ID === status.leader);
  const found = of.members.find((member) => member.name === leader?.name);
  if (found === undefined) throw new Error(`no leader known to ${askable[0]!.name}: ${JSON.stringify(status)}`);
  return found;
}

/** A linearizable read through `member`, retried (each try bounded by the call deadline) until it answers. */
function readEventually(member: EtcdMember, key: string): Promise<string> {
  return waitFor(
    `a linearizable read of ${key} through ${member.name}`,
    async () => {
      const client = new Etcd3({ hosts: [member.clientUrl], dialTimeout: CALL_TIMEOUT_MS });
      try {
        return (await client.get(key).options({ deadline: Date.now() + CALL_TIMEOUT_MS }).string()) ?? false;
      } catch {
        return false;
      } finally {
        client.close();
      }
    },
    RECOVERY_MS,
    50,
  );
}

const missing = etcdUnavailableReason();
if (missing !== null && process.env.CI) {
  describe('etcd test cluster', () => {
    it('runs in CI', () => {
      throw new Error(`The etcd cluster suite must run in CI, but ${missing}`);
    });
  });
}

describe.skipIf(missing !== null)(`etcd test cluster${missing === null ? '' : ` (skipped: ${missing})`}`, () => {
  let cluster: EtcdCluster;

  beforeAll(async () => {
    cluster = await startEtcdCluster({ members: 3 });
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => {
    for (const client of clients.splice(0)) client.close();
    await cluster?.stop();
  });

  it('runs 3 members on loopback high ports, never the default 2379/2380', () => {
    expect(cluster.members.map((member) => member.name)).toEqual(['m1', 'm2', 'm3']);
    expect(cluster.endpoints).toEqual(cluster.members.map((member) => member.endpoint));
    const ports = cluster.members.flatMap((member) => [member.clientUrl, member.peerUrl].map((url) => Number(new URL(url).port)));
    expect(new Set(ports).size).toBe(6);
    for (const port of ports) expect(port).toBeGreaterThanOrEqual(19600);
    for (const member of cluster.members) expect(member.pid).toBeGreaterThan(0);
  });

  it('replicates: a put through member 1 is read through member 3', async () => {
    const [m1, , m3] = cluster.members;
    await clientOf(m1!).put('/test/replicated').value('from m1');
    expect(await clientOf(m3!).get('/test/replicated').string()).toBe('from m1');
  });

  it('keeps serving with one member frozen, the leader (the others elect a new one)', async () => {
    const leader = await leaderOf(cluster);
    const [first, second] = cluster.members.filter((member) => member !== leader);
    await leader.pause();
    try {
      await cluster.waitHealthy(RECOVERY_MS);
      await clientOf(first!).put('/test/one-paused').value('still served');
      expect(await clientOf(second!).get('/test/one-paused').string()).toBe('still served');
      expect(await leaderOf(cluster, [first!, second!])).not.toBe(leader);
    } finally {
      leader.resume();
    }
    await cluster.waitAllHealthy(RECOVERY_MS);
  });

  it('fails linearizable reads within the deadline without a quorum, and serves again once one member is back', async () => {
    const [m1, m2, m3] = cluster.members;
    await clientOf(m1!).put('/test/quorum').value('before');
    await Promise.all([m2!.pause(), m3!.pause()]);
    try {
      const started = performance.now();
      // One deadline for the whole call, retries included (the client's default options set one per attempt). The
      // read waits for a quorum until that deadline; it may end sooner when m1 was the leader and steps down.
      const read = clientOf(m1!).get('/test/quorum').options({ deadline: Date.now() + CALL_TIMEOUT_MS }).string();
      await expect(read).rejects.toThrow(/deadline|leader changed|timed out/i);
      expect(performance.now() - started).toBeLessThan(CALL_TIMEOUT_MS + 500);
      m2!.resume();
      // Service comes back once m1 and m2 have a leader (an election may be under way for a moment).
      expect(await readEventually(m1!, '/test/quorum')).toBe('before');
      expect(await readEventually(m2!, '/test/quorum')).toBe('before');
    } finally {
      m2!.resume();
      m3!.resume();
    }
    await cluster.waitAllHealthy(RECOVERY_MS);
  });

  it('lets a killed member rejoin from its data dir', async () => {
    const [m1, , m3] = cluster.members;
    const oldPid = m3!.pid;
    await m3!.kill();
    expect(m3!.pid).toBeNull();
    await cluster.waitHealthy(RECOVERY_MS);
    await clientOf(m1!).put('/test/rejoin').value('written while m3 was down');
    m3!.restart();
    expect(m3!.pid).not.toBe(oldPid);
    // A linearizable read through the restarted member: it answers once it has caught up with the leader.
    const value = await readEventually(m3!, '/test/rejoin');
    expect(value).toBe('written while m3 was down');
  });
});
