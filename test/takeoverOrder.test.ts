/**
 * The takeover order (docs/design.md rule 1): in a group of three, when the Primary dies the Secondary first in the
 * order (priority high to low, then node id) takes over, one standby check interval before the next may; the other
 * follows the new Primary. Exactly one acting Primary at every step.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EventId } from '../src/api/constants.js';
import { takeoverRank } from '../src/node/memberList.js';
import { ManyNodes } from './support/manyNodes.js';
import { eventsOf } from './support/twoNodes.js';

let group: ManyNodes | null = null;
afterEach(async () => {
  await group?.stopAll();
  group = null;
});

const member = (nodeId: string, priority?: number) => ({ nodeId, address: '127.0.0.9', port: 8080, scheme: 'http' as const, ...(priority === undefined ? {} : { priority }) });

describe('takeoverRank', () => {
  it('counts the other Secondaries that come first by priority, then node id; never the Primary', () => {
    const others = [member('a', 500), member('c', 300), member('d')];
    expect(takeoverRank(member('b', 50), others, 'a')).toBe(2);
    expect(takeoverRank(member('b', 300), others, 'a')).toBe(0);
    expect(takeoverRank(member('e', 300), others, 'a')).toBe(1);
    expect(takeoverRank(member('b'), [member('a')], 'a')).toBe(0);
  });
});

/** Steps of 50 ms; after each: at most one live node acts as Primary, and at most one announces primary. */
async function watchOnePrimary(g: ManyNodes, ms: number): Promise<void> {
  await g.clock.advanceWatching(ms, 50, () => {
    expect(g.actingPrimaries().length).toBeLessThanOrEqual(1);
    expect(g.nodes.filter((n) => n.running && n.node.getNodeState().nodeRole === 'primary').length).toBeLessThanOrEqual(1);
  });
}

describe('a group of three after its Primary dies', () => {
  for (const { name, priorities, first, second, listed } of [
    { name: 'the highest priority', priorities: [100, 50, 300], first: 'c', second: 'b', listed: ['c:primary', 'a:secondary', 'b:secondary'] },
    { name: 'at equal priority, the lower node id', priorities: [100, 100, 100], first: 'b', second: 'c', listed: ['b:primary', 'a:secondary', 'c:secondary'] },
  ]) {
    it(`${name} takes over; the other follows it and receives its heartbeats`, async () => {
      group = new ManyNodes({ priorities });
      await group.formGroup();
      await watchOnePrimary(group, 3_000);
      expect(group.actingPrimaries()).toEqual(['a']);
      const epoch = group.get('a').node.getNodeState().epoch;
      await group.get('a').crash();
      const { absenceMs, checkIntervalMs } = group.get(first).node.settings.timers;
      // The first in the order takes over at its deadline; the second waits one check interval more, and by then
      // follows the new Primary.
      await watchOnePrimary(group, absenceMs + checkIntervalMs / 2);
      expect(group.actingPrimaries()).toEqual([first]);
      await watchOnePrimary(group, 4 * checkIntervalMs);
      expect(group.actingPrimaries()).toEqual([first]);
      expect(eventsOf(group.get(second).events, EventId.TAKEOVER_STARTED)).toEqual([]);
      const follower = group.get(second).node.getNodeState();
      expect(follower).toMatchObject({ nodeRole: 'secondary', epoch: epoch + 1, heartbeatMethod: 'direct', state: 'secondary.watching' });
      expect(group.get(second).node.members().primary?.nodeId).toBe(first);
      // Its heartbeats keep arriving: the follower's newest heartbeat moves on.
      const before = follower.lastHeartbeatTime;
      await watchOnePrimary(group, 2 * checkIntervalMs);
      expect(group.get(second).node.getNodeState().lastHeartbeatTime).not.toBe(before);
      expect(group.get(first).node.allMembers().map((m) => `${m.nodeId}:${m.role}`)).toEqual(listed);
      expect(group.get(second).node.allMembers().map((m) => `${m.nodeId}:${m.role}`)).toEqual(listed);
    });
  }

  it('the second in the order takes over when the first is dead too, one check interval later', async () => {
    group = new ManyNodes({ priorities: [100, 50, 300] });
    await group.formGroup();
    await watchOnePrimary(group, 2_000);
    await group.get('a').crash();
    await group.get('c').crash();
    const { absenceMs, checkIntervalMs } = group.get('b').node.settings.timers;
    await watchOnePrimary(group, absenceMs + checkIntervalMs / 2);
    // b's absence limit is the failover period plus one check interval (c comes first): it has not taken over yet.
    expect(eventsOf(group.get('b').events, EventId.TAKEOVER_STARTED)).toEqual([]);
    await watchOnePrimary(group, checkIntervalMs + 500);
    expect(group.actingPrimaries()).toEqual(['b']);
  });
});
