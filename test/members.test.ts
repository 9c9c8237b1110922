/**
 * Groups of more than two members (coordination etcd): the member limit, the Primary's member list reaching every
 * member, who may send one, persistence, removal and leaving.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GroupFullError } from '../src/api/errors.js';
import { persistedMembers } from '../src/node/nodeStore.js';
import { ManyNodes } from './support/manyNodes.js';
import { FQDN } from './support/twoNodes.js';

let group: ManyNodes | null = null;
afterEach(async () => {
  await group?.stopAll();
  group = null;
});

/** Each node's view of the group: `id:role` in the order `allMembers()` lists them. */
function views(g: ManyNodes): Record<string, string[]> {
  return Object.fromEntries(g.nodes.map((n) => [n.id, n.node.allMembers().map((m) => `${m.nodeId}:${m.role}:${m.priority}`)]));
}

describe('a group of three (coordination etcd)', () => {
  it('every member knows every member, the Primary first, then the Secondaries by priority', async () => {
    group = new ManyNodes({ priorities: [100, 50, 300] });
    await group.formGroup();
    const expected = ['a:primary:100', 'c:secondary:300', 'b:secondary:50'];
    expect(views(group)).toEqual({ a: expected, b: expected, c: expected });
    // The product's two keys: the Primary and the first Secondary in the takeover order, on every member.
    for (const n of group.nodes) expect(n.node.members()).toMatchObject({ primary: { nodeId: 'a' }, secondary: { nodeId: 'c' } });
    // b joined before c: it learnt of c from the Primary's member list, and persisted it.
    const persisted = await group.get('b').store.load();
    expect(persistedMembers(persisted!.membership).map((m) => m.nodeId).sort()).toEqual(['a', 'c']);
  });

  it('the Primary heartbeats every member directly, and each accepts', async () => {
    group = new ManyNodes({ priorities: [100, 100, 100] });
    await group.formGroup();
    await group.clock.advance(3_000);
    for (const id of ['b', 'c']) expect(group.get(id).node.getNodeState()).toMatchObject({ nodeRole: 'secondary', heartbeatMethod: 'direct' });
    expect(group.get('a').node.getNodeState()).toMatchObject({ actingPrimary: true, heartbeatMethod: 'direct' });
  });

  it('a restarted Secondary still knows every member (persisted)', async () => {
    group = new ManyNodes({ priorities: [100, 100, 100] });
    await group.formGroup();
    await group.get('c').restart();
    await group.clock.advance(2_000);
    expect(group.get('c').node.allMembers().map((m) => `${m.nodeId}:${m.role}`)).toEqual(['a:primary', 'b:secondary', 'c:secondary']);
    expect(group.get('c').node.getNodeState().nodeRole).toBe('secondary');
  });

  it('takes a member list only from the Primary it follows, at an epoch no older than its own', async () => {
    group = new ManyNodes({ priorities: [100, 100, 100] });
    await group.formGroup();
    const c = group.get('c').node;
    const epoch = c.getNodeState().epoch;
    const list = group.get('a').node.allMembers().map(({ role: _role, ...address }) => address);
    const message = { type: 'members' as const, group: FQDN, epoch, members: list.filter((m) => m.nodeId !== 'b') };
    // From b, a Secondary at the same epoch: refused.
    expect(await c.receivePeerMessage({ ...message, from: 'b' })).toEqual({ accepted: false, reason: `b is not the Primary of epoch ${epoch} (a is)` });
    // From a, but from an older epoch: refused.
    expect(await c.receivePeerMessage({ ...message, from: 'a', epoch: epoch - 1 })).toMatchObject({ accepted: false, reason: expect.stringMatching(/older than epoch/) });
    // A list that does not name the receiver: refused.
    expect(await c.receivePeerMessage({ ...message, from: 'a', members: list.filter((m) => m.nodeId !== 'c') })).toMatchObject({ accepted: false, reason: 'the list does not name c' });
    // From a node that is no member at all: refused before anything is read.
    await expect(c.receivePeerMessage({ ...message, from: 'z' })).rejects.toThrow(/z is not a member/);
    expect(c.allMembers()).toHaveLength(3);
    // From the Primary at its epoch: taken.
    expect(await c.receivePeerMessage({ ...message, from: 'a' })).toEqual({ accepted: true });
    expect(c.allMembers().map((m) => m.nodeId)).toEqual(['a', 'c']);
  });

  it('takes pushed group settings only from the Primary of its epoch, not from another Secondary', async () => {
    group = new ManyNodes({ priorities: [100, 100, 100] });
    await group.formGroup();
    const c = group.get('c').node;
    const epoch = c.getNodeState().epoch;
    const push = { type: 'group-settings' as const, group: FQDN, epoch, groupSettings: { ...c.settings.record, group_fqdn_ttl: 45 } };
    expect(await c.receivePeerMessage({ ...push, from: 'b' })).toEqual({ accepted: false, reason: `b is not the Primary of epoch ${epoch} (a is)` });
    expect(c.settings.groupFqdnTtl).toBe(30);
    expect(await c.receivePeerMessage({ ...push, from: 'a' })).toEqual({ accepted: true });
    expect(c.settings.groupFqdnTtl).toBe(45);
  });

  it('a removed member is dropped on every member; a Secondary that leaves too', async () => {
    group = new ManyNodes({ priorities: [100, 100, 100, 100] });
    await group.formGroup();
    expect(await group.get('a').node.removeMember('c')).toEqual({ peer: 'notified' });
    await group.clock.advance(10);
    expect(group.get('c').node.getNodeState().nodeRole).toBe('not_in_group');
    expect(group.get('b').node.allMembers().map((m) => m.nodeId)).toEqual(['a', 'b', 'd']);
    expect(await group.get('d').node.leaveGroup()).toEqual({ peer: 'notified' });
    await group.clock.advance(10);
    expect(group.get('a').node.allMembers().map((m) => m.nodeId)).toEqual(['a', 'b']);
    expect(group.get('b').node.allMembers().map((m) => m.nodeId)).toEqual(['a', 'b']);
  });

  it('admits up to seven members with etcd, and refuses the eighth (group_full)', async () => {
    group = new ManyNodes({ priorities: [100, 100, 100, 100, 100, 100, 100, 100] });
    const [first, ...others] = group.nodes;
    for (const n of group.nodes) await n.node.start();
    await first!.node.createGroup();
    for (const n of others.slice(0, 6)) await n.node.joinGroup({ address: first!.address });
    const refused = others[6]!.node.joinGroup({ address: first!.address });
    await expect(refused).rejects.toBeInstanceOf(GroupFullError);
    await expect(refused).rejects.toThrow(/already has 7 members, its limit/);
    expect(first!.node.allMembers()).toHaveLength(7);
    expect(others[6]!.node.getNodeState().nodeRole).toBe('not_in_group');
  });

  it('keeps the product limit of two with coordination dns', async () => {
    group = new ManyNodes({ priorities: [100, 100, 100], group: { coordination: 'dns' } });
    await group.nodes[0]!.node.start();
    await group.nodes[1]!.node.start();
    await group.nodes[2]!.node.start();
    await group.nodes[0]!.node.createGroup();
    await group.nodes[1]!.node.joinGroup({ address: group.nodes[0]!.address });
    await expect(group.nodes[2]!.node.joinGroup({ address: group.nodes[0]!.address })).rejects.toThrow(/already has two members/);
  });
});

