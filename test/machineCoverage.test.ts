/**
 * Every state and every transition of the node machine, as listed from the machine definition with `xstate/graph`
 * (plus the eventless `always` transitions, which the graph leaves out), is taken by at least one scenario below on
 * real nodes. The last test fails naming any state or transition that no scenario took.
 */
import type { AnyStateNode, InspectionEvent } from 'xstate';
import { getStateNodes, toDirectedGraph, type DirectedGraphNode } from 'xstate/graph';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeMachine } from '../machines/nodeMachine.js';
import { NodeRole } from '../src/api/constants.js';
import { formatHeartbeatRecord, parseHeartbeatRecord } from '../src/dns/heartbeatRecord.js';
import { DnsUnreachableError } from '../src/dns/errors.js';
import { FQDN, HookedDns, TwoNodes } from './support/twoNodes.js';

const ABSENCE_MS = 5_000;
const LEASE_MS = 3_750;

interface TransitionLike {
  readonly source: AnyStateNode;
  readonly eventType: string;
}

/** A transition's identity across machine copies: source state, event, and its place among that event's candidates. */
function transitionKey(transition: TransitionLike): string {
  const candidates: readonly unknown[] =
    transition.eventType === '' ? (transition.source.always ?? []) : (transition.source.transitions.get(transition.eventType) ?? []);
  const event = transition.eventType === '' ? 'always' : transition.eventType.replace(/\.agNode.*$/, '');
  return `${transition.source.id} on ${event} #${candidates.indexOf(transition)}`;
}

/** Every transition of the machine definition: the graph's edges and each state's `always` list. */
function allTransitionKeys(): Set<string> {
  const keys = new Set<string>();
  const visit = (graphNode: DirectedGraphNode) => {
    for (const edge of graphNode.edges) keys.add(transitionKey(edge.transition as unknown as TransitionLike));
    graphNode.children.forEach(visit);
  };
  visit(toDirectedGraph(nodeMachine));
  for (const stateNode of [nodeMachine.root, ...getStateNodes(nodeMachine.root)]) {
    for (const transition of stateNode.always ?? []) keys.add(transitionKey(transition as unknown as TransitionLike));
  }
  return keys;
}

const taken = new Set<string>();
const visited = new Set<string>();
const groups: TwoNodes[] = [];

function record(event: InspectionEvent): void {
  if (event.type !== '@xstate.microstep') return;
  for (const transition of (event as unknown as { _transitions: TransitionLike[] })._transitions) {
    taken.add(transitionKey(transition));
    // A transient state (\`starting\`) is never in a settled snapshot; leaving it proves it was entered.
    visited.add(transition.source.id);
  }
  const snapshot = event.snapshot as unknown as { _nodes: AnyStateNode[] };
  for (const stateNode of snapshot._nodes) visited.add(stateNode.id);
}

/** A formed group whose transitions are recorded for coverage. */
async function formedGroup(): Promise<TwoNodes> {
  const group = new TwoNodes();
  groups.push(group);
  await group.formGroup();
  return group;
}

function heartbeatFrom(holder: string, epoch: number, seq: number, group: TwoNodes) {
  return {
    type: 'HEARTBEAT_RECEIVED' as const,
    heartbeat: { holder, epoch, seq, sentAt: group.clock.wallNow() },
    at: { monotonic: group.clock.monotonicNow(), wall: group.clock.wallNow() },
  };
}

function currentHeartbeat(group: TwoNodes) {
  return parseHeartbeatRecord(group.dns.records().txt!)!;
}

afterAll(async () => {
  for (const group of groups) await group.stopAll();
});

