/**
 * `getNodeState().lastUpdated` (served as `last_updated`) is, as in the product, the Secondary's last standby check
 * "if applicable": a time while the node is Secondary, null while it is Primary or not in a group, even right after
 * it was a Secondary. Two nodes on in-memory ports and a manual clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NodeRole } from '../src/api/constants.js';
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
