/**
 * Manual failover to a named member in a group of three (docs/design.md rule 6): `failover({ to })` on the Primary
 * hands over to that member, on that member it takes over, elsewhere it is refused naming the Primary; without `to`
 * the Primary hands over to the first Secondary in the takeover order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MembershipError, NoSuchMemberError } from '../src/api/errors.js';
import { failoverRequestFrom } from '../src/http/apiBodies.js';
import { ManyNodes } from './support/manyNodes.js';

let group: ManyNodes | null = null;
afterEach(async () => {
  await group?.stopAll();
  group = null;
});

/** Runs `failover` while the clock moves (the handover's I/O runs on it); resolves or rejects with it. */
async function whileClockRuns(g: ManyNodes, failover: Promise<void>): Promise<void> {
  let done = false;
  const settled = failover.finally(() => (done = true));
  settled.catch(() => undefined);
  await g.clock.advanceUntil(() => done, 20_000, 10).catch(() => undefined);
  await settled;
}

/** After the handover: exactly one acting Primary, and every other member follows it at its epoch. */
async function expectFollowers(g: ManyNodes, primary: string): Promise<void> {
  await g.clock.advance(2_000);
  expect(g.actingPrimaries()).toEqual([primary]);
  const epoch = g.get(primary).node.getNodeState().epoch;
  for (const n of g.nodes.filter((m) => m.id !== primary)) {
    expect(n.node.getNodeState(), n.id).toMatchObject({ nodeRole: 'secondary', epoch, state: 'secondary.watching' });
    expect(n.node.members().primary?.nodeId, n.id).toBe(primary);
  }
}

describe('failover({ to }) in a group of three', () => {
  it('on the Primary hands over to the member named, though another comes first in the order', async () => {
    group = new ManyNodes({ priorities: [100, 300, 50] });
    await group.formGroup();
    await whileClockRuns(group, group.get('a').node.failover({ to: 'c' }));
    await expectFollowers(group, 'c');
  });

  it('without `to`, on the Primary hands over to the first Secondary in the takeover order', async () => {
    group = new ManyNodes({ priorities: [100, 50, 300] });
    await group.formGroup();
    await whileClockRuns(group, group.get('a').node.failover());
    await expectFollowers(group, 'c');
  });

  it('on the member named, takes over (the Primary hands over to the member that asked)', async () => {
    group = new ManyNodes({ priorities: [100, 300, 50] });
    await group.formGroup();
    await whileClockRuns(group, group.get('c').node.failover({ to: 'c' }));
    await expectFollowers(group, 'c');
  });

  it('is refused on another Secondary (naming the Primary), for no member, and for the Primary itself; nothing changes', async () => {
    group = new ManyNodes({ priorities: [100, 100, 100] });
    await group.formGroup();
    const onB = group.get('b').node.failover({ to: 'c' });
    await expect(onB).rejects.toBeInstanceOf(MembershipError);
    await expect(onB).rejects.toThrow('A failover to c is asked on the Primary (a) or on c itself; b is a Secondary.');
    await expect(group.get('a').node.failover({ to: 'z' })).rejects.toBeInstanceOf(NoSuchMemberError);
    await expect(group.get('a').node.failover({ to: 'a' })).rejects.toThrow('a is the Primary already');
    await expectFollowers(group, 'a');
  });
});

describe('the body of PUT /failover', () => {
  it('is none, {} or {"to": "<node id>"}; anything else is refused naming the field', () => {
    expect(failoverRequestFrom(undefined)).toEqual({});
    expect(failoverRequestFrom({})).toEqual({});
    expect(failoverRequestFrom({ to: 'c' })).toEqual({ to: 'c' });
    expect(() => failoverRequestFrom({ to: 7 })).toThrow(/to/);
    expect(() => failoverRequestFrom({ to: 'c', now: true })).toThrow(/now/);
    expect(() => failoverRequestFrom([])).toThrow(/must be a JSON object/);
  });
});
