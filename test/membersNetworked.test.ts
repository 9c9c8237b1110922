/**
 * A group of three networked nodes on a real etcd (coordination etcd: up to seven members) over the real signed HTTP
 * peer channel: the member list reaches every member, GET /group lists them all,
 * and a failover to a named member works through the API and `agctl failover --to`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../src/cli/agctlProcess.js';
import { failoverCommand } from '../src/cli/failoverCommand.js';
import { captureCli, NETWORKED_TIMERS, startNetworkedGroup, type NetworkedGroup } from './support/networkedGroup.js';
import { etcdUnavailableReason, startEtcd, type EtcdServer } from './support/etcdServer.js';

const etcdMissing = etcdUnavailableReason();
if (etcdMissing !== null && process.env.CI) throw new Error(`The etcd suites must run in CI: ${etcdMissing}`);

/** Deadlines: a few failover periods of the test group. */
const PERIODS_MS = 5 * NETWORKED_TIMERS.allowed_absence_interval * 1000;

describe.skipIf(etcdMissing !== null)(`three networked nodes on etcd${etcdMissing ? ` (skipped: ${etcdMissing})` : ''}`, () => {
  let net: NetworkedGroup;
  let etcd: EtcdServer;
  beforeAll(async () => {
    etcd = await startEtcd();
    net = await startNetworkedGroup(['a', 'b', 'c'], { coordination: 'etcd', etcd_endpoints: [etcd.endpoint] });
    expect((await net.api('a', 'POST', '/group', net.createBody)).status).toBe(201);
    expect((await net.api('b', 'PUT', '/group/members', {})).status).toBe(200);
    expect((await net.api('c', 'PUT', '/group/members', {})).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await net?.stop();
    await etcd?.stop();
  });

  it('every member lists all three, and both Secondaries see direct heartbeats', async () => {
    for (const id of ['a', 'b', 'c']) {
      await waitFor(
        `${id} to list three members`,
        async () => {
          const body = (await net.api(id, 'GET', '/group')).body;
          return body.all_members?.map((m: { node_id: string; role: string }) => `${m.node_id}:${m.role}`).join(',') === 'a:primary,b:secondary,c:secondary';
        },
        PERIODS_MS,
        20,
      );
    }
    for (const id of ['b', 'c']) await waitFor(`${id} to see direct heartbeats`, async () => (await net.api(id, 'GET', '/state')).body.heartbeat_method === 'direct', PERIODS_MS, 20);
    expect((await net.api('b', 'GET', '/group')).body.all_members[2]).toEqual({ node_id: 'c', address: '127.0.0.4', port: net.port, scheme: 'http', priority: 100, role: 'secondary' });
  }, 60_000);

  it('PUT /failover {"to": "c"} on the Primary hands over to c; b follows c', async () => {
    const answer = await net.api('a', 'PUT', '/failover', { to: 'c' });
    expect(answer).toMatchObject({ status: 200, body: { message: 'Manual failover completed.' } });
    expect((await net.api('c', 'GET', '/state')).body.acting_primary).toBe(true);
    for (const id of ['a', 'b']) await waitFor(`${id} to follow c`, async () => (await net.api(id, 'GET', '/group')).body.members.primary === '127.0.0.4', PERIODS_MS, 20);
    // Asked on a Secondary that is not the member named: refused, naming the Primary.
    const refused = await net.api('a', 'PUT', '/failover', { to: 'b' });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain('the Primary (c)');
  }, 60_000);

  it('agctl failover --to b on the Primary hands over to b', async () => {
    const { code, stderr } = await captureCli(() => failoverCommand.run(['--config', net.configFile('c'), '--to', 'b']));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect((await net.api('b', 'GET', '/state')).body.acting_primary).toBe(true);
  }, 60_000);
});