describe("the Primary's lease in a group of three (rule 3 generalised)", () => {
  it('rests on the direct path while every member accepts: a DNS outage keeps the Primary acting', async () => {
    group = new ManyNodes({ priorities: [100, 100, 100] });
    await group.formGroup();
    group.dns.setReachable(false);
    // Ten failover periods of DNS outage: every heartbeat is confirmed by both Secondaries.
    await group.clock.advanceWatching(50_000, 250, () => expect(group!.actingPrimaries()).toEqual(['a']));
  });

  it('needs every member: with one Secondary cut off the lease rests on the TXT write, and ends in a DNS outage', async () => {
    group = new ManyNodes({ priorities: [100, 100, 100] });
    await group.formGroup();
    group.network.cut('a', 'c');
    // DNS answers: the TXT writes confirm the lease; c still sees the heartbeats in the TXT record.
    await group.clock.advanceWatching(20_000, 250, () => expect(group!.actingPrimaries()).toEqual(['a']));
    expect(group.get('c').node.getNodeState().nodeRole).toBe('secondary');
    group.dns.setReachable(false);
    const leaseMs = group.get('a').node.settings.timers.leaseMs;
    // b still accepts every heartbeat, but c does not answer: no confirmation, so the lease ends.
    await group.clock.advance(leaseMs + 10);
    expect(group.actingPrimaries()).toEqual([]);
    expect(group.get('b').node.getNodeState().nodeRole).toBe('secondary');
  });
});
