import type { HeartbeatProgress } from '../../../machines/heartbeat.js';
import type { NodeSnapshot } from '../../../machines/nodeReplies.js';
import type { NodeEmitted } from '../../../machines/nodeMachine.js';
import type { GroupRecords, NodeTimers } from '../../../machines/nodeMachine.types.js';
import { NodeTag } from '../../../machines/nodeTags.js';
import { EventId, NodeRole } from '../../api/constants.js';
import type { NodeRoleChanged } from '../../api/events.js';
import { parseHeartbeatRecord } from '../../dns/heartbeatRecord.js';
import type { AvailabilityNode } from '../../node/createNode.js';
import { nodeRoleOf } from '../../node/stateView.js';
import type { NodeState } from '../../api/nodeState.js';
import { convergenceTiming, FASTEST_RATE, healthHandoverDeadline, PROPERTY_NAMES, SLOWEST_RATE, type ConvergenceTiming, type PropertyName, type Violation } from '../properties.js';
import { faultEnd, type Fault, type Scenario, type SimNodeId } from '../scenario.js';
import type { NodeContext } from '../../../machines/nodeMachine.types.js';
import type { FaultConditions } from './faultConditions.js';
import type { SimHost } from './simHost.js';
import type { DnsApplied } from './simDns.js';
import type { SimKernel } from './kernel.js';

/**
 * The phase of a node the monitor follows, from its tags: holding a lease (the primary state), watching (the
 * secondary state), handing over, taking over, or any other state.
 */
function phaseOf(snapshot: NodeSnapshot): string {
  if (snapshot.hasTag(NodeTag.holdsLease)) return NodeTag.holdsLease;
  // Stepped down and offering (a Primary probing its peer still holds its lease, above).
  if (snapshot.hasTag(NodeTag.handingOver)) return NodeTag.handingOver;
  if (snapshot.hasTag(NodeTag.watching)) return NodeTag.watching;
  if (snapshot.hasTag(NodeTag.takingOver)) return NodeTag.takingOver;
  return 'other';
}

/** What the monitor follows of one node. */
interface NodeWatch {
  top: string;
  /** True time since when the node has been in the primary state, running and unpaused; null otherwise. */
  primarySince: number | null;
  /** True time at which the node last entered the secondary state; null if it never did. */
  secondarySince: number | null;
  /** The node's progress mark (rule 1: when its seen (epoch, seq) last rose, on its own clock); null: not measuring. */
  lastProgressMono: number | null;
  /** True time at which the progress mark was last set; null while there is none. */
  lastProgressTrue: number | null;
  /** True time since when the node has been measuring the Primary's silence (its progress mark became non-null). */
  watchingSince: number | null;
  /**
   * The node's own monotonic clock when it last saw progress (its seen (epoch, seq) rose) or began measuring silence,
   * as the monitor observed it (noTakeoverBeforeDeadline); null before either.
   */
  progressSeenMono: number | null;
  epoch: number;
  /** The newest (epoch, seq) the node has seen, and the true time it last changed. */
  seen: HeartbeatProgress | null;
  seenChangedAt: number | null;
  /** Whether the node holds the group's maintenance flag on (rule 9), and the true time it last turned off. */
  paused: boolean;
  resumedAt: number | null;
}

/**
 * A crashed Primary some survivor must replace in time (property failoverHappens): the Secondaries that watched it
 * when it crashed, each until its own deadline passed (or it was excused).
 */
interface FailoverDuty {
  readonly victim: SimNodeId;
  /** The survivors whose deadline has not passed yet (one, the other node, in a group of two). */
  survivors: SimNodeId[];
  readonly crashAt: number;
}

/** A Primary whose application turned unhealthy: a healthy Secondary must take over in time (rule 10). */
interface HealthHandoverDuty {
  readonly primary: SimNodeId;
  readonly secondaries: readonly SimNodeId[];
  readonly faultAt: number;
  readonly deadline: number;
}

/** The `priority` a node has when the scenario sets none (the N-member core's default). */
const DEFAULT_PRIORITY = 100;

/** The NODE_ROLE_CHANGED events one node incarnation's two subscribers received. */
interface Announcements {
  readonly incarnation: number;
  readonly plain: NodeRoleChanged[];
  readonly throwing: NodeRoleChanged[];
}

/**
 * Where one node incarnation stands in its announcements (leaseLostOnlyInTenure): whether its last step was a
 * NODE_ROLE_CHANGED to primary with no step-down since, and the role it last announced.
 */
interface Tenure {
  readonly actor: unknown;
  readonly incarnation: number;
  inTenure: boolean;
  lastRole: string | null;
}

/** What the monitor needs besides the nodes. */
export interface MonitorOptions {
  readonly kernel: SimKernel;
  readonly hosts: ReadonlyMap<SimNodeId, SimHost>;
  readonly scenario: Scenario;
  readonly faults: FaultConditions;
  readonly timers: NodeTimers;
  /** The group's records on the DNS server now (for `convergence`). */
  readonly records: () => GroupRecords;
  /** Only these properties are checked (default: all). */
  readonly properties?: readonly PropertyName[] | undefined;
}

function unwatched(): NodeWatch {
  return { top: '', primarySince: null, secondarySince: null, lastProgressMono: null, lastProgressTrue: null, watchingSince: null, progressSeenMono: null, epoch: 0, seen: null, seenChangedAt: null, paused: false, resumedAt: null };
}

