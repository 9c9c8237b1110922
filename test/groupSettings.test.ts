/**
 * Group settings belong to the group: the Primary pushes a change to the Secondary, a Secondary that missed it gets
 * it with the next heartbeat it acknowledges, and only the Primary of the newest epoch can change them. Two real
 * nodes on in-memory ports and a manual clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MembershipError, SettingsError } from '../src/api/errors.js';
import { groupSettingsFingerprint } from '../src/node/settings.js';
import type { GroupSettingsMessage } from '../src/peer/peerMessages.js';
import { FQDN, TwoNodes } from './support/twoNodes.js';

const TSIG = { tsig_name: 'ag-key.example.test', tsig_secret: 'b2xkLXNlY3JldC1vbGQtc2VjcmV0' };
const ROTATED_SECRET = 'bmV3LXNlY3JldC1uZXctc2VjcmV0';

let group: TwoNodes;
afterEach(async () => {
  await group?.stopAll();
});

/** The timers b's statechart runs with now. */
function timersOf(group: TwoNodes, node: 'a' | 'b') {
  return group[node].node.actor!.getSnapshot().context.timers;
}

describe('a change of group settings on the Primary', () => {
  it('reaches the Secondary at once: its settings, its statechart timers and its store', async () => {
    group = new TwoNodes({ group: TSIG });
    await group.formGroup();
    const update = await group.a.node.updateSettings({ health_report_interval: 0.5, tsig_secret: ROTATED_SECRET });
    expect(update).toEqual({ secondary: 'updated' });
    expect(group.b.node.settings.healthReportInterval).toBe(0.5);
    expect(group.b.node.settings.tsigSecret).toBe(ROTATED_SECRET);
    expect(timersOf(group, 'b').heartbeatIntervalMs).toBe(500);
    expect((await group.b.store.load())?.settings.tsig_secret).toBe(ROTATED_SECRET);
    expect(groupSettingsFingerprint(group.b.node.settings.record)).toBe(groupSettingsFingerprint(group.a.node.settings.record));
    // The Secondary keeps its own address and identity.
    expect(group.b.node.settings.nodeId).toBe('b');
    expect(group.b.node.settings.externalIpv4Address).toBe('127.0.0.3');
  });

  it('is applied on the Primary even when the Secondary cannot be reached, and reaches the Secondary with the next acknowledged heartbeat', async () => {
    group = new TwoNodes();
    await group.formGroup();
    group.network.cut('a', 'b');
    const update = await group.a.node.updateSettings({ group_fqdn_ttl: 45 });
    expect(update.secondary).toBe('pending');
    expect(update.reason).toMatch(/could not be reached/);
    expect(group.a.node.settings.groupFqdnTtl).toBe(45);
    expect(group.b.node.settings.groupFqdnTtl).toBe(30);
    group.network.heal('a', 'b');
    const took = await group.clock.advanceUntil(() => group.b.node.settings.groupFqdnTtl === 45, 3_000);
    expect(took).toBeLessThanOrEqual(2_000);
  });

  it('is refused, naming the field, when one node could still hold a lease longer than the other waits', async () => {
    group = new TwoNodes();
    await group.formGroup();
    // Failover period 5 s -> 3 s: the 3.75 s lease still held under the old timers outlasts the new period.
    const change = group.a.node.updateSettings({ allowed_absence_interval: 3 });
    await expect(change).rejects.toThrow(SettingsError);
    await expect(change).rejects.toThrow(/allowed_absence_interval: rule 3: while the change reaches both nodes/);
    expect(group.a.node.settings.allowedAbsenceInterval).toBe(5);
    expect(group.b.node.settings.allowedAbsenceInterval).toBe(5);
    // Two smaller steps get there.
    expect((await group.a.node.updateSettings({ allowed_absence_interval: 4 })).secondary).toBe('updated');
    expect((await group.a.node.updateSettings({ allowed_absence_interval: 3.5, lease_duration: 2.5 })).secondary).toBe('updated');
    expect(timersOf(group, 'b').absenceMs).toBe(3_500);
  });

  it('cannot rename the group or change its scheme in place', async () => {
    group = new TwoNodes();
    await group.formGroup();
    const change = group.a.node.updateSettings({ group_fqdn: 'other.example.test', external_scheme: 'https' });
    await expect(change).rejects.toThrow(/group_fqdn: cannot change while the group runs.*external_scheme: cannot change while the group runs/);
    expect(group.a.node.settings.groupFqdn).toBe(FQDN);
    expect(group.b.node.settings.groupFqdn).toBe(FQDN);
  });

  it('cannot be made on the Secondary, which still changes its own node settings', async () => {
    group = new TwoNodes();
    await group.formGroup();
    await expect(group.b.node.updateSettings({ health_report_interval: 0.5 })).rejects.toThrow(MembershipError);
    expect(await group.b.node.updateSettings({ dns_server: '127.0.0.53:53' })).toEqual({ secondary: 'none' });
    expect(group.b.node.settings.dnsServer).toBe('127.0.0.53:53');
  });
});

describe('a Secondary receiving group settings', () => {
  const push = (epoch: number, groupSettings: Record<string, unknown>): GroupSettingsMessage => ({
    type: 'group-settings',
    group: FQDN,
    from: 'a',
    epoch,
    groupSettings: { group_fqdn: FQDN, health_report_interval: 1, health_check_interval: 1, allowed_absence_interval: 5, ...groupSettings },
  });

  it('refuses them from a Primary of an older epoch than it knows', async () => {
    group = new TwoNodes();
    await group.formGroup();
    const epoch = group.b.node.getNodeState().epoch;
    expect(await group.b.node.receivePeerMessage(push(epoch - 1, { group_fqdn_ttl: 45 }))).toEqual({ accepted: false, reason: expect.stringMatching(/older than epoch/) });
    expect(group.b.node.settings.groupFqdnTtl).toBe(30);
    expect(await group.b.node.receivePeerMessage(push(epoch, { group_fqdn_ttl: 45 }))).toEqual({ accepted: true });
    expect(group.b.node.settings.groupFqdnTtl).toBe(45);
  });

  it('refuses invalid ones, naming the field, and keeps its settings', async () => {
    group = new TwoNodes();
    await group.formGroup();
    const reply = await group.b.node.receivePeerMessage(push(group.b.node.getNodeState().epoch, { health_report_interval: -1 }));
    expect(reply.accepted).toBe(false);
    expect(reply.reason).toMatch(/health_report_interval/);
    expect(group.b.node.settings.healthReportInterval).toBe(1);
  });

  it('is refused by the Primary itself, and from a node that is not the other member', async () => {
    group = new TwoNodes();
    await group.formGroup();
    const reply = await group.a.node.receivePeerMessage({ ...push(group.a.node.getNodeState().epoch, { group_fqdn_ttl: 45 }), from: 'b' });
    expect(reply).toEqual({ accepted: false, reason: 'this node is the Primary' });
    await expect(group.b.node.receivePeerMessage({ ...push(group.b.node.getNodeState().epoch, { group_fqdn_ttl: 45 }), from: 'c' })).rejects.toThrow(/c is not the other member/);
  });
});
