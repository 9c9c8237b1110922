/**
 * A validly signed heartbeat still claims only what is possible (rules 1 and 4): a peer holding the peer secret,
 * buggy or compromised, cannot push the group to an absurd epoch, make the real Primary's heartbeats look like
 * replays, or have a heartbeat captured before a restart counted again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EventId, NodeRole } from '../src/api/constants.js';
import { HeartbeatRefusedError } from '../src/api/errors.js';
import { parseHeartbeatRecord } from '../src/dns/heartbeatRecord.js';
import type { HeartbeatMessage } from '../src/peer/peerMessages.js';
import { eventsOf, FQDN, roleChanges, TwoNodes } from './support/twoNodes.js';

const ABSENCE_MS = 5_000;
let group: TwoNodes | null = null;
afterEach(async () => {
  await group?.stopAll();
  group = null;
});

async function formed(): Promise<TwoNodes> {
  group = new TwoNodes();
  await group.formGroup();
  return group;
}

function heartbeatMessage(g: TwoNodes, epoch: number, seq: number): HeartbeatMessage {
  return { type: 'heartbeat', group: FQDN, heartbeat: { holder: 'a', epoch, seq, sentAt: g.clock.wallNow() } };
}

describe('impossible heartbeats are refused and change nothing', () => {
  it('refuses a seq of 2^53-1 at the current epoch: the real Primary stays the Primary', async () => {
    const g = await formed();
    const { epoch } = parseHeartbeatRecord(g.dns.records().txt!)!;
    await expect(g.b.node.receivePeerMessage(heartbeatMessage(g, epoch, Number.MAX_SAFE_INTEGER))).rejects.toBeInstanceOf(HeartbeatRefusedError);
    // The real Primary's heartbeats keep counting as progress: no takeover for two failover periods.
    await g.clock.advance(2 * ABSENCE_MS);
    expect(g.a.node.isActingPrimary()).toBe(true);
    expect(eventsOf(g.b.events, EventId.TAKEOVER_STARTED)).toEqual([]);
    expect(g.b.node.actor!.getSnapshot().context.progress.seen!.seq).toBeLessThan(100);
  });

  it('refuses an epoch of 10^12: no node moves to it, nothing persisted', async () => {
    const g = await formed();
    const { epoch } = parseHeartbeatRecord(g.dns.records().txt!)!;
    await expect(g.b.node.receivePeerMessage(heartbeatMessage(g, 1e12, 0))).rejects.toThrow(/more than one past epoch/);
    await expect(g.a.node.receivePeerMessage({ ...heartbeatMessage(g, 1e12, 0), heartbeat: { holder: 'b', epoch: 1e12, seq: 0, sentAt: 0 } })).rejects.toBeInstanceOf(HeartbeatRefusedError);
    await g.clock.advance(2_000);
    expect([g.a.node.getNodeState().epoch, g.b.node.getNodeState().epoch]).toEqual([epoch, epoch]);
    expect((await g.b.store.load())?.membership.epoch).toBe(epoch);
    expect(g.a.node.isActingPrimary()).toBe(true);
    expect(roleChanges(g.a.events).at(-1)).toBe('not_in_group>primary');
  });

  it('still acknowledges a heartbeat from an older epoch, so a stale Primary learns it was replaced', async () => {
    const g = await formed();
    await g.b.node.failover();
    const stale = await g.b.node.receivePeerMessage({ ...heartbeatMessage(g, 1, 99), heartbeat: { holder: 'a', epoch: 1, seq: 99, sentAt: 0 } });
    expect(stale).toMatchObject({ accepted: false, epoch: 2 });
  });

  it('accepts a seq a few heartbeats ahead, as time allows', async () => {
    const g = await formed();
    const { epoch, seq } = parseHeartbeatRecord(g.dns.records().txt!)!;
    await g.clock.advance(3_000);
    // Three seconds at a one-second heartbeat: a few heartbeats ahead of the last one seen is possible.
    const seen = g.b.node.actor!.getSnapshot().context.progress.seen!;
    await expect(g.b.node.receivePeerMessage(heartbeatMessage(g, epoch, seen.seq + 2))).resolves.toMatchObject({ accepted: true });
    expect(seq).toBeLessThan(seen.seq + 2);
  });
});

describe('a heartbeat captured before a restart', () => {
  it('is refused while the restarted node resolves its role, and after it read DNS', async () => {
    const g = await formed();
    const captured = heartbeatMessage(g, parseHeartbeatRecord(g.dns.records().txt!)!.epoch, parseHeartbeatRecord(g.dns.records().txt!)!.seq);
    await g.clock.advance(3_000);
    g.dns.holdReads = true;
    const restarting = g.b.restart();
    await g.clock.advance(1);
    await expect(g.b.node.receivePeerMessage(captured)).rejects.toThrow(/not yet resolved its role/);
    g.dns.release();
    await restarting;
    expect(g.b.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
    await expect(g.b.node.receivePeerMessage(captured)).rejects.toThrow(/not newer/);
  });
});
