/**
 * `agctl start` and the client commands as real processes over the embedded DNS server: a bad config file is
 * refused naming the field, the API refuses bad requests, a real Secondary refuses forged and replayed heartbeats
 * (and logs it), the CLI reads state and fails over, and SIGTERM on the Primary hands over before exiting.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEER_MESSAGE_PATH } from '../../src/peer/httpPeerTransport.js';
import { PEER_SIGNATURE_HEADER, signPeerRequest } from '../../src/peer/peerSignature.js';
import { AgctlProcess, startCluster, waitFor, type TestCluster } from '../support/processes.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster('embedded', { heartbeat: 0.1, check: 0.1, absence: 0.5 }, { form: true });
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('agctl start', () => {
  it('refuses a bad config file, naming the field and the rule, and exits non-zero', async () => {
    const file = join(cluster.dir, 'bad.json');
    await writeFile(file, JSON.stringify({ node_id: 'c', external_ipv4_address: '127.0.0.4', health_report_interval: 0.4, allowed_absence_interval: 0.5 }));
    const child = AgctlProcess.spawn('bad', ['start', '--config', file]);
    expect(await child.exited()).toBe(78);
    expect(child.stderr).toContain('health_report_interval: rule 3');
    const incomplete = join(cluster.dir, 'incomplete.json');
    await writeFile(incomplete, JSON.stringify({ node_id: 'c', external_ipv4_address: '127.0.0.4' }));
    const second = AgctlProcess.spawn('incomplete', ['start', '--config', incomplete]);
    expect(await second.exited()).toBe(78);
    expect(second.stderr).toContain('api_token: is required');
  });

  it('refuses a config file that is not JSON, naming the file', async () => {
    const file = join(cluster.dir, 'broken.json');
    await writeFile(file, '{ node_id: ');
    const child = AgctlProcess.spawn('broken', ['start', '--config', file]);
    expect(await child.exited()).toBe(2);
    expect(child.stderr).toContain('broken.json is not valid JSON');
  });
});

describe('the API of a running node', () => {
  it('refuses a missing token (401), a wrong one (403), a wrong content type (415) and a bad body (400)', async () => {
    expect((await cluster.a.api('GET', '/ag/api/v1/state', { token: null })).body).toEqual({ code: 'Unauthorized', details: {}, message: 'Authentication is required.', status: 401 });
    expect((await cluster.a.api('GET', '/ag/api/v1/state', { token: 'not-the-token-at-all' })).status).toBe(403);
    expect((await cluster.a.api('PUT', '/ag/api/v1/group', { rawBody: '{}', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    const bad = await cluster.a.api('PUT', '/ag/api/v1/group', { body: { allowed_absence_interval: 'soon' } });
    expect(bad.status).toBe(400);
    expect(bad.body.details.fields).toHaveProperty('allowed_absence_interval');
  });

  it('serves health for load balancers without a token', async () => {
    expect((await cluster.a.api('GET', '/ag/api/v1/health/primary', { token: null })).status).toBe(200);
    expect((await cluster.b.api('GET', '/ag/api/v1/health/primary', { token: null })).status).toBe(503);
    expect((await cluster.b.api('GET', '/ag/api/v1/health/secondary', { token: null })).status).toBe(200);
  });
});

describe('the peer route of a real Secondary', () => {
  async function postHeartbeat(seq: number, secret: string) {
    const body = JSON.stringify({ v: 1, message: { type: 'heartbeat', group: cluster.groupFqdn, heartbeat: { holder: 'a', epoch: 1, seq, sentAt: Date.now() } } });
    const response = await fetch(`${cluster.b.url}${PEER_MESSAGE_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [PEER_SIGNATURE_HEADER]: signPeerRequest(secret, body) },
      body,
    });
    return { status: response.status, body: (await response.json()) as { code: string } };
  }

  it('refuses a forged heartbeat (401) and a replayed one (409), each with a log line', async () => {
    const forged = await postHeartbeat(10_000_000, 'not-the-peer-secret-000');
    expect(forged).toMatchObject({ status: 401, body: { code: 'AG_PEER_BAD_SIGNATURE' } });
    // Properly signed, but not newer than what the Primary already sent: a replay.
    const replayed = await postHeartbeat(1, cluster.peerSecret);
    expect(replayed).toMatchObject({ status: 409, body: { code: 'AG_PEER_REPLAY' } });
    // Other refusals may be logged too (a heartbeat refused while the group formed on a busy machine): wait for these two.
    const refusals = await waitFor('a refusal log line for each', () => {
      const codes = cluster.b.process!.logs.filter((line) => String(line.msg).startsWith('peer message refused')).map((line) => line.code);
      return codes.includes('AG_PEER_BAD_SIGNATURE') && codes.includes('AG_PEER_REPLAY') ? codes : undefined;
    }, 5000);
    expect(refusals).toEqual(expect.arrayContaining(['AG_PEER_BAD_SIGNATURE', 'AG_PEER_REPLAY']));
    expect((await cluster.b.state())?.node_role).toBe('secondary');
  });
});

describe('client commands and a clean stop', () => {
  it('agctl state prints the state; agctl group update changes both nodes; agctl failover hands over', async () => {
    const state = AgctlProcess.spawn('cli-state', ['state', '--config', cluster.a.configFile, '--output', 'json']);
    expect(await state.exited()).toBe(0);
    expect(state.logs.map((line) => line.msg).join('\n')).toContain('"node_role": "primary"');
    const changes = join(cluster.dir, 'group-changes.json');
    await writeFile(changes, JSON.stringify({ group_fqdn_ttl: 40 }));
    const update = AgctlProcess.spawn('cli-group-update', ['group', 'update', '--settings', changes, '--config', cluster.a.configFile]);
    expect(await update.exited()).toBe(0);
    expect(update.logs.map((line) => line.msg)).toEqual(['group settings updated; the Secondary runs them now']);
    expect((await cluster.b.api('GET', '/ag/api/v1/group')).body.configuration.group_fqdn_ttl).toBe(40);
    // The push carried every group setting, the TSIG secret among them: no node logged it.
    for (const node of [cluster.a, cluster.b]) expect(JSON.stringify(node.process!.logs)).not.toContain(cluster.dns.key.secret);
    const failover = AgctlProcess.spawn('cli-failover', ['failover', '--config', cluster.a.configFile]);
    expect(await failover.exited()).toBe(0);
    await cluster.b.waitForState('acting Primary', (s) => s.acting_primary === true);
    await cluster.a.waitForState('Secondary', (s) => s.node_role === 'secondary' && s.heartbeat_method === 'direct');
  });

  it('SIGTERM on the Primary hands over to the healthy Secondary before exiting 0', async () => {
    const primary = cluster.b.process!;
    expect(await primary.kill('SIGTERM')).toBe(0);
    await cluster.a.waitForState('acting Primary after the handover', (s) => s.acting_primary === true, 5000);
    expect((await cluster.records()).address).toBe('127.0.0.2');
  });
});