function progressText(seen: HeartbeatProgress | null): string {
  return seen === null ? '(none)' : `(${seen.epoch}, ${seen.seq})`;
}

/**
 * Checks the properties of docs/design.md section 4 as the simulation runs: at every instant (after each happening),
 * at every DNS update the server applies, at every transition into a takeover, and over each subscriber's events.
 * Each check is a direct reading of the property's text in properties.ts.
 */
export class PropertyMonitor {
  readonly violations: Violation[] = [];
  /** Crash-to-acting times of the failovers this run saw (ms of true time). */
  readonly failoverTimes: number[] = [];
  /** The properties whose premise arose in this run (the per-instant ones always do). */
  readonly exercised = new Set<PropertyName>();
  readonly #kernel: SimKernel;
  readonly #hosts: ReadonlyMap<SimNodeId, SimHost>;
  readonly #scenario: Scenario;
  readonly #faults: FaultConditions;
  readonly #timers: NodeTimers;
  readonly #records: () => GroupRecords;
  readonly #checks: ReadonlySet<PropertyName>;
  readonly #watch = new Map<SimNodeId, NodeWatch>();
  readonly #announcements = new Map<SimNodeId, Announcements>();
  readonly #tenures = new Map<SimNodeId, Tenure>();
  readonly #holders = new Map<number, string>();
  readonly #convergence: ConvergenceTiming;
  #maxEpoch = 0;
  #duties: FailoverDuty[] = [];
  /** Whether the last instant already reported two announced Primaries (one report per episode). */
  #twoAnnounced = false;
  #convergenceFailed = false;
  #healthDuties: HealthHandoverDuty[] = [];
  /** True time at which the last handover for application health began (rule 10). */
  #lastHealthHandoverAt: number | null = null;
  /** The live nodes at the instant being checked (one array, refilled at every instant). */
  readonly #live: SimHost[] = [];
  /** Each node's last getNodeState() and the snapshot it was computed from (see #stateOf). */
  readonly #states = new Map<SimNodeId, { node: AvailabilityNode; snapshot: unknown; state: NodeState }>();
  #holderTxt: string | null = null;
  readonly #parsedTxts: { txt: string; heartbeat: ReturnType<typeof parseHeartbeatRecord> }[] = [];
  #holder: string | null = null;

