/**
 * Group membership: a group has two members exactly (a third node is refused, naming both; the Secondary's own id
 * may join again), leaving tells the other member over the peer channel (a Secondary is dropped by the Primary; a
 * Primary dissolves the group and the Secondary leaves too; an unreachable peer does not stop anyone leaving), and
 * the Primary removes a dead Secondary so that a replacement can join. First on in-memory ports and a manual clock,
 * then over HTTP: real node servers, the signed HTTP peer channel, the embedded DNS server, and agctl.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NodeRole } from '../src/api/constants.js';
import { GroupFullError, MembershipError, NoSuchMemberError } from '../src/api/errors.js';
import { groupCommand } from '../src/cli/groupCommand.js';
import { toApiError } from '../src/http/apiError.js';
import { createNode, type AvailabilityNode } from '../src/node/createNode.js';
import { silentLogger } from '../src/api/logger.js';
import { InMemoryNodeStore } from '../src/node/nodeStore.js';
import { FQDN, GROUP_TIMERS, TwoNodes } from './support/twoNodes.js';
import { captureCli, startNetworkedGroup, type NetworkedGroup } from './support/networkedGroup.js';

let group: TwoNodes;
const extra: AvailabilityNode[] = [];
afterEach(async () => {
  for (const node of extra.splice(0)) await node.stop({ handOver: false }).catch(() => undefined);
  await group?.stopAll();
});

/** Another node on the harness's clock, DNS authority and network. */
function nodeOnHarness(id: string, address: string, store = new InMemoryNodeStore()): AvailabilityNode {
  const node = createNode({ node_id: id, external_ipv4_address: address }, { clock: group.clock, dns: group.dns, peer: group.network.transport(), store, logger: silentLogger() });
  extra.push(node);
  return node;
}

