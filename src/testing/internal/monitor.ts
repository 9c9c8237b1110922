import type { NodeSnapshot } from '../../../machines/nodeReplies.js';
import type { NodeTimers } from '../../../machines/nodeMachine.types.js';
import { topState } from '../../../machines/stateLabel.js';
import type { NodeRoleChanged } from '../../api/events.js';
import { parseHeartbeatRecord } from '../../dns/heartbeatRecord.js';
import { MAX_CLOCK_RATE_DRIFT } from '../../node/settings.js';
import type { PropertyName, Violation } from '../properties.js';
import type { Scenario, SimNodeId } from '../scenario.js';
import type { FaultConditions } from './faultConditions.js';
import type { SimHost } from './simHost.js';
import type { DnsApplied } from './simDns.js';
import type { SimKernel } from './kernel.js';

/** What the monitor follows of one node. */
interface NodeWatch {
  top: string;
  /** True time since when the node has been in the primary state, running and unpaused; null otherwise. */
  primarySince: number | null;
  lastProgressMono: number | null;
  /** True time at which the node last recorded progress of the Primary's heartbeat (rule 1). */
  lastProgressTrue: number | null;
  /** True time since when the node has been measuring the Primary's silence (its progress mark became non-null). */
  watchingSince: number | null;
  epoch: number;
}

/** A crashed Primary whose survivor must take over in time (property failoverHappens). */
interface FailoverDuty {
  readonly victim: SimNodeId;
  readonly survivor: SimNodeId;
  readonly crashAt: number;
}

/**
 * Checks the properties of DESIGN.md section 4 as the simulation runs: at every instant (after each happening),
 * at every DNS update the server applies, at every transition into a takeover, and over each subscriber's events.
 * Each check is a direct reading of the property's text in properties.ts.
 */
export class PropertyMonitor {
  readonly violations: Violation[] = [];
  /** Crash-to-acting times of the failovers this run saw (ms of true time). */
  readonly failoverTimes: number[] = [];
  readonly #kernel: SimKernel;
  readonly #hosts: ReadonlyMap<SimNodeId, SimHost>;
  readonly #scenario: Scenario;
  readonly #faults: FaultConditions;
  readonly #timers: NodeTimers;
  readonly #watch = new Map<SimNodeId, NodeWatch>();
  readonly #holders = new Map<number, string>();
  #maxEpoch = 0;
  #duties: FailoverDuty[] = [];

  constructor(kernel: SimKernel, hosts: ReadonlyMap<SimNodeId, SimHost>, scenario: Scenario, faults: FaultConditions, timers: NodeTimers) {
    this.#kernel = kernel;
    this.#hosts = hosts;
    this.#scenario = scenario;
    this.#faults = faults;
    this.#timers = timers;
    for (const id of hosts.keys()) this.#watch.set(id, { top: '', primarySince: null, lastProgressMono: null, lastProgressTrue: null, watchingSince: null, epoch: 0 });
  }

  #fail(property: PropertyName, message: string, node?: SimNodeId): void {
    const violation: Violation = { property, t: this.#kernel.now, message };
    this.violations.push(violation);
    this.#kernel.trace({ kind: 'violation', t: this.#kernel.now, property, message, ...(node === undefined ? {} : { node }) });
  }

  #other(id: SimNodeId): SimHost {
    for (const [other, host] of this.#hosts) if (other !== id) return host;
    throw new Error('the simulation runs two nodes');
  }

  // ---- transitions ----

  /** Called with every snapshot of a node's root actor. */
  onSnapshot(host: SimHost, snapshot: NodeSnapshot): void {
    const watch = this.#watch.get(host.id)!;
    const { context } = snapshot;
    const top = topState(snapshot.value);
    const now = this.#kernel.now;
    if (top === 'primary' && watch.top !== 'primary') watch.primarySince = host.live ? now : null;
    if (top !== 'primary') watch.primarySince = null;
    if (context.lastProgressAt !== watch.lastProgressMono) {
      if (watch.lastProgressMono === null) watch.watchingSince = now;
      watch.lastProgressMono = context.lastProgressAt;
      watch.lastProgressTrue = now;
      this.#armDutyCheck(host.id);
    }
    if (top === 'takingOver' && watch.top !== 'takingOver' && context.takeoverMode === 'absence') this.#checkNoFalseFailover(host, context.epoch);
    watch.top = top;
    watch.epoch = context.epoch;
  }