  constructor(options: MonitorOptions) {
    this.#kernel = options.kernel;
    this.#hosts = options.hosts;
    this.#scenario = options.scenario;
    this.#faults = options.faults;
    this.#timers = options.timers;
    this.#records = options.records;
    this.#checks = new Set(options.properties ?? PROPERTY_NAMES);
    this.#convergence = convergenceTiming(options.scenario, options.timers);
    for (const id of this.#hosts.keys()) this.#watch.set(id, unwatched());
  }

  /** Schedules the instants the monitor must look at even if nothing happens then. */
  start(): void {
    const timing = this.#convergence;
    if (this.#checks.has('convergence') && timing.checked) {
      this.#kernel.at(timing.checkedFromMs, () => undefined);
      this.#kernel.at(this.#scenario.durationMs, () => undefined);
    }
  }

  /** When and how this run checks `convergence`. */
  get convergence(): ConvergenceTiming {
    return this.#convergence;
  }

  #fail(property: PropertyName, message: string, node?: SimNodeId): void {
    const violation: Violation = { property, t: this.#kernel.now, message };
    this.violations.push(violation);
    this.#kernel.trace({ kind: 'violation', t: this.#kernel.now, property, message, ...(node === undefined ? {} : { node }) });
  }

  /** Every node but `id`, in id order. */
  #others(id: SimNodeId): SimHost[] {
    const others: SimHost[] = [];
    for (const [other, host] of this.#hosts) if (other !== id) others.push(host);
    return others;
  }

  /** Whether some live node other than `except` acts as Primary now. */
  #someoneElseActs(except: SimNodeId): boolean {
    for (const [id, host] of this.#hosts) if (id !== except && host.live && host.node?.isActingPrimary() === true) return true;
    return false;
  }

  /**
   * Rule 1 with takeover order: how much later than the failover period `host` may start a takeover for absence of
   * `absent` (ms on its own clock): rank × health_check_interval, its rank being how many other members, not
   * `absent`, come before it by (priority desc, node id asc). Zero in a group of two, or when it follows no other
   * node (then the rank is not defined).
   */
  #rankDelayMs(host: SimHost, absent: string | null): number {
    if (this.#hosts.size <= 2 || absent === null || absent === host.id || !this.#hosts.has(absent as SimNodeId)) return 0;
    const priorities = this.#scenario.priorities ?? {};
    const own = priorities[host.id] ?? DEFAULT_PRIORITY;
    let rank = 0;
    for (const id of this.#hosts.keys()) {
      if (id === host.id || id === absent) continue;
      const priority = priorities[id] ?? DEFAULT_PRIORITY;
      if (priority > own || (priority === own && id < host.id)) rank += 1;
    }
    return rank * this.#timers.checkIntervalMs;
  }

  /** The largest rank delay (ms on a node's clock): (members − 2) × health_check_interval; zero for two. */
  get #maxRankDelayMs(): number {
    return (this.#hosts.size - 2) * this.#timers.checkIntervalMs;
  }

  // ---- subscribers ----

  /**
   * Subscribes the two NODE_ROLE_CHANGED subscribers of a node incarnation the properties look at: a plain one, and
   * one that throws on every other event (which must not hold up the machine or lose its later events).
   */
  subscribe(host: SimHost, node: AvailabilityNode): void {
    const announcements: Announcements = { incarnation: host.incarnation, plain: [], throwing: [] };
    this.#announcements.set(host.id, announcements);
    node.subscribe(EventId.NODE_ROLE_CHANGED, (event) => void announcements.plain.push(event));
    node.subscribe(EventId.NODE_ROLE_CHANGED, (event) => {
      announcements.throwing.push(event);
      if (announcements.throwing.length % 2 === 0) throw new Error('a subscriber that throws');
    });
  }

  // ---- transitions ----

  /**
   * Follows the events `host`'s current machine emits, in the order its transitions emit them (one listener for
   * every kind, so NODE_ROLE_CHANGED and LEASE_LOST keep their order): leaseLostOnlyInTenure. Attached at the first
   * snapshot of each incarnation; what the start itself emits (never a role of primary) comes before it.
   */
  #followEmitted(host: SimHost): void {
    const actor = host.node?.actor ?? null;
    if (actor === null || this.#tenures.get(host.id)?.actor === actor) return;
    const tenure: Tenure = { actor, incarnation: host.incarnation, inTenure: false, lastRole: null };
    this.#tenures.set(host.id, tenure);
    actor.on('*', (emitted) => this.#onEmitted(host, tenure, emitted as NodeEmitted));
  }

  #onEmitted(host: SimHost, tenure: Tenure, emitted: NodeEmitted): void {
    if (tenure.incarnation !== host.incarnation || host.status === 'crashed') return;
    if (emitted.type === EventId.NODE_ROLE_CHANGED) {
      if (emitted.new === NodeRole.PRIMARY) tenure.inTenure = true;
      else if (emitted.previous === NodeRole.PRIMARY) tenure.inTenure = false;
      tenure.lastRole = emitted.new;
      return;
    }
    if (emitted.type !== EventId.LEASE_LOST || !this.#checks.has('leaseLostOnlyInTenure')) return;
    this.exercised.add('leaseLostOnlyInTenure');
    if (!tenure.inTenure) {
      const told = tenure.lastRole === null ? 'no role change since it started' : `its last NODE_ROLE_CHANGED said ${tenure.lastRole}`;
      this.#fail('leaseLostOnlyInTenure', `${host.id} emitted LEASE_LOST (${emitted.reason}, epoch ${emitted.epoch}) outside a tenure: ${told}, and no NODE_ROLE_CHANGED to primary since its last step-down`, host.id);
    }
    tenure.inTenure = false;
  }

  /** Called with every snapshot of a node's root actor. */
  onSnapshot(host: SimHost, snapshot: NodeSnapshot): void {
    this.#followEmitted(host);
    const watch = this.#watch.get(host.id)!;
    const { context } = snapshot;
    const top = phaseOf(snapshot);
    const now = this.#kernel.now;
    if (top === NodeTag.holdsLease && watch.top !== NodeTag.holdsLease) watch.primarySince = host.live ? now : null;
    if (top !== NodeTag.holdsLease) watch.primarySince = null;
    if (top === NodeTag.watching && watch.top !== NodeTag.watching) watch.secondarySince = now;
    if (context.progress.lastProgressAt !== watch.lastProgressMono) {
      if (context.progress.lastProgressAt === null) {
        // The node stopped measuring silence (it stepped down, or it left the group).
        watch.watchingSince = null;
        watch.lastProgressTrue = null;
      } else {
        if (watch.lastProgressMono === null) watch.watchingSince = now;
        watch.lastProgressTrue = now;
        watch.progressSeenMono = host.monotonicNow();
      }
      watch.lastProgressMono = context.progress.lastProgressAt;
      this.#armDutyCheck(host.id);
    }
    if (context.progress.seen?.epoch !== watch.seen?.epoch || context.progress.seen?.seq !== watch.seen?.seq) {
      watch.seen = context.progress.seen;
      watch.seenChangedAt = now;
      watch.progressSeenMono = host.monotonicNow();
    }
    if (top === NodeTag.watching && watch.top !== NodeTag.watching) this.#armDutyCheck(host.id);
    if (top === NodeTag.takingOver && watch.top !== NodeTag.takingOver && context.takeover.takeoverMode === 'absence') {
      this.#checkNoTakeoverBeforeDeadline(host, watch, context.holder);
      this.#checkNoFalseFailover(host, context.epoch);
      this.#checkNoTakeoverWhilePaused(host, context.maintenance.enabled);
    }
    if (watch.paused && !context.maintenance.enabled) {
      watch.resumedAt = now;
      this.#armDutyCheck(host.id);
    }
    watch.paused = context.maintenance.enabled;
    // Rule 10: every takeover needs a healthy application; handovers for health come a failover period apart.
    if (top === NodeTag.takingOver && watch.top !== NodeTag.takingOver) this.#checkTakeoverHealth(host, context);
    if (top === NodeTag.handingOver && watch.top !== NodeTag.handingOver && context.reason === 'application unhealthy') this.#noteHealthHandover(host);
    watch.top = top;
    watch.epoch = context.epoch;
  }

  onPause(host: SimHost): void {
    this.#watch.get(host.id)!.primarySince = null;
  }

  /** Called once a resumed node has run its overdue timers. */
  onResume(host: SimHost): void {
    const watch = this.#watch.get(host.id)!;
    if (watch.top === NodeTag.holdsLease) watch.primarySince = this.#kernel.now;
  }

  /** A node crashed: if it was Primary and other nodes watch, one of them must take over in time. */
  onCrash(host: SimHost): void {
    this.checkEvents(host);
    const watch = this.#watch.get(host.id)!;
    const survivors = this.#others(host.id).filter((other) => other.live && this.#watch.get(other.id)!.top === NodeTag.watching);
    if (watch.top === NodeTag.holdsLease && survivors.length > 0) {
      this.#duties.push({ victim: host.id, survivors: survivors.map((survivor) => survivor.id), crashAt: this.#kernel.now });
      if (this.#checks.has('failoverHappens')) this.exercised.add('failoverHappens');
      for (const survivor of survivors) this.#armDutyCheck(survivor.id);
    }
    // A dead process knows nothing: its next incarnation starts from scratch.
    this.#watch.set(host.id, unwatched());
    this.#announcements.delete(host.id);
  }

  /** A restarted victim may legitimately reclaim its role: the duty no longer applies. */
  onRestart(host: SimHost): void {
    this.#duties = this.#duties.filter((duty) => duty.victim !== host.id);
  }

  /** An operator asked `node` (or every node) for a failover: its takeover timing is no longer the absence path's. */
  onOperatorAction(node: SimNodeId | 'both'): void {
    this.#duties = this.#duties.filter((duty) => node !== 'both' && !duty.survivors.includes(node));
  }

  // ---- rule 1: failover happens / no false failover ----

  /**
   * The latest instant by which `survivor` must act as Primary. Measured from its last progress (a heartbeat, or
   * the first standby read after it became Secondary, which starts its measure of silence); a Secondary that has
   * not begun measuring yet (it stepped down from Primary and saw no heartbeat since) begins at its first standby
   * read, one standby check and one DNS round trip after it became Secondary. Its absence deadline falls a failover
   * period later on its clock, and in a group of N > 2 up to (N − 2) standby checks later still (its rank in the
   * takeover order); then a standby read under way may still be answered (it was sent before the deadline: one
   * round trip), the confirming read (one) and the compare-and-swap (one), and 1 ms.
   */
  #deadline(survivor: SimHost): number {
    const watch = this.#watch.get(survivor.id)!;
    const { absenceMs, checkIntervalMs } = this.#timers;
    const roundTrip = 2 * this.#scenario.network.dnsDelayMs[1];
    const measuringFrom = watch.lastProgressTrue ?? (watch.secondarySince ?? 0) + checkIntervalMs / survivor.rate + roundTrip;
    const deadline = measuringFrom + (absenceMs + this.#maxRankDelayMs) / survivor.rate + 3 * roundTrip + 1;
    // Rule 9: a resumed Secondary checks at once (or finishes the check in flight), then takes over: two round trips.
    return watch.resumedAt === null ? deadline : Math.max(deadline, watch.resumedAt + 2 * roundTrip + 1);
  }

  #armDutyCheck(survivor: SimNodeId): void {
    if (!this.#duties.some((duty) => duty.survivors.includes(survivor))) return;
    // An empty happening at the deadline makes the monitor look at that instant even if nothing else happens.
    this.#kernel.at(this.#deadline(this.#hosts.get(survivor)!), () => undefined);
  }

  #checkDuties(): void {
    if (this.#duties.length === 0) return;
    const now = this.#kernel.now;
    this.#duties = this.#duties.filter((duty) => {
      if (this.#someoneElseActs(duty.victim)) {
        this.failoverTimes.push(now - duty.crashAt);
        return false;
      }
      let failed = false;
      duty.survivors = duty.survivors.filter((id) => {
        if (failed) return false;
        const survivor = this.#hosts.get(id)!;
        const deadline = this.#deadline(survivor);
        if (now <= deadline) return true;
        // Rule 9: a paused survivor must not take over; its deadline counts from when it is resumed.
        if (survivor.live && this.#watch.get(id)!.paused) return true;
        // Rule 10: a survivor whose application was unhealthy (or just recovered: one check later) may not take over.
        const healthCheckMs = (this.#scenario.applicationHealth?.intervalMs ?? 0) / SLOWEST_RATE;
        const excused =
          this.#faults.dnsPathFaulty([id], duty.crashAt - this.#scenario.network.requestTimeoutMs, now) ||
          this.#faults.nodeFaulty(id, duty.crashAt, now) ||
          this.#faults.anyDuring(duty.crashAt - 2 * healthCheckMs, now, (fault) => fault.kind === 'appUnhealthy' && fault.node === id);
        if (!excused) {
          const watch = this.#watch.get(id)!;
          const since =
            watch.lastProgressTrue === null
              ? `since it became Secondary at ${(watch.secondarySince ?? 0).toFixed(1)} ms (it had not begun measuring silence)`
              : `after its last progress at ${watch.lastProgressTrue.toFixed(1)} ms`;
          const noneElse = this.#hosts.size > 2 ? ', and no other node does' : '';
          this.#fail(
            'failoverHappens',
            `${duty.victim} crashed at ${duty.crashAt.toFixed(1)} ms as Primary; ${id} still does not act as Primary ${since} (deadline ${deadline.toFixed(1)} ms), state ${survivor.node?.getNodeState().state ?? 'down'}${noneElse}`,
            id,
          );
          failed = true;
        }
        return false;
      });
      return !failed && duty.survivors.length > 0;
    });
  }

  /**
   * Rule 1: a takeover for absence starts no earlier than the taker's deadline: the last progress it saw (or the
   * start of its measure of silence) + allowed_absence_interval, on its own monotonic clock; in a group of more
   * than two, + its rank in the takeover order × health_check_interval (`#rankDelayMs`, the absent Primary being
   * the holder it followed).
   */
  #checkNoTakeoverBeforeDeadline(host: SimHost, watch: NodeWatch, absent: string | null): void {
    if (!this.#checks.has('noTakeoverBeforeDeadline')) return;
    this.exercised.add('noTakeoverBeforeDeadline');
    const { absenceMs } = this.#timers;
    const rankDelayMs = this.#rankDelayMs(host, absent);
    const silence = watch.progressSeenMono === null ? null : host.monotonicNow() - watch.progressSeenMono;
    // A thousandth of a millisecond absorbs floating-point rounding of the clocks' rates, nothing more.
    if (silence !== null && silence >= absenceMs + rankDelayMs - 1e-3) return;
    const rank = rankDelayMs === 0 ? '' : ` + rank ${rankDelayMs / this.#timers.checkIntervalMs} × standby check ${this.#timers.checkIntervalMs} ms, ${absent} being absent`;
    this.#fail(
      'noTakeoverBeforeDeadline',
      `${host.id} started a takeover for absence ${silence === null ? 'without having seen progress or begun measuring silence' : `after ${silence.toFixed(1)} ms of silence on its clock`}, before its deadline (allowed absence ${absenceMs} ms${rank})`,
      host.id,
    );
  }

  /** Rule 9: a node that holds the maintenance flag on never starts a takeover for absence. */
  #checkNoTakeoverWhilePaused(host: SimHost, paused: boolean): void {
    if (!this.#checks.has('noTakeoverWhilePaused')) return;
    this.exercised.add('noTakeoverWhilePaused');
    if (!paused) return;
    const resumed = this.#watch.get(host.id)!.resumedAt;
    this.#fail(
      'noTakeoverWhilePaused',
      `${host.id} started a takeover for absence while it held the group's maintenance flag on (last resumed ${resumed === null ? 'never' : `at ${resumed.toFixed(1)} ms`})`,
      host.id,
    );
  }

