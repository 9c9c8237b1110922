import { afterEach, describe, expect, it } from 'vitest';
import { EVENT_IDS, EventId, NodeRole } from '../src/api/constants.js';
import { getNodeState, requirePrimary, setDefaultNode, subscribe } from '../src/node/defaultNode.js';
import { NoDefaultNodeError, NotActingPrimaryError } from '../src/api/errors.js';
import type { NodeRoleChanged } from '../src/api/events.js';
import { settle } from './support/manualClock.js';
import { TwoNodes } from './support/twoNodes.js';

let group: TwoNodes;
afterEach(async () => {
  setDefaultNode(null);
  await group?.stopAll();
});

/** The role chain promise: each event's previous is the one before's new, no repeats, ends at the reported role. */
function expectTruthfulChain(events: readonly NodeRoleChanged[], reported: string): void {
  expect(events[0]!.previous).toBeNull();
  for (let index = 1; index < events.length; index += 1) {
    expect(events[index]!.previous).toBe(events[index - 1]!.new);
    expect(events[index]!.new).not.toBe(events[index]!.previous);
  }
  expect(events.at(-1)!.new).toBe(reported);
}

describe('subscriptions', () => {
  it('tells every subscriber every role change once, in transition order, as a chain that ends at the reported role', async () => {
    group = new TwoNodes();
    const first: NodeRoleChanged[] = [];
    const second: NodeRoleChanged[] = [];
    group.b.node.subscribe(EventId.NODE_ROLE_CHANGED, (event) => void first.push(event));
    group.b.node.subscribe(EventId.NODE_ROLE_CHANGED, (event) => void second.push(event));
    await group.formGroup();
    const failover = group.b.node.failover();
    await group.clock.advanceUntil(() => group.b.node.isActingPrimary(), 5_000);
    await failover;
    const handback = group.b.node.failover();
    await group.clock.advanceUntil(() => group.a.node.isActingPrimary(), 5_000);
    await handback;
    await settle();
    expect(first.map((event) => event.new)).toEqual([NodeRole.NOT_IN_GROUP, NodeRole.SECONDARY, NodeRole.PRIMARY, NodeRole.SECONDARY]);
    expect(second).toEqual(first);
    expectTruthfulChain(first, group.b.node.getNodeState().nodeRole);
    expect(first[2]).toMatchObject({ reason: 'manual failover', epoch: 2 });
  });

  it('keeps delivering to the others when a callback throws', async () => {
    group = new TwoNodes();
    const seen: string[] = [];
    group.a.node.subscribe(EventId.NODE_ROLE_CHANGED, () => {
      throw new Error('workflow bug');
    });
    group.a.node.subscribe(EventId.NODE_ROLE_CHANGED, (event) => void seen.push(event.new));
    await group.formGroup();
    await settle();
    expect(seen).toEqual([NodeRole.NOT_IN_GROUP, NodeRole.PRIMARY]);
  });

  it('lets a slow async callback delay neither the machine nor other subscribers, and keeps its own events in order', async () => {
    group = new TwoNodes();
    const releases: Array<() => void> = [];
    const slow: string[] = [];
    const fast: string[] = [];
    group.a.node.subscribe(EventId.NODE_ROLE_CHANGED, async (event) => {
      await new Promise<void>((resolve) => releases.push(resolve));
      slow.push(event.new);
    });
    group.a.node.subscribe(EventId.NODE_ROLE_CHANGED, (event) => void fast.push(event.new));
    await group.formGroup();
    await settle();
    // The machine went on to primary and the fast subscriber heard both events while the slow one holds its first.
    expect(group.a.node.getNodeState().nodeRole).toBe(NodeRole.PRIMARY);
    expect(fast).toEqual([NodeRole.NOT_IN_GROUP, NodeRole.PRIMARY]);
    expect(slow).toEqual([]);
    releases.shift()!();
    await settle();
    expect(slow).toEqual([NodeRole.NOT_IN_GROUP]);
    releases.shift()!();
    await settle();
    expect(slow).toEqual([NodeRole.NOT_IN_GROUP, NodeRole.PRIMARY]);
  });

  it('refuses an unknown event id with a TypeError that lists the valid ids', () => {
    group = new TwoNodes();
    expect(() => group.a.node.subscribe('ROLE_CHANGED' as never, () => undefined)).toThrow(TypeError);
    expect(() => group.a.node.subscribe('ROLE_CHANGED' as never, () => undefined)).toThrow(EVENT_IDS.join(', '));
    expect(() => subscribe('nope' as never, () => undefined)).toThrow(/valid ids are NODE_ROLE_CHANGED/);
  });

  it('stops delivering after unsubscribe', async () => {
    group = new TwoNodes();
    const seen: string[] = [];
    const unsubscribe = group.a.node.subscribe(EventId.NODE_ROLE_CHANGED, (event) => void seen.push(event.new));
    await group.a.node.start();
    await settle();
    unsubscribe();
    await group.a.node.createGroup();
    await settle();
    expect(seen).toEqual([NodeRole.NOT_IN_GROUP]);
  });
});

describe('the module-level API on the default node', () => {
  it('throws NoDefaultNodeError without a default node', async () => {
    setDefaultNode(null);
    expect(() => getNodeState()).toThrow(NoDefaultNodeError);
    await expect(requirePrimary(() => 1)).rejects.toBeInstanceOf(NoDefaultNodeError);
  });

  it('serves getNodeState, subscribe (also made before the node exists) and the Primary guard', async () => {
    group = new TwoNodes();
    const early: NodeRoleChanged[] = [];
    const unsubscribe = subscribe(EventId.NODE_ROLE_CHANGED, (event) => void early.push(event));
    setDefaultNode(group.a.node);
    await group.formGroup();
    await settle();
    expect(getNodeState().nodeRole).toBe(NodeRole.PRIMARY);
    expect(getNodeState().actingPrimary).toBe(true);
    expect(early.map((event) => event.new)).toEqual([NodeRole.NOT_IN_GROUP, NodeRole.PRIMARY]);
    expect(await requirePrimary(({ epoch }) => epoch)).toBe(1);
    setDefaultNode(group.b.node);
    await expect(requirePrimary(() => 1)).rejects.toBeInstanceOf(NotActingPrimaryError);
    unsubscribe();
  });
});