describe('two members, exactly', () => {
  it('refuses a third node with GroupFullError naming both members, and keeps the Secondary', async () => {
    group = new TwoNodes();
    await group.formGroup();
    const c = nodeOnHarness('c', '127.0.0.4');
    await c.start();
    const refused = await c.joinGroup({ address: group.a.address }, { group_fqdn: FQDN }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(GroupFullError);
    const members = (refused as GroupFullError).members;
    expect(members.primary).toMatchObject({ nodeId: 'a', address: '127.0.0.2' });
    expect(members.secondary).toMatchObject({ nodeId: 'b', address: '127.0.0.3' });
    expect((refused as Error).message).toMatch(/Primary a at 127\.0\.0\.2:8080, Secondary b at 127\.0\.0\.3:8080/);
    // Over HTTP that is a 409 Conflict naming both members.
    const answer = toApiError(refused);
    expect(answer.status).toBe(409);
    expect(answer.details).toMatchObject({ error_code: 'AG_GROUP_FULL', members: { primary: { node_id: 'a' }, secondary: { node_id: 'b', external_ipv4_address: '127.0.0.3' } } });
    // Nothing changed: the Primary keeps b, c is in no group and kept none of the join's settings.
    expect(group.a.node.members().secondary).toMatchObject({ nodeId: 'b', address: '127.0.0.3' });
    expect((await group.a.store.load())?.membership.peer?.nodeId).toBe('b');
    expect(c.getNodeState().nodeRole).toBe(NodeRole.NOT_IN_GROUP);
    expect(c.settings.groupFqdn).toBeUndefined();
  });

  it('lets the Secondary join again under its own id (a wiped data_dir) and takes its new address', async () => {
    group = new TwoNodes();
    await group.formGroup();
    await group.b.crash();
    const wiped = nodeOnHarness('b', '127.0.0.5');
    await wiped.start();
    await wiped.joinGroup({ address: group.a.address });
    expect(group.a.node.members().secondary).toMatchObject({ nodeId: 'b', address: '127.0.0.5' });
    expect((await group.a.store.load())?.membership.peer).toMatchObject({ nodeId: 'b', address: '127.0.0.5' });
    expect(wiped.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
  });
});

describe('leaving', () => {
  it('a Secondary that leaves is dropped by the Primary, which persists it and then has no Secondary to fail over to', async () => {
    group = new TwoNodes();
    await group.formGroup();
    expect(await group.b.node.leaveGroup()).toEqual({ peer: 'notified' });
    expect(group.b.node.getNodeState().nodeRole).toBe(NodeRole.NOT_IN_GROUP);
    expect(group.b.node.members()).toEqual({ primary: null, secondary: null });
    expect(group.a.node.members()).toEqual({ primary: expect.objectContaining({ nodeId: 'a' }), secondary: null });
    expect((await group.a.store.load())?.membership).toMatchObject({ inGroup: true, peer: null });
    expect(group.a.node.isActingPrimary()).toBe(true);
    const failover = await group.a.node.failover().catch((error: unknown) => error);
    expect(failover).toBeInstanceOf(MembershipError);
    expect((failover as Error).message).toMatch(/no Secondary/);
    expect(toApiError(failover).status).toBe(409);
    // The place is free again.
    const c = nodeOnHarness('c', '127.0.0.4');
    await c.start();
    await c.joinGroup({ address: group.a.address }, { group_fqdn: FQDN });
    expect(group.a.node.members().secondary).toMatchObject({ nodeId: 'c' });
  });

  it('a Primary that leaves removes the records and tells the Secondary, which leaves too', async () => {
    group = new TwoNodes();
    await group.formGroup();
    expect(await group.a.node.leaveGroup()).toEqual({ peer: 'notified' });
    expect(group.dns.records()).toEqual({ address: null, txt: null });
    expect(group.b.node.getNodeState().nodeRole).toBe(NodeRole.NOT_IN_GROUP);
    expect(group.b.node.members()).toEqual({ primary: null, secondary: null });
    expect((await group.b.store.load())?.membership).toMatchObject({ inGroup: false, peer: null });
    expect((await group.a.store.load())?.membership).toMatchObject({ inGroup: false, peer: null });
  });

  it('happens even when the other member cannot be reached, and says so', async () => {
    group = new TwoNodes();
    await group.formGroup();
    group.network.cut('b', 'a');
    const left = await group.b.node.leaveGroup();
    expect(left.peer).toBe('unreachable');
    expect(left.reason).toMatch(/a could not be reached/);
    expect(group.b.node.getNodeState().nodeRole).toBe(NodeRole.NOT_IN_GROUP);
    expect((await group.b.store.load())?.membership).toMatchObject({ inGroup: false, peer: null });
    // The Primary never heard of it: it still lists b until it removes it; b, no longer in a group, refuses the news.
    expect(group.a.node.members().secondary).toMatchObject({ nodeId: 'b' });
    group.network.heal('b', 'a');
    const removed = await group.a.node.removeMember('b');
    expect(removed).toEqual({ peer: 'refused', reason: expect.stringMatching(/not in a group/) });
    expect(group.a.node.members().secondary).toBeNull();
  });

  it('a leave from a node that is not the other member is refused and changes nothing', async () => {
    group = new TwoNodes();
    await group.formGroup();
    expect(await group.a.node.receivePeerMessage({ type: 'leave', group: FQDN, from: 'c', role: 'secondary' })).toMatchObject({ accepted: false });
    expect(await group.b.node.receivePeerMessage({ type: 'leave', group: FQDN, from: 'c', role: 'primary' })).toMatchObject({ accepted: false });
    expect(group.a.node.members().secondary).toMatchObject({ nodeId: 'b' });
    expect(group.b.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
  });
});

describe('removing a member', () => {
  it('drops a dead Secondary on the Primary so that a replacement can join', async () => {
    group = new TwoNodes();
    await group.formGroup();
    await group.b.crash();
    const c = nodeOnHarness('c', '127.0.0.4');
    await c.start();
    await expect(c.joinGroup({ address: group.a.address }, { group_fqdn: FQDN })).rejects.toBeInstanceOf(GroupFullError);
    const removed = await group.a.node.removeMember('b');
    expect(removed.peer).toBe('unreachable');
    expect((await group.a.store.load())?.membership.peer).toBeNull();
    await c.joinGroup({ address: group.a.address }, { group_fqdn: FQDN });
    expect(group.a.node.members().secondary).toMatchObject({ nodeId: 'c', address: '127.0.0.4' });
  });

  it('tells a live Secondary, which leaves the group', async () => {
    group = new TwoNodes();
    await group.formGroup();
    expect(await group.a.node.removeMember('b')).toEqual({ peer: 'notified' });
    expect(group.b.node.getNodeState().nodeRole).toBe(NodeRole.NOT_IN_GROUP);
    // b no longer watches the group: it never takes over, however long the Primary stays silent.
    await group.a.crash();
    await group.clock.advance(GROUP_TIMERS.allowed_absence_interval * 1000 * 3);
    expect(group.b.node.getNodeState().nodeRole).toBe(NodeRole.NOT_IN_GROUP);
    expect(group.dns.records().address).toBe('127.0.0.2');
  });

  it('is refused: 404 for an unknown member, 409 on the Secondary, for the Primary itself and outside a group', async () => {
    group = new TwoNodes();
    await group.b.node.start();
    const outside = await group.b.node.removeMember('a').catch((error: unknown) => error);
    expect(outside).toBeInstanceOf(MembershipError);
    await group.a.node.start();
    await group.a.node.createGroup();
    await group.b.node.joinGroup({ address: group.a.address });
    const unknown = await group.a.node.removeMember('zz').catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(NoSuchMemberError);
    expect(toApiError(unknown)).toMatchObject({ status: 404, code: 'NotFound' });
    for (const refused of [await group.b.node.removeMember('a').catch((error: unknown) => error), await group.a.node.removeMember('a').catch((error: unknown) => error)]) {
      expect(refused).toBeInstanceOf(MembershipError);
      expect(toApiError(refused).status).toBe(409);
    }
    expect(toApiError(outside).status).toBe(409);
    expect(group.a.node.members().secondary).toMatchObject({ nodeId: 'b' });
  });
});

describe('over HTTP: the API, the signed peer channel and agctl', () => {
  let net: NetworkedGroup;
  beforeAll(async () => {
    net = await startNetworkedGroup(['a', 'b', 'c']);
  }, 60_000);
  afterAll(async () => {
    await net?.stop();
  });

  it('a third node is refused with 409 naming both members; nothing changes on it', async () => {
    expect((await net.api('a', 'POST', '/group', net.createBody)).status).toBe(201);
    expect((await net.api('b', 'PUT', '/group/members', {})).status).toBe(200);
    const before = (await net.api('c', 'GET', '/group')).body;
    const refused = await net.api('c', 'PUT', '/group/members', {});
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'Conflict', status: 409, details: { error_code: 'AG_GROUP_FULL' } });
    expect(refused.body.message).toContain(`Primary a at ${net.address('a')}:${net.port}`);
    expect(refused.body.message).toContain(`Secondary b at ${net.address('b')}:${net.port}`);
    expect(refused.body.details.members).toEqual({
      primary: { node_id: 'a', external_ipv4_address: net.address('a'), external_port: net.port, external_scheme: 'http' },
      secondary: { node_id: 'b', external_ipv4_address: net.address('b'), external_port: net.port, external_scheme: 'http' },
    });
    expect((await net.api('c', 'GET', '/group')).body).toMatchObject({ configuration: before.configuration, members: { primary: null, secondary: null } });
    const onPrimary = (await net.api('a', 'GET', '/group')).body;
    expect(onPrimary.members.secondary).toBe(net.address('b'));
    expect(onPrimary.member_details.secondary.node_id).toBe('b');
  });

  it('DELETE /group on the Secondary tells the Primary, which then has no Secondary and refuses a failover with 409', async () => {
    const left = await net.api('b', 'DELETE', '/group');
    expect(left).toEqual({ status: 200, body: { message: 'Node left the availability group.', peer: 'notified' } });
    expect((await net.api('b', 'GET', '/state')).body.node_role).toBe('not_in_group');
    expect((await net.api('a', 'GET', '/group')).body.members.secondary).toBeNull();
    const failover = await net.api('a', 'PUT', '/failover');
    expect(failover.status).toBe(409);
    expect(failover.body.message).toMatch(/no Secondary/);
    expect(await net.api('b', 'DELETE', '/group')).toMatchObject({ status: 409, body: { code: 'Conflict' } });
  });

  it('DELETE /group/members/{node_id}: 404 for no such member, 409 off the Primary, and agctl group remove-member drops a dead Secondary', async () => {
    expect((await net.api('c', 'PUT', '/group/members', {})).status).toBe(200);
    expect(await net.api('a', 'DELETE', '/group/members/zz')).toMatchObject({ status: 404, body: { code: 'NotFound' } });
    expect(await net.api('c', 'DELETE', '/group/members/a')).toMatchObject({ status: 409, body: { code: 'Conflict' } });
    expect(await net.api('a', 'DELETE', '/group/members/a')).toMatchObject({ status: 409, body: { code: 'Conflict' } });
    await net.crash('c');
    const removed = await captureCli(() => groupCommand.run(['remove-member', 'c', '--config', net.configFile('a')]));
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(/^c removed from the group; it could not be reached( \(.+\))?\n$/);
    expect((await net.api('a', 'GET', '/group')).body.members.secondary).toBeNull();
  });

  it('agctl group leave on the Primary dissolves the group: the records go and the Secondary leaves too', async () => {
    expect((await net.api('b', 'PUT', '/group/members', {})).status).toBe(200);
    const left = await captureCli(() => groupCommand.run(['leave', '--config', net.configFile('a'), '--output', 'json']));
    expect(left.code).toBe(0);
    expect(JSON.parse(left.stdout)).toEqual({ message: 'Node left the availability group.', peer: 'notified' });
    expect(await net.records()).toEqual({ address: null, txt: null });
    expect((await net.api('b', 'GET', '/group')).body).toMatchObject({ members: { primary: null, secondary: null }, state: { node_role: 'not_in_group' } });
    expect((await net.api('a', 'GET', '/state')).body.node_role).toBe('not_in_group');
  });

  it('agctl group --help describes leave and remove-member', async () => {
    const help = await captureCli(() => groupCommand.run(['--help']));
    expect(help.stdout).toContain('agctl group leave');
    expect(help.stdout).toContain('agctl group remove-member <node_id>');
    const missing = await captureCli(() => groupCommand.run(['remove-member', '--config', net.configFile('a')]));
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/node_id/);
  });
});
