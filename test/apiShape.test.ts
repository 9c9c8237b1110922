/**
 * The product's API shapes and request rules over HTTP, with real node servers, the signed HTTP peer channel and
 * the embedded DNS server: `GET /group` serves `members` as the product does (addresses, null when absent) with the
 * details apart in `member_details`, and the product's configuration keys only (no node setting, no path, no
 * secret); `{}` is refused on the three settings routes, and `agctl group create` keeps a way to create a group
 * with the settings in force; `PUT /group` on the Secondary is forwarded to the Primary (changed on both), and is
 * answered 503 when the Primary cannot be reached.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GroupOperationError, MembershipError, SettingsError } from '../src/api/errors.js';
import { groupCommand } from '../src/cli/groupCommand.js';
import { PRODUCT_CONFIGURATION_FIELDS } from '../src/http/apiShapes.js';
import { captureCli, NETWORKED_TIMERS, startNetworkedGroup, type NetworkedGroup } from './support/networkedGroup.js';
import { FQDN, TwoNodes } from './support/twoNodes.js';

const ROLE_WAIT_MS = 10 * NETWORKED_TIMERS.allowed_absence_interval * 1000;

describe('the product shapes and request rules over HTTP', () => {
  let net: NetworkedGroup;
  beforeAll(async () => {
    net = await startNetworkedGroup(['a', 'b']);
  }, 60_000);
  afterAll(async () => {
    await net?.stop();
  });

  /** Polls the node's state until `role`, within a deadline of ten failover periods. */
  async function waitForRole(id: string, role: string): Promise<void> {
    const deadline = Date.now() + ROLE_WAIT_MS;
    for (;;) {
      const state = await net.api(id, 'GET', '/state');
      if (state.body.node_role === role) return;
      if (Date.now() > deadline) throw new Error(`${id} is ${state.body.node_role}, not ${role}, after ${ROLE_WAIT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('refuses {} with 400 on POST /group and PUT /configuration, naming the rule; agctl group create uses the settings in force', async () => {
    for (const [method, path] of [['POST', '/group'], ['PUT', '/configuration']] as const) {
      const refused = await net.api('a', method, path, {});
      expect(refused.status, `${method} ${path}`).toBe(400);
      expect(refused.body).toMatchObject({ code: 'BadRequest', status: 400, details: { fields: { '(body)': expect.stringContaining('at least one setting') } } });
    }
    expect((await net.api('a', 'GET', '/state')).body.node_role).toBe('not_in_group');
    // Preconfigure the key and timers, then create with the settings in force: agctl names the node's own address.
    expect((await net.api('a', 'PUT', '/configuration', net.createBody)).status).toBe(200);
    const created = await captureCli(() => groupCommand.run(['create', '--config', net.configFile('a')]));
    expect(created, created.stderr).toMatchObject({ code: 0 });
    expect(created.stdout).toBe(`group created: ${FQDN}, a is Primary\n`);
    const joined = await captureCli(() => groupCommand.run(['join', '--config', net.configFile('b')]));
    expect(joined, joined.stderr).toMatchObject({ code: 0, stdout: `b joined ${FQDN} as Secondary; a is Primary\n` });
    await waitForRole('b', 'secondary');
  });

  it('GET /group serves members as addresses, the details in member_details, on both nodes', async () => {
    for (const id of ['a', 'b']) {
      const { body } = await net.api(id, 'GET', '/group');
      expect(body.members, id).toEqual({ primary: net.address('a'), secondary: net.address('b') });
      expect(body.member_details, id).toEqual({
        primary: { node_id: 'a', address: net.address('a'), port: net.port, scheme: 'http' },
        secondary: { node_id: 'b', address: net.address('b'), port: net.port, scheme: 'http' },
      });
    }
  });

  it("GET /group configuration holds the product's keys only: no data_dir, no node_id, no secret; extensions apart", async () => {
    for (const id of ['a', 'b']) {
      const answer = await net.api(id, 'GET', '/group');
      const text = JSON.stringify(answer.body);
      expect(Object.keys(answer.body.configuration).sort(), id).toEqual([...PRODUCT_CONFIGURATION_FIELDS].sort());
      expect(answer.body.configuration).toMatchObject({ group_fqdn: FQDN, tsig_secret: '', external_ipv4_address: net.address(id), ...NETWORKED_TIMERS });
      expect(answer.body.configuration_extensions).toEqual({ lease_duration: 0.75 * NETWORKED_TIMERS.allowed_absence_interval, dns_server: net.dnsServer, coordination: 'dns', etcd_endpoints: null, etcd_prefix: '/availability-group' });
      expect(text).not.toContain(net.dataDir(id));
      expect(text).not.toContain('data_dir');
      expect(text).not.toContain(net.key.secret);
      expect(text).not.toContain('api-token-networked');
      expect(text).not.toContain('peer-secret-networked');
    }
  });

  it('refuses PUT /group {} with 400 on both members', async () => {
    for (const id of ['a', 'b']) {
      const refused = await net.api(id, 'PUT', '/group', {});
      expect(refused.status, id).toBe(400);
      expect(refused.body.message).toContain('(body): must include at least one setting');
    }
  });

  it('PUT /group on the Secondary is forwarded to the Primary: the settings change on both', async () => {
    const changed = await net.api('b', 'PUT', '/group', { group_fqdn_ttl: 45, health_report_interval: 0.4 });
    expect(changed).toMatchObject({ status: 200, body: { message: 'Availability group configuration updated.', secondary: 'updated', forwarded_to: 'a' } });
    for (const id of ['a', 'b']) {
      expect((await net.api(id, 'GET', '/group')).body.configuration, id).toMatchObject({ group_fqdn_ttl: 45, health_report_interval: 0.4 });
      expect(net.running(id).node.settings.groupFqdnTtl, id).toBe(45);
    }
    expect((await net.api('b', 'GET', '/state')).body.node_role).toBe('secondary');
  });

  it("the Primary's refusal comes back as it is (400 naming the field), and nothing changes", async () => {
    const refused = await net.api('b', 'PUT', '/group', { group_fqdn: 'other.example.test' });
    expect(refused.status).toBe(400);
    expect(refused.body.details.fields.group_fqdn).toMatch(/cannot change while the group runs/);
    for (const id of ['a', 'b']) expect(net.running(id).node.settings.groupFqdn, id).toBe(FQDN);
  });

  it('PUT /group on the Secondary answers 503 naming the Primary when it cannot be reached, and changes nothing', async () => {
    await net.crash('a');
    const refused = await net.api('b', 'PUT', '/group', { group_fqdn_ttl: 50 });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ code: 'ServiceUnavailable', status: 503, details: { error_code: 'AG_GROUP_OPERATION_FAILED' } });
    expect(refused.body.message).toMatch(/^The Primary a \(127\.0\.0\.2:\d+\) could not be reached to change the group settings .*nothing was changed\.$/);
    expect(net.running('b').node.settings.groupFqdnTtl).toBe(45);
  });
});

describe('a change forwarded by the Secondary, on in-memory ports', () => {
  let group: TwoNodes;
  afterEach(async () => {
    await group?.stopAll();
  });

  it('the Primary applies only group settings, refuses others and bad values naming the field, and only while it acts', async () => {
    group = new TwoNodes();
    await group.formGroup();
    const change = (groupSettings: Record<string, unknown>, epoch = 1) =>
      group.a.node.receivePeerMessage({ type: 'group-settings-change', group: FQDN, from: 'b', epoch, groupSettings });
    expect(await change({ dns_server: '127.0.0.1:53' })).toMatchObject({ accepted: false, code: 'invalid', issues: [{ field: 'dns_server', rule: expect.stringMatching(/not a group setting/) }] });
    expect(await change({ group_fqdn_ttl: -1 })).toMatchObject({ accepted: false, code: 'invalid', issues: [{ field: 'group_fqdn_ttl' }] });
    expect(await change({ group_fqdn_ttl: 45 }, 2)).toMatchObject({ accepted: false, code: 'not_acting_primary', reason: expect.stringContaining('epoch 2') });
    expect(group.a.node.settings.groupFqdnTtl).toBe(30);
    expect(await change({ group_fqdn_ttl: 45 })).toEqual({ accepted: true, secondary: 'updated' });
    expect(group.a.node.settings.groupFqdnTtl).toBe(45);
    expect(group.b.node.settings.groupFqdnTtl).toBe(45);
  });

  it('the Secondary turns a refusal into SettingsError, an unreachable Primary into GroupOperationError; a Primary cannot forward', async () => {
    group = new TwoNodes();
    await group.formGroup();
    await expect(group.b.node.changeGroupSettingsOnPrimary({ group_fqdn: 'other.example.test' })).rejects.toBeInstanceOf(SettingsError);
    await expect(group.a.node.changeGroupSettingsOnPrimary({ group_fqdn_ttl: 45 })).rejects.toBeInstanceOf(MembershipError);
    group.cutDirectPath();
    const unreachable = await group.b.node.changeGroupSettingsOnPrimary({ group_fqdn_ttl: 45 }).catch((error: unknown) => error);
    expect(unreachable).toBeInstanceOf(GroupOperationError);
    expect((unreachable as Error).message).toMatch(/^The Primary a \(127\.0\.0\.2:8080\) could not be reached/);
    expect(group.a.node.settings.groupFqdnTtl).toBe(30);
    expect(group.b.node.settings.groupFqdnTtl).toBe(30);
  });
});
