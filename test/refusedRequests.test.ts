/**
 * A refused request changes nothing: a `POST /group` or `PUT /group/members` that fails leaves the node's settings,
 * in force and persisted, as they were, so a later request never runs on the refused values. Over HTTP with real
 * node servers and the embedded DNS server, then on the node itself (in-memory ports, manual clock).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GroupFullError, GroupOperationError } from '../src/api/errors.js';
import { freePort } from '../src/cli/agctlProcess.js';
import { createNode } from '../src/node/createNode.js';
import { silentLogger } from '../src/api/logger.js';
import { FQDN, TwoNodes } from './support/twoNodes.js';
import { startNetworkedGroup, type NetworkedGroup } from './support/networkedGroup.js';

/** The node's persisted record as the file holds it, or null when there is none. */
async function persisted(dataDir: string): Promise<string | null> {
  return readFile(join(dataDir, 'node.json'), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
}

describe('over HTTP', () => {
  let net: NetworkedGroup;
  beforeAll(async () => {
    net = await startNetworkedGroup(['a', 'b', 'c']);
  }, 60_000);
  afterAll(async () => {
    await net?.stop();
  });

  it('a failed POST /group keeps no setting of its body: GET /group shows the configuration as before, and the next join does not use them', async () => {
    // The settings GET /group serves: the product's configuration and this project's extensions (dns_server).
    const settingsServed = async () => {
      const { configuration, configuration_extensions } = (await net.api('b', 'GET', '/group')).body;
      return { configuration, configuration_extensions };
    };
    const before = await settingsServed();
    const storedBefore = await persisted(net.dataDir('b'));
    const refused = { group_fqdn: 'refused.example.test', health_report_interval: 0.25, health_check_interval: 0.25, allowed_absence_interval: 2 };

    // 503: no TSIG key, so the records cannot be written.
    const noKey = await net.api('b', 'POST', '/group', { ...refused, dns_server: '127.0.0.1:1' });
    expect(noKey.status).toBe(503);
    expect(noKey.body.code).toBe('ServiceUnavailable');
    expect(await settingsServed()).toEqual(before);
    expect(await persisted(net.dataDir('b'))).toEqual(storedBefore);

    // 503: a TSIG key, but the DNS server given does not answer.
    const deadPort = await freePort(['127.0.0.1']);
    const unreachable = await net.api('b', 'POST', '/group', { ...refused, dns_server: `127.0.0.1:${deadPort}`, tsig_name: net.key.name, tsig_secret: net.key.secret });
    expect(unreachable.status).toBe(503);
    expect(await settingsServed()).toEqual(before);
    expect(await persisted(net.dataDir('b'))).toEqual(storedBefore);
    expect((await net.api('b', 'GET', '/state')).body.node_role).toBe('not_in_group');

    // The join finds the Primary through the configured dns_server and group_fqdn, not the refused ones.
    expect((await net.api('a', 'POST', '/group', net.createBody)).status).toBe(201);
    const joined = await net.api('b', 'PUT', '/group/members', {});
    expect(joined).toEqual({ status: 200, body: { message: 'Node joined the availability group as Secondary.' } });
    const served = await settingsServed();
    expect(served.configuration).toMatchObject({ group_fqdn: FQDN, health_report_interval: 0.5, tsig_name: net.key.name });
    expect(served.configuration_extensions).toMatchObject({ dns_server: net.dnsServer });
  });

  it('a refused PUT /group/members keeps the group_fqdn of its body out of the settings', async () => {
    expect((await net.api('c', 'PUT', '/configuration', { group_fqdn: 'c.example.test' })).status).toBe(200);
    const before = (await net.api('c', 'GET', '/group')).body.configuration;
    const storedBefore = await persisted(net.dataDir('c'));
    // a and b form the group (the test before): c is a third node.
    const refused = await net.api('c', 'PUT', '/group/members', { group_fqdn: FQDN });
    expect(refused.status).toBe(409);
    expect(refused.body.details.error_code).toBe('AG_GROUP_FULL');
    expect((await net.api('c', 'GET', '/group')).body.configuration).toEqual(before);
    expect(before.group_fqdn).toBe('c.example.test');
    expect(await persisted(net.dataDir('c'))).toEqual(storedBefore);
  });
});

describe('on the node', () => {
  let group: TwoNodes;
  afterEach(async () => {
    await group?.stopAll();
  });

  it('createGroup(changes) that fails restores the settings, the statechart timers and the store', async () => {
    group = new TwoNodes();
    const { node, store } = group.a;
    await node.start();
    await node.updateSettings({ group_fqdn_ttl: 40 });
    const settings = node.settings;
    const timers = node.actor!.getSnapshot().context.timers;
    const stored = await store.load();
    group.dns.setReachable(false);
    const failed = await node.createGroup({ health_report_interval: 0.5, group_fqdn_ttl: 10, tsig_name: 'refused-key.example.test' }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(GroupOperationError);
    expect(node.settings.record).toEqual(settings.record);
    expect(node.actor!.getSnapshot().context.timers).toEqual(timers);
    expect(await store.load()).toEqual(stored);
    // Created once DNS answers: with the settings of that call only.
    group.dns.setReachable(true);
    await node.createGroup({ group_fqdn_ttl: 50 });
    expect(node.settings.groupFqdnTtl).toBe(50);
    expect(node.settings.healthReportInterval).toBe(1);
    expect(node.settings.tsigName).toBeUndefined();
    expect((await store.load())?.settings.group_fqdn_ttl).toBe(50);
  });

  it('joinGroup(primary, changes) that is refused applies none of the changes', async () => {
    group = new TwoNodes();
    await group.formGroup();
    await group.b.crash();
    const { clock, dns, network } = group;
    const c = createNode({ node_id: 'c', external_ipv4_address: '127.0.0.4' }, { clock, dns, peer: network.transport(), logger: silentLogger() });
    try {
      await c.start();
      await expect(c.joinGroup({ address: group.a.address }, { group_fqdn: FQDN, group_fqdn_ttl: 12 })).rejects.toBeInstanceOf(GroupFullError);
      expect(c.settings.groupFqdn).toBeUndefined();
      expect(c.settings.groupFqdnTtl).toBe(30);
    } finally {
      await c.stop({ handOver: false });
    }
  });
});
