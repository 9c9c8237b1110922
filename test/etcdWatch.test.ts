/**
 * The etcd authority's watch against real etcd: it tells the values as they are, then another client's
 * compare-and-swaps in commit order (each told pair one that was committed), survives a paused-and-resumed etcd and
 * a killed-and-restarted member without losing the last change (it watches again from the last revision seen), and
 * stops cleanly. Where etcd is missing the suite reports itself skipped with the reason; under CI it fails instead.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GroupRecords } from '../machines/nodeMachine.types.js';
import { waitFor } from '../src/cli/agctlProcess.js';
import { formatHeartbeatRecord } from '../src/dns/heartbeatRecord.js';
import { EtcdAuthority } from '../src/etcd/etcdAuthority.js';
import { SettingsEtcdAuthority, type EtcdClientSettings } from '../src/etcd/settingsEtcdAuthority.js';
import { createNode, type AvailabilityNode } from '../src/node/createNode.js';
import { parseHeartbeatRecord } from '../src/dns/heartbeatRecord.js';
import { InMemoryPeerNetwork } from '../src/peer/inMemoryPeerNetwork.js';
import { ETCD_TEST_TIMING, startEtcdCluster, type EtcdCluster } from './support/etcdCluster.js';
import { etcdUnavailableReason, startEtcd, type EtcdServer } from './support/etcdServer.js';

/** The timeout of the clients under test. */
const TIMEOUT_MS = 1000;
/** How long a committed change may take to be told: a few timeouts (a watch re-created after a failure waits up to one). */
const TOLD_WITHIN_MS = 5 * TIMEOUT_MS;
/** How long a 3-member cluster may take to elect a leader again and serve. */
const RECOVERY_MS = 50 * ETCD_TEST_TIMING.electionTimeoutMs;
const TTL = { ttl: 30 };
const prefix = `/ag-watch-${randomBytes(4).toString('hex')}`;

let nameCounter = 0;
function freshName(): string {
  nameCounter += 1;
  return `watch${nameCounter}-${randomBytes(3).toString('hex')}.example.test`;
}
let seq = 0;
function heartbeat(node = 'node-a', epoch = 1): string {
  seq += 1;
  return formatHeartbeatRecord({ holder: node, epoch, seq, sentAt: Date.UTC(2026, 0, 1) + seq });
}

const opened: EtcdAuthority[] = [];
function client(endpoints: readonly string[]): EtcdAuthority {
  const authority = new EtcdAuthority({ endpoints, prefix, timeoutMs: TIMEOUT_MS });
  opened.push(authority);
  return authority;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((authority) => authority.close()));
});

/** A watch of `name` recording what it is told and every error. */
function watching(authority: EtcdAuthority, name: string) {
  const told: GroupRecords[] = [];
  const errors: unknown[] = [];
  const stop = authority.watch(name, (records) => told.push(records), (error) => errors.push(error));
  return { told, errors, stop, until: (what: string, done: () => boolean) => waitFor(what, () => done(), TOLD_WITHIN_MS) };
}

/** Every told pair is one that was committed, in commit order, none twice in a row. */
function expectCommittedInOrder(told: readonly GroupRecords[], committed: readonly GroupRecords[]): void {
  const key = (records: GroupRecords) => `${records.address ?? '-'} ${records.txt ?? '-'}`;
  const order = committed.map(key);
  const positions = told.map((records) => order.indexOf(key(records)));
  expect(positions.filter((position) => position < 0), `told a pair never committed: ${JSON.stringify(told)}`).toEqual([]);
  for (let i = 1; i < positions.length; i += 1) expect(positions[i]!).toBeGreaterThan(positions[i - 1]!);
}

const etcdMissing = etcdUnavailableReason();
if (etcdMissing !== null && process.env.CI) {
  describe('etcd watch', () => {
    it('runs in CI', () => {
      throw new Error(`The etcd watch tests must run in CI, but ${etcdMissing}`);
    });
  });
}