  onPause(host: SimHost): void {
    this.#watch.get(host.id)!.primarySince = null;
  }

  onResume(host: SimHost): void {
    const watch = this.#watch.get(host.id)!;
    if (watch.top === 'primary') watch.primarySince = this.#kernel.now;
  }

  /** A node crashed: if it was Primary and the other node watches, the other must take over in time. */
  onCrash(host: SimHost): void {
    const watch = this.#watch.get(host.id)!;
    const survivor = this.#other(host.id);
    if (watch.top === 'primary' && survivor.live && this.#watch.get(survivor.id)!.top === 'secondary') {
      this.#duties.push({ victim: host.id, survivor: survivor.id, crashAt: this.#kernel.now });
      this.#armDutyCheck(survivor.id);
    }
    watch.primarySince = null;
    watch.top = '';
  }

  /** A restarted victim may legitimately reclaim its role: the duty no longer applies. */
  onRestart(host: SimHost): void {
    this.#duties = this.#duties.filter((duty) => duty.victim !== host.id);
  }

  /** An operator acted on `node`: its takeover timing is no longer the absence path's. */
  onOperatorAction(node: SimNodeId | 'both'): void {
    this.#duties = this.#duties.filter((duty) => node !== 'both' && duty.survivor !== node);
  }

  // ---- rule 1: failover happens / no false failover ----