  /**
   * Called when `host` starts a takeover because its Primary seemed absent. A path is healthy when it delivered
   * within its bound during the whole window: the direct path when every heartbeat from the Primary reached the
   * Secondary within the request timeout (the acknowledgements back do not matter for the Secondary's view); DNS
   * when both nodes' requests and answers made the round trip within the request timeout.
   */
  #checkNoFalseFailover(host: SimHost, epochBefore: number): void {
    if (!this.#checks.has('noFalseFailover')) return;
    this.exercised.add('noFalseFailover');
    const now = this.#kernel.now;
    // The fastest legal clock measures a failover period in the least true time. A node that began measuring
    // silence less than a period ago cannot have measured a whole one, whatever the paths did.
    const period = this.#timers.absenceMs / FASTEST_RATE;
    const start = Math.max(now - period, this.#watch.get(host.id)!.watchingSince ?? now);
    // The nodes that were Primary (running, unpaused) all that time, at the taker's epoch or later: one at most,
    // save a stale Primary whose lease ran out while paused.
    const primaries = this.#others(host.id).filter((other) => {
      const otherWatch = this.#watch.get(other.id)!;
      return otherWatch.primarySince !== null && otherWatch.primarySince <= start && otherWatch.epoch >= epochBefore;
    });
    if (primaries.length === 0) return;
    if (this.#faults.nodeFaulty(host.id, start, now)) return;
    const { peerDelayMs, dnsDelayMs, requestTimeoutMs } = this.#scenario.network;
    // The node gives up on a request after its timeout on its own clock: at least this much true time.
    const timeout = requestTimeoutMs / FASTEST_RATE;
    for (const other of primaries) {
      const directHealthy = this.#faults.linkDelivers(other.id, host.id, start, now, peerDelayMs[1], timeout);
      const dnsHealthy = this.#faults.dnsDelivers([host.id, other.id], start, now, dnsDelayMs[1], timeout);
      if (!directHealthy && !dnsHealthy) continue;
      this.#fail(
        'noFalseFailover',
        `${host.id} started a takeover for absence while ${other.id} had been Primary since ${this.#watch.get(other.id)!.primarySince!.toFixed(1)} ms and the ${directHealthy ? `direct path ${other.id}->${host.id}` : 'DNS path'} delivered within its bound since ${start.toFixed(1)} ms (failover period ${this.#timers.absenceMs} ms)`,
        host.id,
      );
      return;
    }
  }

  // ---- rule 10: application health ----

  /** A node starts a takeover: its own application verdict must be healthy (or unchecked). */
  #checkTakeoverHealth(host: SimHost, context: NodeContext): void {
    if (!this.#checks.has('unhealthyNeverTakesOver') || context.health.applicationHealth === null) return;
    this.exercised.add('unhealthyNeverTakesOver');
    if (context.health.applicationHealth === 'healthy') return;
    this.#fail(
      'unhealthyNeverTakesOver',
      `${host.id} started a takeover (${context.takeover.takeoverMode ?? 'unknown mode'}) while its application is ${context.health.applicationHealth}${this.#faults.applicationUnhealthy(host.id, this.#kernel.now) ? ' (its application fault is active)' : ''}`,
      host.id,
    );
  }

  /** A handover for application health begins: at least a failover period (fastest clock) after the one before. */
  #noteHealthHandover(host: SimHost): void {
    const now = this.#kernel.now;
    const last = this.#lastHealthHandoverAt;
    this.#lastHealthHandoverAt = now;
    if (!this.#checks.has('oneHealthHandoverPerPeriod')) return;
    this.exercised.add('oneHealthHandoverPerPeriod');
    const gap = this.#timers.absenceMs / FASTEST_RATE;
    if (last === null || now - last >= gap) return;
    this.#fail('oneHealthHandoverPerPeriod', `${host.id} began a handover for application health at ${now.toFixed(1)} ms, ${(now - last).toFixed(1)} ms after the one before (at least ${gap.toFixed(1)} ms apart)`, host.id);
  }

  /**
   * An application fault begins. If it hits the Primary while every Secondary is live, healthy and watching, and
   * the run has no other fault and no operator action from two check intervals before the Primary's tenure began to
   * the deadline (and the fault lasts past it), a Secondary must act as Primary by `healthHandoverDeadline`.
   */
  onApplicationFault(fault: Extract<Fault, { kind: 'appUnhealthy' }>): void {
    if (!this.#checks.has('healthHandoverHappens') || this.#scenario.applicationHealth === undefined) return;
    const primary = this.#hosts.get(fault.node)!;
    const secondaries = this.#others(fault.node);
    const primaryWatch = this.#watch.get(primary.id)!;
    if (!primary.live || primaryWatch.primarySince === null) return;
    if (secondaries.some((secondary) => !secondary.live || this.#watch.get(secondary.id)!.top !== NodeTag.watching)) return;
    // Rule 9: a paused group makes no automatic change of Primary, for health either.
    if (primaryWatch.paused) return;
    const now = this.#kernel.now;
    const deadline = healthHandoverDeadline(this.#scenario, this.#timers, now, primaryWatch.primarySince);
    const quietFrom = primaryWatch.primarySince - (2 * this.#scenario.applicationHealth.intervalMs) / SLOWEST_RATE;
    if (faultEnd(fault) <= deadline) return;
    if (this.#faults.anyDuring(quietFrom, deadline, (other) => other !== fault)) return;
    if (this.#scenario.workload.some((op) => op.at >= quietFrom && op.at <= deadline)) return;
    this.#healthDuties.push({ primary: primary.id, secondaries: secondaries.map((secondary) => secondary.id), faultAt: now, deadline });
    this.#kernel.at(deadline, () => undefined);
  }

  #checkHealthDuties(): void {
    if (this.#healthDuties.length === 0) return;
    const now = this.#kernel.now;
    this.#healthDuties = this.#healthDuties.filter((duty) => {
      if (this.#someoneElseActs(duty.primary)) {
        this.exercised.add('healthHandoverHappens');
        return false;
      }
      if (now <= duty.deadline) return true;
      const states = duty.secondaries.map((id) => `${id} in ${this.#hosts.get(id)!.node?.getNodeState().state ?? 'down'}`).join(', ');
      const who = duty.secondaries.length === 1 ? `${duty.secondaries[0]} still does not act` : 'no Secondary acts';
      this.#fail(
        'healthHandoverHappens',
        duty.secondaries.length === 1
          ? `${duty.primary}'s application turned unhealthy at ${duty.faultAt.toFixed(1)} ms; ${who} as Primary at its deadline ${duty.deadline.toFixed(1)} ms (state ${this.#hosts.get(duty.secondaries[0]!)!.node?.getNodeState().state ?? 'down'}, ${duty.primary} in ${this.#hosts.get(duty.primary)!.node?.getNodeState().state ?? 'down'})`
          : `${duty.primary}'s application turned unhealthy at ${duty.faultAt.toFixed(1)} ms; ${who} as Primary at the deadline ${duty.deadline.toFixed(1)} ms (${states}, ${duty.primary} in ${this.#hosts.get(duty.primary)!.node?.getNodeState().state ?? 'down'})`,
        duty.secondaries.length === 1 ? duty.secondaries[0] : undefined,
      );
      return false;
    });
  }

  // ---- rule 2/4/5: DNS ----

  /** A TXT value parsed; the last two are remembered (an update's `before` is the previous update's `after`). */
  #parsed(txt: string | null): ReturnType<typeof parseHeartbeatRecord> {
    if (txt === null) return null;
    const hit = this.#parsedTxts.find((entry) => entry.txt === txt);
    if (hit !== undefined) return hit.heartbeat;
    const heartbeat = parseHeartbeatRecord(txt);
    this.#parsedTxts.unshift({ txt, heartbeat });
    this.#parsedTxts.length = Math.min(this.#parsedTxts.length, 2);
    return heartbeat;
  }

  /** Called at the instant the DNS server applies an update. */
  onDnsApplied(applied: DnsApplied): void {
    const before = this.#parsed(applied.before.txt);
    const after = this.#parsed(applied.after.txt);
    if (after === null) return;
    const writer = applied.writer.node?.nodeId ?? applied.writer.id;
    const restarted = applied.incarnation > 1;
    const claimsOver = before !== null && after.holder === writer && before.holder !== writer && after.epoch <= before.epoch;
    const lowers = before !== null && after.epoch < before.epoch;
    if (restarted && this.#checks.has('restartSafety')) {
      this.exercised.add('restartSafety');
      if (after.holder === writer && (claimsOver || lowers)) {
        this.#fail('restartSafety', `restarted ${writer} (incarnation ${applied.incarnation}) wrote "${applied.after.txt}" over "${applied.before.txt}"`, applied.writer.id);
        return;
      }
    }
    if (this.#checks.has('dnsNamesNewestEpoch')) {
      this.exercised.add('dnsNamesNewestEpoch');
      const holderAddress = [...this.#hosts.values()].find((host) => host.id === after.holder)?.address;
      const knownHolder = this.#holders.get(after.epoch);
      if (after.epoch < this.#maxEpoch) {
        this.#fail('dnsNamesNewestEpoch', `DNS went back to epoch ${after.epoch} after epoch ${this.#maxEpoch} ("${applied.after.txt}")`, applied.writer.id);
      } else if (knownHolder !== undefined && knownHolder !== after.holder) {
        this.#fail('dnsNamesNewestEpoch', `epoch ${after.epoch} was held by ${knownHolder} and is now claimed by ${after.holder}`, applied.writer.id);
      } else if (applied.after.address !== holderAddress) {
        this.#fail('dnsNamesNewestEpoch', `A record ${applied.after.address ?? '(none)'} does not name ${after.holder}, the holder of epoch ${after.epoch}`, applied.writer.id);
      }
    }
    this.#maxEpoch = Math.max(this.#maxEpoch, after.epoch);
    if (!this.#holders.has(after.epoch)) this.#holders.set(after.epoch, after.holder);
  }

  // ---- rule 7 and the per-instant checks ----

  /** Runs after every happening, once its promises settled. */
  checkInstant(): void {
    const live = this.#live;
    live.length = 0;
    for (const host of this.#hosts.values()) if (host.live && host.node !== null && host.node.actor !== null) live.push(host);
    if (this.#checks.has('oneActingPrimary')) {
      this.exercised.add('oneActingPrimary');
      const acting = live.filter((host) => host.node!.isActingPrimary());
      if (acting.length > 1) {
        this.#fail(
          'oneActingPrimary',
          `${acting.map((host) => `${host.id} (epoch ${host.node!.getNodeState().epoch}, lease ${host.node!.getNodeState().leaseRemainingMs?.toFixed(1)} ms left)`).join(' and ')} ${acting.length === 2 ? 'both' : 'all'} act as Primary`,
        );
      }
    }
    if (this.#checks.has('oneAnnouncedPrimary')) this.#checkAnnouncements(live);
    if (this.#checks.has('failoverHappens')) this.#checkDuties();
    if (this.#checks.has('healthHandoverHappens')) this.#checkHealthDuties();
    if (this.#checks.has('convergence')) this.#checkConvergence(live);
  }

  /**
   * `getNodeState()` of a running node, computed again only when its machine snapshot (or the node) changed since the
   * last call. Only the fields that are a function of the snapshot alone may be read from it (role, state, epoch,
   * maintenance), never the lease fields, which depend on the instant: the checks run at every instant and most
   * instants change no snapshot.
   */
  #stateOf(host: SimHost): NodeState {
    const node = host.node!;
    const snapshot = node.actor!.getSnapshot();
    const cached = this.#states.get(host.id);
    if (cached !== undefined && cached.node === node && cached.snapshot === snapshot) return cached.state;
    const state = node.getNodeState();
    this.#states.set(host.id, { node, snapshot, state });
    return state;
  }

  /**
   * The role `host`'s getNodeState() reports now, computed as getNodeState() computes it (nodeRoleOf), without the
   * rest of the state view: checked at every instant, it is the simulator's hottest question.
   */
  #roleOf(host: SimHost): NodeRole {
    return nodeRoleOf(host.node!.actor!.getSnapshot());
  }

  /** Whether `host` announces primary now: by its state, or by the last NODE_ROLE_CHANGED a subscriber received. */
  #announcesAnyPrimary(host: SimHost): boolean {
    if (this.#roleOf(host) === NodeRole.PRIMARY) return true;
    const announcements = this.#announcements.get(host.id);
    if (announcements === undefined || announcements.incarnation !== host.incarnation) return false;
    return announcements.plain.at(-1)?.new === NodeRole.PRIMARY || announcements.throwing.at(-1)?.new === NodeRole.PRIMARY;
  }

  /** Where `host` announces primary now: its state, and each subscriber whose last NODE_ROLE_CHANGED said so. */
  #announcesPrimary(host: SimHost): string[] {
    const sources: string[] = [];
    if (this.#stateOf(host).nodeRole === NodeRole.PRIMARY) sources.push('getNodeState()');
    const announcements = this.#announcements.get(host.id);
    if (announcements !== undefined && announcements.incarnation === host.incarnation) {
      if (announcements.plain.at(-1)?.new === NodeRole.PRIMARY) sources.push('plain subscriber');
      if (announcements.throwing.at(-1)?.new === NodeRole.PRIMARY) sources.push('throwing subscriber');
    }
    return sources;
  }

  #checkAnnouncements(live: readonly SimHost[]): void {
    this.exercised.add('oneAnnouncedPrimary');
    let count = 0;
    for (const host of live) if (this.#announcesAnyPrimary(host)) count += 1;
    if (count < 2) {
      this.#twoAnnounced = false;
      return;
    }
    const announcing = live.map((host) => ({ host, sources: this.#announcesPrimary(host) })).filter(({ sources }) => sources.length > 0);
    if (announcing.length < 2) {
      this.#twoAnnounced = false;
      return;
    }
    if (this.#twoAnnounced) return;
    this.#twoAnnounced = true;
    this.#fail(
      'oneAnnouncedPrimary',
      `${announcing
        .map(({ host, sources }) => {
          const state = host.node!.getNodeState();
          return `${host.id} (${sources.join(', ')}; state ${state.state}, epoch ${state.epoch}, ${state.actingPrimary ? 'acting' : 'not acting'})`;
        })
        .join(' and ')} ${announcing.length === 2 ? 'both' : 'all'} announce primary`,
    );
  }

  /** The holder the TXT value names (parsed again only when the value changed). */
  #holderOf(txt: string | null): string | null {
    if (txt !== this.#holderTxt) {
      this.#holderTxt = txt;
      this.#holder = txt === null ? null : (parseHeartbeatRecord(txt)?.holder ?? null);
    }
    return this.#holder;
  }

  #checkConvergence(live: readonly SimHost[]): void {
    const timing = this.#convergence;
    const now = this.#kernel.now;
    if (!timing.checked || now < timing.checkedFromMs || this.#convergenceFailed) return;
    this.exercised.add('convergence');
    const problem = this.#convergenceProblem(live, timing, now);
    if (problem === null) return;
    this.#convergenceFailed = true;
    this.#fail(
      'convergence',
      `${(now - timing.quietFromMs).toFixed(1)} ms after the run fell quiet at ${timing.quietFromMs.toFixed(1)} ms (bound ${timing.boundMs.toFixed(1)} ms): ${problem}`,
    );
  }

  #convergenceProblem(live: readonly SimHost[], timing: ConvergenceTiming, now: number): string | null {
    let primary: SimHost | null = null;
    let actingCount = 0;
    for (const host of live) {
      if (!host.node!.isActingPrimary()) continue;
      primary = host;
      actingCount += 1;
    }
    if (actingCount === 1 && primary !== null) return this.#convergedProblem(live, primary, timing, now);
    const describe = (host: SimHost) => `${host.id} in ${this.#stateOf(host).state}`;
    const acting = live.filter((host) => host.node!.isActingPrimary());
    // Rule 9: a paused group whose Primary is gone stays without one: that is what pausing asks for.
    if (acting.length === 0 && live.some((host) => this.#stateOf(host).maintenance)) return null;
    if (acting.length === 0) return `no live node acts as Primary (${live.map(describe).join(', ') || 'none is up'})`;
    return `${acting.map(describe).join(' and ')} all act as Primary`;
  }

  /** The rest of `convergence` once exactly one live node, `primary`, acts as Primary: DNS names it, the other follows. */
  #convergedProblem(live: readonly SimHost[], primary: SimHost, timing: ConvergenceTiming, now: number): string | null {
    const primaryEpoch = primary.node!.actor!.getSnapshot().context.epoch;
    const records = this.#records();
    const holder = this.#holderOf(records.txt);
    if (records.address !== primary.address || holder !== primary.id) {
      return `${primary.id} acts as Primary but DNS holds A=${records.address ?? '(none)'} TXT="${records.txt ?? ''}"`;
    }
    for (const other of live) {
      if (other === primary) continue;
      const role = this.#roleOf(other);
      if (role !== NodeRole.SECONDARY) return `${other.id} has role ${role} (state ${this.#stateOf(other).state}), not secondary`;
      const watch = this.#watch.get(other.id)!;
      if (watch.seen === null || watch.seen.epoch !== primaryEpoch) {
        return `${other.id} (state ${this.#stateOf(other).state}) has seen ${progressText(watch.seen)}, no heartbeat of ${primary.id}'s epoch ${primaryEpoch}`;
      }
      if (watch.seenChangedAt === null || now - watch.seenChangedAt > timing.progressWindowMs) {
        return `${other.id} (state ${this.#stateOf(other).state}) has seen ${progressText(watch.seen)} since ${watch.seenChangedAt?.toFixed(1) ?? '?'} ms: no rise within the progress window of ${timing.progressWindowMs.toFixed(1)} ms`;
      }
    }
    return null;
  }

  // ---- events tell the truth ----

  /** The property eventsTellTruth for `host`'s current incarnation: at each crash and at the end of the run. */
  checkEvents(host: SimHost): void {
    const node = host.node;
    const announcements = this.#announcements.get(host.id);
    if (!this.#checks.has('eventsTellTruth') || node === null || node.actor === null || announcements === undefined) return;
    this.exercised.add('eventsTellTruth');
    const role = node.getNodeState().nodeRole;
    this.#checkSubscriber(host, 'plain', announcements.plain, role);
    this.#checkSubscriber(host, 'throwing', announcements.throwing, role);
  }

  /** Checks one subscriber's NODE_ROLE_CHANGED events against the role the node reports at the end. */
  #checkSubscriber(host: SimHost, label: string, events: readonly NodeRoleChanged[], finalRole: string): void {
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
