/**
 * `getNodeState().lastUpdated` (served as `last_updated`) is, as in the product, the Secondary's last standby check
 * "if applicable": a time while the node is Secondary, null while it is Primary or not in a group, even right after
 * it was a Secondary. `lastHeartbeatTime` (`last_heartbeat_time`) is the newest heartbeat the node knows, including
 * the one a restarted Primary writes to reclaim its role. Two nodes on in-memory ports and a manual clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HeartbeatMethod, NodeRole } from '../src/api/constants.js';
import { stateBody } from '../src/http/apiShapes.js';
import { GROUP_TIMERS, TwoNodes } from './support/twoNodes.js';

let group: TwoNodes;
afterEach(async () => {
  await group?.stopAll();
});

describe('last_updated', () => {
  it('is the standby check on the Secondary, and null on the Primary', async () => {
    group = new TwoNodes();
    await group.formGroup();
    await group.clock.advanceUntil(() => group.b.node.getNodeState().lastUpdated !== null, 3_000);
    expect(group.b.node.getNodeState().lastUpdated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
    expect(group.a.node.getNodeState().lastUpdated).toBeNull();
  });

  it('becomes null when the Secondary takes over, instead of keeping its last check as Secondary', async () => {
    group = new TwoNodes();
    await group.formGroup();
    await group.clock.advanceUntil(() => group.b.node.getNodeState().lastUpdated !== null, 3_000);
    await group.a.crash();
    await group.clock.advanceUntil(() => group.b.node.isActingPrimary(), GROUP_TIMERS.allowed_absence_interval * 1000 * 3);
    const state = group.b.node.getNodeState();
    expect(state.nodeRole).toBe(NodeRole.PRIMARY);
    expect(state.lastUpdated).toBeNull();
    expect(stateBody(state).last_updated).toBeNull();
  });

  it('is null on a restarted Primary that read the records to resolve its role, and again once it left', async () => {
    group = new TwoNodes();
    await group.formGroup();
    // A restart resolves the role from DNS (a check of the records), then the node is Primary again.
    await group.a.restart();
    await group.clock.advanceUntil(() => group.a.node.isActingPrimary(), 3_000);
    expect(group.a.node.getNodeState().nodeRole).toBe(NodeRole.PRIMARY);
    expect(group.a.node.getNodeState().lastUpdated).toBeNull();
    await group.b.node.leaveGroup();
    expect(group.b.node.getNodeState().nodeRole).toBe(NodeRole.NOT_IN_GROUP);
    expect(group.b.node.getNodeState().lastUpdated).toBeNull();
  });
});

describe('last_heartbeat_time', () => {
  it("is the reclaim's heartbeat on a restarted Primary as soon as it acts, not the previous epoch's last one", async () => {
    group = new TwoNodes();
    await group.formGroup();
    const heartbeatMs = GROUP_TIMERS.health_report_interval * 1000;
    const epochBefore = group.a.node.getNodeState().epoch;
    await group.a.crash();
    // Down for less than the failover period (b does not take over), long enough to tell the heartbeats apart.
    await group.clock.advance(heartbeatMs / 2);
    const restartedAtWall = group.clock.wallNow();
    await group.a.restart();
    // The reclaim is one read and one write: done well within a heartbeat interval, so before a's next heartbeat.
    const took = await group.clock.advanceUntil(() => group.a.node.isActingPrimary(), heartbeatMs / 2);
    expect(took).toBeLessThan(heartbeatMs);
    const state = group.a.node.getNodeState();
    expect(state.nodeRole).toBe(NodeRole.PRIMARY);
    expect(state.epoch).toBe(epochBefore + 1);
    expect(state.lastHeartbeatTime).not.toBeNull();
    expect(Date.parse(state.lastHeartbeatTime!)).toBeGreaterThanOrEqual(restartedAtWall);
    // The reclaim travelled through DNS only: the peer has not acknowledged a heartbeat of this process yet.
    expect(state.heartbeatMethod).toBe(HeartbeatMethod.DNS);
    expect(stateBody(state).last_heartbeat_time).toBe(state.lastHeartbeatTime);
  });
});