  /** The latest instant by which `survivor` must act as Primary, from its last recorded progress. */
  #deadline(survivor: SimHost): number {
    const watch = this.#watch.get(survivor.id)!;
    const { absenceMs, checkIntervalMs } = this.#timers;
    const roundTrip = 2 * this.#scenario.network.dnsDelayMs[1];
    const checks = Math.ceil(absenceMs / checkIntervalMs) + 1;
    return (watch.lastProgressTrue ?? 0) + (absenceMs + checkIntervalMs) / survivor.rate + checks * roundTrip + roundTrip + 1;
  }

  #armDutyCheck(survivor: SimNodeId): void {
    if (!this.#duties.some((duty) => duty.survivor === survivor)) return;
    // An empty happening at the deadline makes the monitor look at that instant even if nothing else happens.
    this.#kernel.at(this.#deadline(this.#hosts.get(survivor)!), () => undefined);
  }

  #checkDuties(): void {
    if (this.#duties.length === 0) return;
    const now = this.#kernel.now;
    this.#duties = this.#duties.filter((duty) => {
      const survivor = this.#hosts.get(duty.survivor)!;
      if (survivor.live && survivor.node?.isActingPrimary() === true) {
        this.failoverTimes.push(now - duty.crashAt);
        return false;
      }
      if (now <= this.#deadline(survivor)) return true;
      const excused =
        this.#faults.dnsPathFaulty([duty.survivor], duty.crashAt - this.#scenario.network.requestTimeoutMs, now) ||
        this.#faults.nodeFaulty(duty.survivor, duty.crashAt, now);
      if (!excused) {
        const silence = now - (this.#watch.get(duty.survivor)!.lastProgressTrue ?? 0);
        this.#fail(
          'failoverHappens',
          `${duty.victim} crashed at ${duty.crashAt.toFixed(1)} ms as Primary; ${duty.survivor} still does not act as Primary ${silence.toFixed(1)} ms after its last heartbeat (bound ${(this.#deadline(survivor) - now + silence).toFixed(1)} ms), state ${survivor.node?.getNodeState().state ?? 'down'}`,
          duty.survivor,
        );
      }
      return false;
    });
  }

  /** Called when `host` starts a takeover because its Primary seemed absent. */
  #checkNoFalseFailover(host: SimHost, epochBefore: number): void {
    const now = this.#kernel.now;
    const other = this.#other(host.id);
    const otherWatch = this.#watch.get(other.id)!;
    // The fastest legal clock measures a failover period in the least true time. A node that began measuring
    // silence less than a period ago cannot have measured a whole one, whatever the paths did.
    const period = this.#timers.absenceMs / (1 + MAX_CLOCK_RATE_DRIFT);
    const start = Math.max(now - period, this.#watch.get(host.id)!.watchingSince ?? now);
    if (otherWatch.primarySince === null || otherWatch.primarySince > start || otherWatch.epoch < epochBefore) return;
    if (this.#faults.nodeFaulty(host.id, start, now)) return;
    const directHealthy = !this.#faults.directPathFaulty(host.id, other.id, start, now);
    const dnsHealthy = !this.#faults.dnsPathFaulty([host.id, other.id], start, now);
    if (!directHealthy && !dnsHealthy) return;
    this.#fail(
      'noFalseFailover',
      `${host.id} started a takeover for absence while ${other.id} had been Primary since ${otherWatch.primarySince.toFixed(1)} ms and the ${directHealthy ? 'direct' : 'DNS'} path was fault-free since ${start.toFixed(1)} ms (failover period ${this.#timers.absenceMs} ms)`,
      host.id,
    );
  }

  // ---- rule 2/4/5: DNS ----

  /** Called at the instant the DNS server applies an update. */
  onDnsApplied(applied: DnsApplied): void {
    const before = applied.before.txt === null ? null : parseHeartbeatRecord(applied.before.txt);
    const after = applied.after.txt === null ? null : parseHeartbeatRecord(applied.after.txt);
    if (after === null) return;
    const writer = applied.writer.node?.nodeId ?? applied.writer.id;
    const restarted = applied.incarnation > 1;
    const claimsOver = before !== null && after.holder === writer && before.holder !== writer && after.epoch <= before.epoch;
    const lowers = before !== null && after.epoch < before.epoch;
    if (restarted && after.holder === writer && (claimsOver || lowers)) {
      this.#fail(
        'restartSafety',
        `restarted ${writer} (incarnation ${applied.incarnation}) wrote "${applied.after.txt}" over "${applied.before.txt}"`,
        applied.writer.id,
      );
      return;
    }
    const holderAddress = [...this.#hosts.values()].find((host) => host.id === after.holder)?.address;
    const knownHolder = this.#holders.get(after.epoch);
    if (after.epoch < this.#maxEpoch) {
      this.#fail('dnsNamesNewestEpoch', `DNS went back to epoch ${after.epoch} after epoch ${this.#maxEpoch} ("${applied.after.txt}")`, applied.writer.id);
    } else if (knownHolder !== undefined && knownHolder !== after.holder) {
      this.#fail('dnsNamesNewestEpoch', `epoch ${after.epoch} was held by ${knownHolder} and is now claimed by ${after.holder}`, applied.writer.id);
    } else if (applied.after.address !== holderAddress) {
      this.#fail('dnsNamesNewestEpoch', `A record ${applied.after.address ?? '(none)'} does not name ${after.holder}, the holder of epoch ${after.epoch}`, applied.writer.id);
    }
    this.#maxEpoch = Math.max(this.#maxEpoch, after.epoch);
    if (knownHolder === undefined) this.#holders.set(after.epoch, after.holder);
  }

  // ---- rule 7 and the per-instant checks ----

  /** Runs after every happening, once its promises settled. */
  checkInstant(): void {
    const acting = [...this.#hosts.values()].filter((host) => host.live && host.node !== null && host.node.actor !== null && host.node.isActingPrimary());
    if (acting.length > 1) {
      this.#fail(
        'oneActingPrimary',
        `${acting.map((host) => `${host.id} (epoch ${host.node!.getNodeState().epoch}, lease ${host.node!.getNodeState().leaseRemainingMs?.toFixed(1)} ms left)`).join(' and ')} both act as Primary`,
      );
    }
    this.#checkDuties();
  }

  // ---- events tell the truth ----

  /** Checks one subscriber's NODE_ROLE_CHANGED events against the role the node reports at the end. */
  checkSubscriber(host: SimHost, label: string, events: readonly NodeRoleChanged[], finalRole: string): void {
    let previous: string | null = null;
    for (const [index, event] of events.entries()) {
      const problem =
        event.previous !== previous
          ? `event ${index + 1} says previous ${event.previous ?? 'null'}, but the one before said new ${previous ?? '(none)'}`
          : event.previous === event.new
            ? `event ${index + 1} repeats role ${event.new}`
            : null;
      if (problem !== null) {
        this.#fail('eventsTellTruth', `${host.id} subscriber ${label}: ${problem}`, host.id);
        return;
      }
      previous = event.new;
    }
    if (previous !== finalRole) {
      this.#fail('eventsTellTruth', `${host.id} subscriber ${label}: last event says ${previous ?? '(none)'}, getNodeState() says ${finalRole}`, host.id);
    }
  }
}