describe('node machine coverage', () => {
  it('runs the everyday life of a group: heartbeats, checks, settings, crash and takeover', async () => {
    const group = await formedGroup();
    await group.a.node.updateSettings({ health_report_interval: 0.5 });
    group.cutDirectPath();
    await group.clock.advance(3_000);
    await group.a.crash();
    await group.clock.advanceUntil(() => group.b.node.isActingPrimary(), ABSENCE_MS * 3);
    await group.a.restart();
    await group.clock.advance(2_000);
    expect(group.a.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
  });

  it('resolves a restart: reclaim, lost race while reclaiming, DNS down while reclaiming or resolving', async () => {
    const group = await formedGroup();
    await group.a.restart();
    expect(group.a.node.isActingPrimary()).toBe(true);
    // Lost race while reclaiming: the TXT changes under the reclaim, then the next read names a again.
    let bumped = false;
    group.dns.beforeUpdate = (fqdn) => {
      if (bumped) return;
      bumped = true;
      const current = currentHeartbeat(group);
      group.dns.inner.apply(fqdn, {}, { txt: formatHeartbeatRecord({ ...current, seq: current.seq + 5 }) }, { ttl: 30 });
    };
    await group.a.restart();
    group.dns.beforeUpdate = null;
    // DNS down just as the reclaim is sent, then DNS down at the read.
    group.dns.beforeUpdate = () => group.dns.setReachable(false);
    await group.a.restart();
    group.dns.beforeUpdate = null;
    await group.a.restart();
    expect(group.a.node.getNodeState().state).toBe('disconnected');
    group.dns.setReachable(true);
    await group.clock.advanceUntil(() => group.a.node.isActingPrimary() || group.b.node.isActingPrimary(), ABSENCE_MS * 3);
  });

  it('handles heartbeats that arrive while a DNS answer is in flight', async () => {
    const group = await formedGroup();
    group.cutDirectPath();
    group.dns.holdReads = true;
    await group.clock.advance(1_200);
    expect(group.b.node.getNodeState().state).toBe('secondary.checking');
    const { epoch, seq } = currentHeartbeat(group);
    group.b.node.actor!.send(heartbeatFrom('a', epoch, seq + 1, group));
    group.dns.release();
    await group.clock.advance(100);
    // While resolving after a restart.
    group.dns.holdReads = true;
    const restarting = group.b.restart();
    await group.clock.advance(10);
    group.b.node.actor!.send(heartbeatFrom('a', epoch, seq + 2, group));
    group.dns.release();
    await restarting;
    expect(group.b.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
  });

  it('goes disconnected and orphaned, and back', async () => {
    const group = await formedGroup();
    // A DNS outage alone changes nothing but the DNS state; a restart during it cannot resolve its role.
    group.cutDirectPath();
    group.dns.setReachable(false);
    await group.clock.advance(1_500);
    expect(group.b.node.getNodeState().state).toBe('secondary.watching');
    await group.b.restart();
    expect(group.b.node.getNodeState().state).toBe('disconnected');
    group.network.heal('a', 'b');
    await group.clock.advance(1_100);
    group.dns.setReachable(true);
    await group.clock.advance(2_000);
    // The records vanish: the Secondary finds nothing to watch or take over.
    group.dns.inner.apply(FQDN, {}, { address: null, txt: null }, { ttl: 30 });
    await group.clock.advanceUntil(() => group.b.node.getNodeState().state === 'orphaned', 5_000);
    await group.clock.advance(1_100);
    await group.b.restart();
    expect(group.b.node.getNodeState().state).toBe('orphaned');
  });

  it('fences: a newer epoch by heartbeat, by acknowledgement, or by a lost own write; a lease that runs out', async () => {
    const group = await formedGroup();
    const { epoch } = currentHeartbeat(group);
    group.a.node.actor!.send(heartbeatFrom('b', epoch + 1, 0, group));
    await group.clock.advance(1_500);
    // The Secondary has heard of a newer epoch; the Primary learns it from the acknowledgement.
    const acked = await formedGroup();
    acked.b.node.actor!.send(heartbeatFrom('x', currentHeartbeat(acked).epoch + 1, 0, acked));
    await acked.clock.advance(1_000);
    // Fenced, it stops acting; DNS still names it, so it may re-assert itself with a compare-and-swap (rule 5).
    expect(acked.a.events.some((event) => event.eventId === 'LEASE_LOST' && event.reason === 'fenced by a newer epoch')).toBe(true);
    // Lease expiry noticed when the heartbeat timer fires first, after a pause.
    const group2 = await formedGroup();
    group2.clock.jump(LEASE_MS + 1);
    await group2.clock.advance(1);
    expect(group2.a.node.isActingPrimary()).toBe(false);
    // A lease that runs out with both paths down.
    const group3 = await formedGroup();
    group3.cutDirectPath();
    group3.dns.setReachable(false);
    await group3.clock.advance(LEASE_MS + 100);
    expect(group3.a.node.getNodeState().state).toBe('disconnected');
  });

  it('fails over by hand: handover accepted, refused, unreachable; step-down asked, refused, unreachable', async () => {
    const accepted = await formedGroup();
    const handing = accepted.a.node.failover();
    await accepted.clock.advance(100);
    await handing;
    const askedAndGranted = accepted.a.node.failover();
    await accepted.clock.advanceUntil(() => accepted.a.node.isActingPrimary(), ABSENCE_MS);
    await askedAndGranted;

    const refused = await formedGroup();
    await refused.b.node.leaveGroup();
    const handoverRefused = refused.a.node.failover().catch(() => 'refused');
    await refused.clock.advance(100);
    expect(await handoverRefused).toBe('refused');

    const unreachable = await formedGroup();
    unreachable.cutDirectPath();
    const handoverUnreachable = unreachable.a.node.failover().catch(() => 'unreachable');
    await unreachable.clock.advance(100);
    expect(await handoverUnreachable).toBe('unreachable');
    // The Secondary forces a takeover: it waits out the old lease, the old Primary is fenced on its next write.
    const forced = unreachable.b.node.failover();
    await unreachable.clock.advanceUntil(() => unreachable.b.node.isActingPrimary(), ABSENCE_MS * 3);
    await forced;
    // A heartbeat reaches a node in the middle of its takeover.
    unreachable.network.heal('a', 'b');
    unreachable.network.heal('b', 'a');
    await unreachable.clock.advance(2_000);
    unreachable.dns.holdReads = true;
    const forcedBack = unreachable.a.node.failover();
    await unreachable.clock.advance(1);
    unreachable.a.node.actor!.send(heartbeatFrom('b', currentHeartbeat(unreachable).epoch, 10_000, unreachable));
    unreachable.dns.release();
    await unreachable.clock.advance(ABSENCE_MS * 2);
    await forcedBack;

    // The Primary left the group: asked to step down, it refuses; the records are gone, so nothing is taken over.
    const dissolved = await formedGroup();
    await dissolved.a.node.leaveGroup();
    const orphanedTakeover = dissolved.b.node.failover().catch(() => 'abandoned');
    await dissolved.clock.advance(100);
    expect(await orphanedTakeover).toBe('abandoned');
  });

  it('takes every branch of rule 6: probes, offers, step-down answers, stale and overtaken requests', async () => {
    const at = (group: TwoNodes) => ({ monotonic: group.clock.monotonicNow(), wall: group.clock.wallNow() });
    const noRecords = { address: null, txt: null };

    // Refused at the root: a node resolving its role; probes and offers to a node that is not a watching Secondary.
    const root = await formedGroup();
    const epoch = currentHeartbeat(root).epoch;
    root.a.node.actor!.send({ type: 'HANDOVER_PROBED', from: 'b', epoch, at: at(root) });
    root.a.node.actor!.send({ type: 'HANDOVER_OFFERED', from: 'b', epoch, records: noRecords, askedBy: 'b', at: at(root) });
    // Stale probes and offers to the Secondary.
    root.b.node.actor!.send({ type: 'HANDOVER_PROBED', from: 'a', epoch: 0, at: at(root) });
    root.b.node.actor!.send({ type: 'HANDOVER_OFFERED', from: 'a', epoch: 0, records: noRecords, askedBy: 'a', at: at(root) });
    // A heartbeat while a probe reads DNS; then a probe that finds DNS down.
    root.dns.holdReads = true;
    root.b.node.actor!.send({ type: 'HANDOVER_PROBED', from: 'a', epoch, at: at(root) });
    root.b.node.actor!.send(heartbeatFrom('a', epoch, currentHeartbeat(root).seq + 1, root));
    root.dns.release();
    await root.clock.advance(10);
    root.dns.setReachable(false);
    root.b.node.actor!.send({ type: 'HANDOVER_PROBED', from: 'a', epoch, at: at(root) });
    await root.clock.advance(10);
    // The Primary asks during the outage: the Secondary is not ready, nothing changes.
    await expect(root.a.node.failover()).rejects.toMatchObject({ reason: 'not_ready' });
    root.dns.setReachable(true);
    await root.clock.advance(1_100);
    // A restart during an outage leaves b resolving its role: a failover asked there is refused at once.
    root.dns.holdReads = true;
    const restarting = root.b.restart();
    await root.clock.advance(1);
    root.b.node.actor!.send({ type: 'FAILOVER_REQUESTED', at: at(root) });
    root.dns.release();
    await restarting;
    // A probe finds the records gone.
    root.dns.inner.apply(FQDN, {}, { address: null, txt: null }, { ttl: 30 });
    root.b.node.actor!.send({ type: 'HANDOVER_PROBED', from: 'a', epoch, at: at(root) });
    await root.clock.advance(10);

    // While the Secondary asks (its read held): a stale offer, a probe and a heartbeat it does not accept.
    const asking = await formedGroup();
    const askingEpoch = currentHeartbeat(asking).epoch;
    asking.dns.holdReads = true;
    const askedFailover = asking.b.node.failover().catch(() => 'refused');
    await asking.clock.advance(1);
    asking.b.node.actor!.send({ type: 'HANDOVER_OFFERED', from: 'a', epoch: 0, records: noRecords, askedBy: 'b', at: at(asking) });
    asking.b.node.actor!.send({ type: 'HANDOVER_PROBED', from: 'a', epoch: askingEpoch, at: at(asking) });
    await asking.clock.advance(1_000);
    asking.dns.release();
    await asking.clock.advance(10);
    await askedFailover;

    // The records are gone when the Secondary asks.
    const gone = await formedGroup();
    gone.dns.inner.apply(FQDN, {}, { address: null, txt: null }, { ttl: 30 });
    await expect(gone.b.node.failover()).rejects.toMatchObject({ reason: 'records_missing' });

    // Both at once: the Primary's request wins, the Secondary's is overtaken by the offer.
    const both = await formedGroup();
    await Promise.allSettled([both.a.node.failover(), both.b.node.failover()]);
    // The Primary is busy probing when the Secondary asks: the Secondary's request is refused.
    const busy = await formedGroup();
    let releaseProbe = () => undefined as void;
    busy.network.intercept = async (message) => {
      if (message.type === 'handover-probe') await new Promise<void>((resolve) => (releaseProbe = resolve));
    };
    const primaryAsks = busy.a.node.failover();
    await busy.clock.advance(1);
    await expect(busy.b.node.failover()).rejects.toMatchObject({ reason: 'in_progress' });
    busy.network.intercept = null;
    releaseProbe();
    await primaryAsks;

    // The Primary agrees but its offer never arrives: the Secondary gives up after a standby check.
    const lostOffer = await formedGroup();
    lostOffer.network.intercept = (message) => {
      if (message.type === 'handover') throw new Error('offer lost (test)');
    };
    const waiting = lostOffer.b.node.failover().catch(() => 'no offer');
    await lostOffer.clock.advance(1_100);
    expect(await waiting).toBe('no offer');
    lostOffer.network.intercept = null;
    await lostOffer.clock.advance(2_000);

    // The peer is not Primary (fenced by a newer epoch): the Secondary forces a takeover after reading the records.
    const notPrimary = await formedGroup();
    notPrimary.a.node.actor!.send(heartbeatFrom('x', currentHeartbeat(notPrimary).epoch + 1, 0, notPrimary));
    const forcing = notPrimary.b.node.failover().catch(() => 'failed');
    await notPrimary.clock.advance(ABSENCE_MS);
    await forcing;
    // A forced takeover whose read fails after the Primary could not be asked.
    const readFails = await formedGroup();
    readFails.cutDirectPath();
    let reads = 0;
    const read = readFails.dns.read.bind(readFails.dns);
    readFails.dns.read = async (fqdn: string) => {
      reads += 1;
      if (reads === 2) throw new Error('DNS down for the second read (test)');
      return read(fqdn);
    };
    await expect(readFails.b.node.failover()).rejects.toMatchObject({ reason: 'dns_unreachable' });
    // The same, but the second read finds the records gone.
    const vanished = await formedGroup();
    vanished.cutDirectPath();
    let vanishedReads = 0;
    const readVanished = vanished.dns.read.bind(vanished.dns);
    vanished.dns.read = async (fqdn: string) => {
      vanishedReads += 1;
      return vanishedReads === 2 ? { address: null, txt: null } : readVanished(fqdn);
    };
    await expect(vanished.b.node.failover()).rejects.toMatchObject({ reason: 'records_missing' });

    // The offer is refused (stale by the time it arrives).
    const refusedOffer = await formedGroup();
    refusedOffer.network.intercept = (message) => {
      if (message.type === 'handover') Object.assign(message, { epoch: 0 });
    };
    const refusedHandover = refusedOffer.a.node.failover().catch(() => 'refused');
    await refusedOffer.clock.advance(ABSENCE_MS);
    expect(await refusedHandover).toBe('refused');
    // The taker loses the race to the offerer's leftover write, then to a foreign write, checking once with DNS down.
    for (const interference of ['leftover', 'foreign', 'dns down'] as const) {
      const race = await formedGroup();
      race.dns.beforeUpdate = (fqdn, replacement) => {
        if (replacement.address !== race.b.address) return;
        race.dns.beforeUpdate = null;
        const current = currentHeartbeat(race);
        const changed = interference === 'foreign' ? { ...current, holder: 'x' } : { ...current, seq: current.seq + 1 };
        race.dns.inner.apply(fqdn, {}, { txt: formatHeartbeatRecord(changed) }, { ttl: 30 });
        if (interference === 'dns down') {
          const read = race.dns.read.bind(race.dns);
          race.dns.read = async () => {
            race.dns.read = read;
            throw new DnsUnreachableError('down for the check (test)');
          };
        }
      };
      const raced = race.a.node.failover().catch(() => 'refused');
      await race.clock.advance(ABSENCE_MS);
      await raced;
    }
  });

  it('refuses late and second requests, and hands over when the takeover goes unanswered', async () => {
    const at = (group: TwoNodes) => ({ monotonic: group.clock.monotonicNow(), wall: group.clock.wallNow() });
    // A late offer answering a request this Secondary already gave up on.
    const late = await formedGroup();
    late.b.node.actor!.send({ type: 'HANDOVER_OFFERED', from: 'a', epoch: currentHeartbeat(late).epoch, records: late.dns.records(), askedBy: 'b', at: at(late) });
    // A failover asked on the Primary while it hands over for the Secondary's request.
    const second = await formedGroup();
    let releaseOffer = () => undefined as void;
    second.network.intercept = async (message) => {
      if (message.type === 'handover') await new Promise<void>((resolve) => (releaseOffer = resolve));
    };
    const asked = second.b.node.failover();
    await second.clock.advance(1);
    await expect(second.a.node.failover()).rejects.toMatchObject({ reason: 'in_progress' });
    second.network.intercept = null;
    releaseOffer();
    await asked;
    // The taker's update is applied but its answer lost: the offerer reclaims and loses, the taker resolves.
    const unanswered = await formedGroup();
    const swap = unanswered.dns.compareAndSwap.bind(unanswered.dns);
    unanswered.dns.compareAndSwap = async (...args: Parameters<HookedDns['compareAndSwap']>) => {
      await swap(...args);
      if (args[2].address === unanswered.b.address) throw new DnsUnreachableError('answer lost (test)');
    };
    // a answers once a heartbeat of b's shows that b acts, so the clock must run meanwhile.
    const unansweredResult = unanswered.a.node.failover().catch(() => 'unconfirmed');
    await unanswered.clock.advance(ABSENCE_MS);
    expect(await unansweredResult).toBeUndefined();
  });

  it('hands over, the answer lost and the taker gone right after its update: no heartbeat shows it acting, the records decide', async () => {
    const group = await formedGroup();
    // Paused, so a does not take over for b's absence: only the wait for a heartbeat of b's ends a's failover.
    await group.a.node.setMaintenance(true);
    await group.clock.advanceUntil(() => group.b.node.getNodeState().maintenance, ABSENCE_MS);
    const swap = group.dns.compareAndSwap.bind(group.dns);
    group.dns.compareAndSwap = async (...args: Parameters<HookedDns['compareAndSwap']>) => {
      await swap(...args);
      if (args[2].address === group.b.address) {
        group.network.cut('b', 'a');
        void group.b.crash();
        throw new DnsUnreachableError('answer lost, and the taker stops (test)');
      }
    };
    const result = group.a.node.failover().catch((error: unknown) => error);
    await group.clock.advance(ABSENCE_MS + LEASE_MS + 1_000);
    expect(await result).toMatchObject({ outcome: 'unconfirmed', reason: 'peer_unreachable' });
    expect(group.a.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
  });

  it('verifies its own lost write: a late write of its own, or DNS down at the check', async () => {
    const group = await formedGroup();
    // The server applies one heartbeat write but its answer is lost; the next write's prerequisite fails.
    let lose = 1;
    const swap = group.dns.compareAndSwap.bind(group.dns);
    group.dns.compareAndSwap = async (...args: Parameters<HookedDns['compareAndSwap']>) => {
      await swap(...args);
      if (lose > 0) {
        lose -= 1;
        throw new DnsUnreachableError('answer lost (test)');
      }
    };
    await group.clock.advance(2_100);
    expect(group.a.node.isActingPrimary()).toBe(true);
    // Again, and DNS goes down just as the Primary reads to check.
    lose = 1;
    group.dns.beforeUpdate = () => undefined;
    await group.clock.advance(1_000);
    const readOnce = group.dns.read.bind(group.dns);
    group.dns.read = async () => {
      group.dns.read = readOnce;
      throw new DnsUnreachableError('down for the check (test)');
    };
    await group.clock.advance(1_100);
    // A heartbeat the Secondary does not accept: it is asking for a failover, its read held.
    group.dns.holdReads = true;
    const asked = group.b.node.failover().catch(() => 'refused');
    await group.clock.advance(1_100);
    group.dns.release();
    await group.clock.advance(100);
    await asked;
  });

  it('extends the lease only from a newer send: an acknowledgement slower than the next TXT write notes the peer', async () => {
    const group = await formedGroup();
    await group.clock.advance(1_100);
    const { epoch, seq } = currentHeartbeat(group);
    const before = group.a.node.actor!.getSnapshot().context;
    // The acknowledgement of a heartbeat sent before the newest confirmed one (its TXT write answered first).
    const sentAt = { monotonic: before.lease.lastConfirmedSentAt! - 1, wall: group.clock.wallNow() - 1 };
    const at = { monotonic: group.clock.monotonicNow(), wall: group.clock.wallNow() };
    group.a.node.actor!.send({
      type: 'DIRECT_HEARTBEAT_ACKED',
      heartbeat: { holder: 'a', epoch, seq: Math.max(0, seq - 1), sentAt: sentAt.wall },
      ack: { nodeId: 'b', role: NodeRole.SECONDARY, epoch, accepted: true },
      sentAt,
      at,
    });
    const after = group.a.node.actor!.getSnapshot().context;
    expect(after.lease.leaseExpiresAt).toBe(before.lease.leaseExpiresAt);
    expect(after.lease.peerAcceptedAt).toBe(at.monotonic);
    expect(group.a.node.isActingPrimary()).toBe(true);
  });

  it('hands over and loses the offer on the way: the Primary re-asserts itself', async () => {
    const group = await formedGroup();
    group.network.intercept = (message) => {
      if (message.type === 'handover') throw new Error('offer lost (test)');
    };
    await expect(group.a.node.failover()).rejects.toMatchObject({ outcome: 'failed' });
    group.network.intercept = null;
    expect(group.a.node.isActingPrimary()).toBe(true);
  });

  it('abandons takeovers: lost race, DNS down at the read or at the update', async () => {
    const lostRace = await formedGroup();
    await lostRace.a.crash();
    lostRace.dns.beforeUpdate = (fqdn, replacement) => {
      if (replacement.address !== lostRace.b.address) return;
      lostRace.dns.beforeUpdate = null;
      const current = currentHeartbeat(lostRace);
      lostRace.dns.inner.apply(fqdn, {}, { txt: formatHeartbeatRecord({ ...current, seq: current.seq + 1 }) }, { ttl: 30 });
    };
    await lostRace.clock.advance(ABSENCE_MS + 2_000);

    const downAtUpdate = await formedGroup();
    await downAtUpdate.a.crash();
    downAtUpdate.dns.beforeUpdate = () => downAtUpdate.dns.setReachable(false);
    await downAtUpdate.clock.advance(ABSENCE_MS + 2_000);
    expect(downAtUpdate.b.node.getNodeState().state).toBe('disconnected');

    const downAtRead = await formedGroup();
    downAtRead.cutDirectPath();
    downAtRead.dns.holdReads = true;
    const forced = downAtRead.b.node.failover().catch(() => 'abandoned');
    await downAtRead.clock.advance(1);
    downAtRead.dns.setReachable(false);
    downAtRead.dns.release();
    await downAtRead.clock.advance(10);
    expect(await forced).toBe('abandoned');

    // A stale handover offer: the offerer re-asserted itself with a new epoch before the taker read the records.
    const staleOffer = await formedGroup();
    const offered = currentHeartbeat(staleOffer);
    staleOffer.dns.inner.apply(FQDN, {}, { txt: formatHeartbeatRecord({ ...offered, epoch: offered.epoch + 1, seq: 0 }) }, { ttl: 30 });
    const at = { monotonic: staleOffer.clock.monotonicNow(), wall: staleOffer.clock.wallNow() };
    staleOffer.b.node.actor!.send({ type: 'HANDOVER_OFFERED', from: 'a', epoch: offered.epoch, records: { address: null, txt: null }, askedBy: 'a', at });
    await staleOffer.clock.advance(10);
    expect(staleOffer.b.node.isActingPrimary()).toBe(false);
    // The same, told by the offerer's heartbeat from its new epoch while the taker's read is still out.
    const staleByHeartbeat = await formedGroup();
    const heldOffer = currentHeartbeat(staleByHeartbeat);
    staleByHeartbeat.dns.holdReads = true;
    const offerAt = { monotonic: staleByHeartbeat.clock.monotonicNow(), wall: staleByHeartbeat.clock.wallNow() };
    staleByHeartbeat.b.node.actor!.send({ type: 'HANDOVER_OFFERED', from: 'a', epoch: heldOffer.epoch, records: { address: null, txt: null }, askedBy: 'a', at: offerAt });
    staleByHeartbeat.b.node.actor!.send(heartbeatFrom('a', heldOffer.epoch + 1, 0, staleByHeartbeat));
    staleByHeartbeat.dns.release();
    await staleByHeartbeat.clock.advance(10);
    expect(staleByHeartbeat.b.node.isActingPrimary()).toBe(false);
  });

  it('creates, leaves and dissolves groups, also with DNS down, and refuses a second group on the same name', async () => {
    const group = await formedGroup();
    // A node not in the group answers heartbeats without accepting them.
    await group.b.node.leaveGroup();
    await group.clock.advance(1_100);
    const stranger = new TwoNodes();
    groups.push(stranger);
    await stranger.a.node.start();
    await expect(stranger.a.node.createGroup()).resolves.toBeUndefined();
    const clash = new TwoNodes();
    groups.push(clash);
    // Same DNS name already taken in this other authority: creation is refused.
    clash.dns.inner.apply(FQDN, {}, { address: '127.0.0.9', txt: 'taken' }, { ttl: 30 });
    await clash.a.node.start();
    await expect(clash.a.node.createGroup()).rejects.toThrow(/Could not create the group/);
    group.dns.setReachable(false);
    await group.a.node.leaveGroup();
    expect(group.a.node.getNodeState().nodeRole).toBe(NodeRole.NOT_IN_GROUP);
  });

  it('application health (rule 10): hands over for it, and an unhealthy Secondary refuses to take over every way', async () => {
    const probe = (healthy: boolean) => ({ description: 'coverage', healthy, check: async function (this: { healthy: boolean }) { return { healthy: this.healthy, detail: '' }; } });
    const probes = { a: probe(true), b: probe(true) };
    const settings = { health_command: ['coverage-check'], health_interval: 1, health_timeout: 0.5, health_failures: 2 };
    const group = new TwoNodes({ nodes: { a: { settings, ports: { applicationHealth: probes.a } }, b: { settings, ports: { applicationHealth: probes.b } } } });
    groups.push(group);
    await group.formGroup();
    await group.clock.advance(ABSENCE_MS);
    // A Primary unhealthy for health_failures checks hands over to its healthy Secondary.
    probes.a.healthy = false;
    await group.clock.advanceUntil(() => group.b.node.isActingPrimary(), ABSENCE_MS);
    // Now a is an unhealthy Secondary: it refuses a failover asked on it, the Primary's probe and an offer.
    await group.clock.advanceUntil(() => group.a.node.getNodeState().applicationHealth === 'unhealthy', ABSENCE_MS);
    await expect(group.a.node.failover()).rejects.toThrow(/application is unhealthy/);
    const a = group.a.node.actor!;
    const now = () => ({ monotonic: group.clock.monotonicNow(), wall: group.clock.wallNow() });
    const epoch = a.getSnapshot().context.epoch;
    a.send({ type: 'HANDOVER_PROBED', from: 'b', epoch, at: now() });
    a.send({ type: 'HANDOVER_OFFERED', from: 'b', epoch, records: { address: null, txt: null }, askedBy: 'b', at: now() });
    expect(a.getSnapshot().context.failover.offerAnswer?.accepted).toBe(false);
    // The application turns unhealthy while a failover asked on the Secondary waits for DNS: it gives up.
    probes.a.healthy = true;
    await group.clock.advanceUntil(() => group.a.node.getNodeState().applicationHealth === 'healthy', ABSENCE_MS);
    group.dns.holdReads = true;
    const asked = group.a.node.failover().catch((error: unknown) => error);
    a.send({ type: 'APPLICATION_HEALTH_CHECKED', healthy: false, at: now() });
    a.send({ type: 'APPLICATION_HEALTH_CHECKED', healthy: false, at: now() });
    a.send({ type: 'HANDOVER_OFFERED', from: 'b', epoch, records: { address: null, txt: null }, askedBy: 'a', at: now() });
    group.dns.release();
    await group.clock.advance(10);
    expect(await asked).toMatchObject({ reason: 'application_unhealthy' });
    // The Primary dies: the unhealthy Secondary reports the absence but does not take over.
    probes.a.healthy = false;
    await group.b.crash();
    await group.clock.advance(ABSENCE_MS * 2);
    expect(group.a.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
    // The checker switched off at run time: the verdict is null again.
    await group.a.node.updateSettings({ health_command: undefined });
    expect(group.a.node.getNodeState().applicationHealth).toBeNull();
  });

  it('maintenance (rule 9): paused on the Primary, absence found but not acted on, resumed on the Secondary', async () => {
    const group = await formedGroup();
    await group.a.node.setMaintenance(true);
    await group.clock.advanceUntil(() => group.b.node.getNodeState().maintenance, ABSENCE_MS);
    await group.a.crash();
    await group.clock.advance(ABSENCE_MS * 2);
    expect(group.b.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
    await group.b.node.setMaintenance(false);
    await group.clock.advanceUntil(() => group.b.node.isActingPrimary(), ABSENCE_MS);
  });

  it('counts progress the authority reports (its watch), while watching and while a check reads', async () => {
    const group = await formedGroup();
    const { epoch, seq } = currentHeartbeat(group);
    const reported = (next: number) => {
      const heartbeat = { holder: 'a', epoch, seq: next, sentAt: group.clock.wallNow() };
      const records = { address: group.a.address, txt: formatHeartbeatRecord(heartbeat), heartbeat };
      return { type: 'AUTHORITY_CHANGED' as const, records, at: { monotonic: group.clock.monotonicNow(), wall: group.clock.wallNow() } };
    };
    group.cutDirectPath();
    group.b.node.actor!.send(reported(seq + 1));
    group.dns.holdReads = true;
    await group.clock.advance(1_200);
    expect(group.b.node.getNodeState().state).toBe('secondary.checking');
    group.b.node.actor!.send(reported(seq + 2));
    expect(group.b.node.actor!.getSnapshot().context.progress.seen).toEqual({ epoch, seq: seq + 2 });
    group.dns.release();
    await group.clock.advance(100);
    expect(group.b.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);
  });

  it('takes every state and every transition of the machine definition', () => {
    for (const group of groups) group.transitions.forEach(record);
    const states = getStateNodes(nodeMachine.root).map((stateNode) => stateNode.id);
    const missingStates = states.filter((id) => !visited.has(id));
    const missingTransitions = [...allTransitionKeys()].filter((key) => !taken.has(key));
    expect(states.length).toBeGreaterThan(20);
    expect(allTransitionKeys().size).toBeGreaterThan(60);
    expect({ missingStates, missingTransitions }).toEqual({ missingStates: [], missingTransitions: [] });
  });
});