describe.skipIf(etcdMissing !== null)(`etcd watch${etcdMissing === null ? '' : ` (skipped: ${etcdMissing})`}`, () => {
  describe('on one etcd member', () => {
    let etcd: EtcdServer;
    beforeAll(async () => {
      etcd = await startEtcd();
    });
    afterAll(async () => {
      await etcd?.stop();
    });

    it("tells the values as they are, then another client's compare-and-swaps in commit order", async () => {
      const name = freshName();
      const writer = client([etcd.endpoint]);
      const watch = watching(client([etcd.endpoint]), name);
      await watch.until('the values as they are', () => watch.told.length === 1);
      const committed: GroupRecords[] = [{ address: null, txt: null }];
      let txt = heartbeat();
      await writer.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt }, TTL);
      committed.push({ address: '127.0.0.2', txt });
      for (let i = 0; i < 20; i += 1) {
        const next = heartbeat();
        await writer.compareAndSwap(name, { address: '127.0.0.2', txt }, { txt: next }, TTL);
        committed.push({ address: '127.0.0.2', txt: (txt = next) });
      }
      // A takeover writes both keys in one transaction: told as one pair, never half of it.
      const takeover = heartbeat('node-b', 2);
      await writer.compareAndSwap(name, { address: '127.0.0.2', txt }, { address: '127.0.0.3', txt: takeover }, TTL);
      committed.push({ address: '127.0.0.3', txt: takeover });
      await watch.until('the takeover', () => watch.told.at(-1)?.txt === takeover);
      expectCommittedInOrder(watch.told, committed);
      expect(watch.told[0]).toEqual({ address: null, txt: null });
      expect(watch.told.at(-1)).toEqual({ address: '127.0.0.3', txt: takeover });
      expect(watch.errors).toEqual([]);
    });

    it('survives a paused and resumed etcd without losing the last change', async () => {
      const name = freshName();
      const writer = client([etcd.endpoint]);
      const watch = watching(client([etcd.endpoint]), name);
      let txt = heartbeat();
      await writer.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt }, TTL);
      const committed: GroupRecords[] = [{ address: null, txt: null }, { address: '127.0.0.2', txt }];
      await watch.until('the group created', () => watch.told.at(-1)?.txt === txt);
      // A change committed the instant before etcd freezes: told once it runs again.
      const last = heartbeat();
      await writer.compareAndSwap(name, { txt }, { txt: last }, TTL);
      committed.push({ address: '127.0.0.2', txt: (txt = last) });
      etcd.pause();
      // A compare-and-swap sent meanwhile gets no answer, but may be applied once etcd runs again (as the port says).
      const maybe = heartbeat();
      try {
        await expect(writer.compareAndSwap(name, { txt }, { txt: maybe }, TTL)).rejects.toThrow(/unreachable|no answer/i);
      } finally {
        etcd.resume();
      }
      committed.push({ address: '127.0.0.2', txt: maybe });
      // Told as it is, or as the outcome of a batch with the unanswered one (etcd may send both at once).
      await watch.until('the change committed before the pause', () => [last, maybe].includes(watch.told.at(-1)?.txt ?? ''));
      // And the changes after it.
      const after = heartbeat();
      await writer.compareAndSwap(name, {}, { txt: after }, TTL);
      committed.push({ address: '127.0.0.2', txt: after });
      await watch.until('the change after the resume', () => watch.told.at(-1)?.txt === after);
      expectCommittedInOrder(watch.told, committed);
    });

    it('a Secondary on etcd learns of the Primary’s heartbeat writes as they are committed, with the direct path cut', async () => {
      const network = new InMemoryPeerNetwork();
      // Heartbeat 0.25 s; standby check and failover period 3 s: without the watch, no read before 3 s of silence.
      const group = { coordination: 'etcd' as const, etcd_endpoints: [etcd.endpoint], etcd_prefix: prefix, health_report_interval: 0.25, health_check_interval: 3, allowed_absence_interval: 3 };
      const fqdn = freshName();
      const nodes: AvailabilityNode[] = [
        createNode({ node_id: 'a', external_ipv4_address: '127.0.0.2', group_fqdn: fqdn, ...group }, { peer: network.transport() }),
        createNode({ node_id: 'b', external_ipv4_address: '127.0.0.3', ...group }, { peer: network.transport() }),
      ];
      const [a, b] = nodes as [AvailabilityNode, AvailabilityNode];
      const reader = client([etcd.endpoint]);
      try {
        await a.start();
        await b.start();
        await a.createGroup();
        await b.joinGroup({ address: '127.0.0.2' });
        await waitFor('b watching', () => b.getNodeState().state === 'secondary.watching', TOLD_WITHIN_MS);
        network.cut('a', 'b');
        network.cut('b', 'a');
        const cutAt = performance.now();
        const seen = new Set<number>();
        // Before the first standby check could run (3 s after the last direct heartbeat), b follows etcd's heartbeat.
        while (performance.now() - cutAt < 2_000) {
          const { txt } = await reader.read(fqdn);
          const inEtcd = parseHeartbeatRecord(txt!)!.seq;
          await waitFor(`b to see seq ${inEtcd}`, () => (b.actor!.getSnapshot().context.progress.seen?.seq ?? -1) >= inEtcd, 1_000, 5);
          seen.add(inEtcd);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        expect(seen.size).toBeGreaterThanOrEqual(4);
        expect(b.getNodeState().heartbeatMethod).toBe('dns');
        expect(b.getNodeState().nodeRole).toBe('secondary');
        expect(a.isActingPrimary()).toBe(true);
      } finally {
        for (const node of nodes) await node.stop({ handOver: false });
      }
    });

    it('through the settings: waits for etcd to be configured, and moves to each new client without telling a value twice', async () => {
      const name = freshName();
      const writer = client([etcd.endpoint]);
      let settings: EtcdClientSettings = { etcdEndpoints: undefined, etcdPrefix: prefix, timers: { heartbeatIntervalMs: 500 } };
      const authority = new SettingsEtcdAuthority({ settings: () => settings });
      try {
        const told: GroupRecords[] = [];
        const errors: unknown[] = [];
        const stop = authority.watch(name, (records) => told.push(records), (error) => errors.push(error));
        // No endpoints yet: the watch says why, and waits.
        expect(errors).toHaveLength(1);
        expect(String((errors[0] as Error).message)).toMatch(/etcd_endpoints/);
        settings = { ...settings, etcdEndpoints: [etcd.endpoint] };
        await authority.read(name);
        await waitFor('the values as they are', () => told.length === 1, TOLD_WITHIN_MS);
        const first = heartbeat();
        await writer.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt: first }, TTL);
        await waitFor('the group created', () => told.at(-1)?.txt === first, TOLD_WITHIN_MS);
        // Another heartbeat interval: another timeout, so a new client; its watch begins with the same values.
        settings = { ...settings, timers: { heartbeatIntervalMs: 400 } };
        await authority.read(name);
        const second = heartbeat();
        await writer.compareAndSwap(name, { txt: first }, { txt: second }, TTL);
        await waitFor('the change on the new client', () => told.at(-1)?.txt === second, TOLD_WITHIN_MS);
        expect(told.map((records) => records.txt)).toEqual([null, first, second]);
        stop();
      } finally {
        await authority.close();
      }
    });

    it('stops cleanly: nothing told after stop, and close ends every watch at once', async () => {
      const name = freshName();
      const writer = client([etcd.endpoint]);
      const watcher = client([etcd.endpoint]);
      const stopped = watching(watcher, name);
      const witness = watching(watcher, name);
      await stopped.until('the values as they are', () => stopped.told.length === 1 && witness.told.length === 1);
      stopped.stop();
      stopped.stop(); // twice is harmless
      const txt = heartbeat();
      await writer.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt }, TTL);
      // The witness, on the same client and stream, is told: the stopped watch would have been by now.
      await witness.until('the witness told', () => witness.told.at(-1)?.txt === txt);
      expect(stopped.told).toEqual([{ address: null, txt: null }]);
      const started = performance.now();
      await watcher.close();
      expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 500);
      await writer.compareAndSwap(name, { txt }, { txt: heartbeat() }, TTL);
      await writer.read(name);
      expect(witness.told.at(-1)?.txt).toBe(txt);
      // A watch asked of a closed client says so and tells nothing.
      const late = watching(watcher, name);
      expect(late.errors).toHaveLength(1);
    });
  });

  describe('on a 3-member cluster', () => {
    let cluster: EtcdCluster;
    beforeAll(async () => {
      cluster = await startEtcdCluster({ members: 3 });
    });
    afterAll(async () => {
      await cluster?.stop();
    });

    it('watches again from the last revision seen when its member is killed, and catches up on what it missed', async () => {
      const [m1, m2] = cluster.members;
      const name = freshName();
      const writer = client([m2!.endpoint]);
      // The watch tries m1 first (it reads there, and watches there), then the others.
      const watch = watching(client(cluster.endpoints), name);
      let txt = heartbeat();
      await writer.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt }, TTL);
      const committed: GroupRecords[] = [{ address: null, txt: null }, { address: '127.0.0.2', txt }];
      await watch.until('the group created', () => watch.told.at(-1)?.txt === txt);
      await m1!.kill();
      try {
        await cluster.waitHealthy(RECOVERY_MS);
        for (let i = 0; i < 5; i += 1) {
          const next = heartbeat();
          await writer.compareAndSwap(name, { txt }, { txt: next }, TTL);
          committed.push({ address: '127.0.0.2', txt: (txt = next) });
        }
        await watch.until('the changes made while its member was down', () => watch.told.at(-1)?.txt === txt);
        expect(watch.errors.length).toBeGreaterThan(0);
        expect(String((watch.errors[0] as Error).message)).toMatch(/etcd watch of .* failed/);
      } finally {
        m1!.restart();
      }
      await cluster.waitAllHealthy(RECOVERY_MS);
      expectCommittedInOrder(watch.told, committed);
    });

    it('with one endpoint, resumes there once the member is back, without losing a change', async () => {
      const [m1, m2] = cluster.members;
      const name = freshName();
      const writer = client([m2!.endpoint]);
      const watch = watching(client([m1!.endpoint]), name);
      let txt = heartbeat();
      await writer.compareAndSwap(name, { address: null, txt: null }, { address: '127.0.0.2', txt }, TTL);
      const committed: GroupRecords[] = [{ address: null, txt: null }, { address: '127.0.0.2', txt }];
      await watch.until('the group created', () => watch.told.at(-1)?.txt === txt);
      await m1!.kill();
      try {
        await cluster.waitHealthy(RECOVERY_MS);
        for (let i = 0; i < 3; i += 1) {
          const next = heartbeat();
          await writer.compareAndSwap(name, { txt }, { txt: next }, TTL);
          committed.push({ address: '127.0.0.2', txt: (txt = next) });
        }
        await waitFor('a failure reported', () => watch.errors.length > 0, TOLD_WITHIN_MS);
      } finally {
        m1!.restart();
      }
      await waitFor('the changes made while the member was down', () => watch.told.at(-1)?.txt === txt, RECOVERY_MS);
      // In order, ending with the last change (etcd may replay what was missed in one batch: told as its outcome).
      expectCommittedInOrder(watch.told, committed);
      await cluster.waitAllHealthy(RECOVERY_MS);
    });
  });
});
