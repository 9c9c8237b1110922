/**
 * The deterministic simulator: two to seven real nodes (`createNode` running the real statechart through the real
 * I/O actors) on simulated clocks, a simulated network and a simulated authority (DNS, or etcd for more than two
 * members), driven by one seeded event queue.
 */
import type { InspectionEvent } from 'xstate';
import type { HeartbeatProgress } from '../../machines/heartbeat.js';
import type { NodeSnapshot } from '../../machines/nodeReplies.js';
import { leaseIsValidAt } from '../../machines/nodeRules.js';
import { NodeTag } from '../../machines/nodeTags.js';
import { EVENT_IDS, NodeRole } from '../api/constants.js';
import type { NodeEvent } from '../api/events.js';
import { createNode, type AvailabilityNode } from '../node/createNode.js';
import { transitionOf } from '../node/transitionLog.js';
import { silentLogger } from '../api/logger.js';
import { isGroupSettingField, loadSettings, type SettingsInput } from '../node/settings.js';
import type { BrokenVariant } from './brokenVariants.js';
import type { Scheduled } from './internal/eventQueue.js';
import { FaultConditions } from './internal/faultConditions.js';
import { SimKernel } from './internal/kernel.js';
import { PropertyMonitor } from './internal/monitor.js';
import { SimDns, type DnsReadMemory } from './internal/simDns.js';
import { SimHost } from './internal/simHost.js';
import { SimPeerNetwork } from './internal/simPeerNetwork.js';
import type { ConvergenceTiming, PropertyName, Violation } from './properties.js';
import { checkScenario, scenarioNodeIds, type Fault, type Scenario, type SimNodeId, type WorkloadOp } from './scenario.js';
import { formatTimeline } from './timeline.js';
import { TRACE_FORMAT, TRACE_VERSION, type TraceDocument, type TransitionEntry } from './trace.js';

/** The group's name in every simulation. */
export const SIM_GROUP_FQDN = 'app.sim.test';
/** Each node's address (only ever a string in the A record: the simulator sends no packets): a 127.0.0.2, b .3, ... */
export const SIM_ADDRESSES: Readonly<Record<SimNodeId, string>> = {
  a: '127.0.0.2',
  b: '127.0.0.3',
  c: '127.0.0.4',
  d: '127.0.0.5',
  e: '127.0.0.6',
  f: '127.0.0.7',
  g: '127.0.0.8',
};
const SIM_PORT = 8080;
/**
 * The etcd endpoints of a group of more than two members: never dialled, since the simulated authority is the node's
 * authority port (`createNode`'s `ports.dns`), so no etcd client is built.
 */
export const SIM_ETCD_ENDPOINTS: readonly string[] = ['127.0.0.1:2379'];
/** A TSIG secret in the group settings, so tests can check that it never reaches a trace. */
export const SIM_TSIG_SECRET = 'c2ltdWxhdGVkLXRzaWctc2VjcmV0LWRvLW5vdC1sb2c=';

/** How to run a scenario. */
export interface SimulationOptions {
  /** Run a deliberately broken variant instead of the real node (brokenVariants.ts). */
  readonly variant?: BrokenVariant | null;
  /** Stop at the first violation (default true). */
  readonly stopOnViolation?: boolean;
  /** Record every transition, message and DNS operation (default true); false keeps faults, workload, violations. */
  readonly trace?: boolean;
  /**
   * Check only these properties (default: all). The others are not looked at, so a run goes on past what would
   * have violated them: a broken variant's search counts only the property its broken rule protects.
   */
  readonly properties?: readonly PropertyName[];
}

/** What a run produced. */
export interface SimulationResult {
  readonly scenario: Scenario;
  readonly violations: readonly Violation[];
  readonly trace: TraceDocument;
  /** Happenings processed. */
  readonly events: number;
  /** Simulated time reached (ms). */
  readonly simulatedMs: number;
  /** Crash-to-acting times of the failovers seen (ms). */
  readonly failoverTimes: readonly number[];
  /**
   * The properties whose premise arose in this run, so that a check of them was not vacuous: the per-instant ones
   * always; `failoverHappens` when a Primary crashed while the other node watched; `noFalseFailover` when a node
   * started a takeover for absence; `convergence` when the run reached its checked tail; `restartSafety` when a
   * restarted node wrote to DNS; `dnsNamesNewestEpoch` when an update was applied; `eventsTellTruth` when a
   * node's subscribers were checked.
   */
  readonly exercised: readonly PropertyName[];
  /** When this run checks `convergence` (properties.ts, convergenceTiming). */
  readonly convergence: ConvergenceTiming;
  /** The trace as a readable timeline. */
  timeline(options?: { quiet?: boolean; from?: number; to?: number }): string;
}

/**
 * What the trace last showed of a node beyond its transitions: its acting flag, the lease end (its monotonic
 * clock) that `ranOut`, a happening at that instant, notes the end of, and its seen (epoch, seq). The happening
 * (only with the full trace) changes nothing in the nodes; the properties get one more instant to look at.
 */
interface NodeTrace {
  acting: boolean;
  expiresAt: number | null;
  ranOut: Scheduled | null;
  seen: HeartbeatProgress | null;
}

/** Happenings between two turns of the real event loop (see `settle`). */
const HAPPENINGS_PER_YIELD = 64;
let happeningsSinceYield = 0;

/**
 * Lets every promise the last happening settled run, so the next happening sees their effects. A `process.nextTick`
 * callback runs only once the microtask queue is empty (promise chains included, however long), which is all a
 * happening can leave behind: nothing the simulator runs waits on a real timer or I/O. That costs a fraction of a
 * `setImmediate` round through the event loop; every HAPPENINGS_PER_YIELD happenings one is taken anyway, so a long
 * run never starves the process's real timers and I/O (a test runner's timeouts, say).
 */
function settle(): Promise<void> {
  happeningsSinceYield += 1;
  if (happeningsSinceYield >= HAPPENINGS_PER_YIELD) {
    happeningsSinceYield = 0;
    return new Promise((resolve) => setImmediate(resolve));
  }
  return new Promise((resolve) => process.nextTick(resolve));
}

/**
 * Runs one scenario to its end (or its first violation) and checks every property on the way. The result is a
 * function of the scenario alone: no real clock, timer or randomness is used.
 *
 * @example
 * const result = await runSimulation(healthyScenario({ seed: 7, durationMs: 60_000 }));
 * if (result.violations.length > 0) console.log(result.timeline({ quiet: true }));
 */
export async function runSimulation(scenario: Scenario, options: SimulationOptions = {}): Promise<SimulationResult> {
  const simulation = new Simulation(scenario, options);
  return simulation.run();
}

class Simulation {
  readonly #scenario: Scenario;
  /** The scenario's node ids, `a` first. */
  readonly #ids: readonly SimNodeId[];
  readonly #variant: BrokenVariant | null;
  readonly #stopOnViolation: boolean;
  readonly #kernel: SimKernel;
  readonly #faults: FaultConditions;
  readonly #hosts: Map<SimNodeId, SimHost>;
  readonly #dns: SimDns;
  readonly #network: SimPeerNetwork;
  readonly #monitor: PropertyMonitor;
  readonly #memory = new Map<SimNodeId, DnsReadMemory>();
  readonly #lastTransition = new Map<SimNodeId, TransitionEntry>();
  readonly #nodeTraces = new Map<SimNodeId, NodeTrace>();
  readonly #logger = silentLogger();

  constructor(scenario: Scenario, options: SimulationOptions) {
    checkScenario(scenario);
    this.#scenario = scenario;
    this.#ids = scenarioNodeIds(scenario);
    this.#variant = options.variant ?? null;
    this.#stopOnViolation = options.stopOnViolation ?? true;
    this.#kernel = new SimKernel(scenario.seed, options.trace ?? true);
    this.#faults = new FaultConditions(scenario.faults);
    this.#hosts = new Map(this.#ids.map((id) => [id, new SimHost(id, SIM_ADDRESSES[id], scenario.clocks[id]!, this.#kernel)]));
    const timers = loadSettings(this.#settingsFor('a')).timers;
    this.#dns = new SimDns(this.#kernel, scenario.network, this.#faults, (applied) => this.#monitor.onDnsApplied(applied));
    this.#monitor = new PropertyMonitor({
      kernel: this.#kernel,
      hosts: this.#hosts,
      scenario,
      faults: this.#faults,
      timers,
      records: () => this.#dns.server.peek(SIM_GROUP_FQDN),
      properties: options.properties,
    });
    this.#network = new SimPeerNetwork(this.#kernel, scenario.network, this.#faults, [...this.#hosts.values()], SIM_PORT);
    for (const id of this.#ids) this.#memory.set(id, { lastKnown: null });
  }

  async run(): Promise<SimulationResult> {
    const kernel = this.#kernel;
    kernel.at(0, () => this.#formGroup());
    for (const fault of this.#scenario.faults) this.#scheduleFault(fault);
    for (const op of this.#scenario.workload) kernel.at(op.at, () => this.#operate(op));
    this.#monitor.start();
    let events = 0;
    for (;;) {
      const next = kernel.queue.peek();
      if (next === undefined || next.at > this.#scenario.durationMs) break;
      kernel.queue.pop();
      // A cancelled timer changes nothing: no need to settle or to look at the properties again.
      if (next.cancelled) continue;
      kernel.now = next.at;
      const done = next.run();
      if (done instanceof Promise) await done;
      await settle();
      events += 1;
      this.#monitor.checkInstant();
      if (this.#stopOnViolation && this.#monitor.violations.length > 0) break;
    }
    if (!this.#stopOnViolation || this.#monitor.violations.length === 0) {
      kernel.now = Math.max(kernel.now, Math.min(this.#scenario.durationMs, kernel.queue.peek()?.at ?? this.#scenario.durationMs));
      await settle();
      for (const host of this.#hosts.values()) this.#monitor.checkEvents(host);
    }
    const trace: TraceDocument = {
      format: TRACE_FORMAT,
      version: TRACE_VERSION,
      scenario: this.#scenario,
      variant: this.#variant?.name ?? null,
      nodes: Object.fromEntries(this.#ids.map((id) => [id, { address: SIM_ADDRESSES[id] }])) as TraceDocument['nodes'],
      entries: kernel.entries,
    };
    return {
      scenario: this.#scenario,
      violations: this.#monitor.violations,
      trace,
      events,
      simulatedMs: kernel.now,
      failoverTimes: this.#monitor.failoverTimes,
      exercised: [...this.#monitor.exercised],
      convergence: this.#monitor.convergence,
      timeline: (timelineOptions) => formatTimeline(trace.entries, timelineOptions),
    };
  }

  /**
   * A node's settings: its own, and on `a` the group's. A group of more than two runs with `coordination: 'etcd'`
   * (SIM_ETCD_ENDPOINTS, never dialled); a scenario's `priorities` set `priority`.
   */
  #settingsFor(id: SimNodeId): SettingsInput {
    const health = this.#scenario.applicationHealth;
    const priority = this.#scenario.priorities?.[id];
    const own = {
      node_id: id,
      external_ipv4_address: SIM_ADDRESSES[id],
      external_port: SIM_PORT,
      ...(health === undefined
        ? {}
        : { health_command: ['simulated-check'], health_interval: health.intervalMs / 1000, health_timeout: health.timeoutMs / 1000, health_failures: health.failures }),
      ...(priority === undefined ? {} : { priority }),
    };
    if (id !== 'a') return own;
    // More than two: the etcd authority's group settings (`etcd_endpoints` once the settings have it).
    const coordination: Partial<SettingsInput> =
      this.#ids.length > 2 ? { coordination: 'etcd', ...(isGroupSettingField('etcd_endpoints') ? ({ etcd_endpoints: [...SIM_ETCD_ENDPOINTS] } as Partial<SettingsInput>) : {}) } : {};
    return { ...own, group_fqdn: SIM_GROUP_FQDN, tsig_name: 'ag-key.sim.test', tsig_secret: SIM_TSIG_SECRET, ...coordination, ...this.#scenario.group };
  }

  /** Starts a process for `host`'s current incarnation: the real node over the simulated ports. */
  #boot(host: SimHost): AvailabilityNode {
    const incarnation = host.incarnation;
    const node = createNode(this.#settingsFor(host.id), {
      clock: host.clock(),
      dns: this.#dns.port(host, this.#variant?.dns ?? null, this.#memory.get(host.id)!),
      peer: this.#variant?.peer === undefined ? this.#network.transport(host) : this.#variant.peer.transport(host, this.#network.transport(host)),
      store: host.store,
      logger: this.#logger,
      inspect: (event) => this.#onInspection(host, incarnation, event),
      ...(this.#variant?.machine === undefined ? {} : { machine: this.#variant.machine() }),
      // Rule 10: the simulated application fails its check while an appUnhealthy fault on this node is active.
      applicationHealth: {
        description: 'simulated application',
        check: async () => ({ healthy: !this.#faults.applicationUnhealthy(host.id, this.#kernel.now), detail: 'simulated' }),
      },
    });
    host.node = node;
    this.#monitor.subscribe(host, node);
    if (this.#kernel.traceAll) for (const eventId of EVENT_IDS) node.subscribe(eventId, (event) => this.#traceEmitted(host, event));
    return node;
  }

  #traceEmitted(host: SimHost, event: NodeEvent): void {
    const { eventId, at: _wallTime, ...detail } = event;
    this.#kernel.trace({ kind: 'emitted', t: this.#kernel.now, node: host.id, eventId, detail });
  }

  #onInspection(host: SimHost, incarnation: number, event: InspectionEvent): void {
    // A crashed incarnation's actor is being stopped: nothing it does any more counts.
    if (event.type !== '@xstate.snapshot' || event.actorRef.sessionId !== event.rootId || incarnation !== host.incarnation || host.status === 'crashed') return;
    const snapshot = event.snapshot as NodeSnapshot;
    this.#monitor.onSnapshot(host, snapshot);
    if (!this.#kernel.traceAll) return;
    const { context } = snapshot;
    const now = this.#kernel.now;
    const lease = this.#nodeTrace(host.id);
    const monotonic = host.monotonicNow();
    const acting = leaseIsValidAt(context, monotonic);
    const expiresAt = context.role === NodeRole.PRIMARY ? context.lease.leaseExpiresAt : null;
    const leaseUntil = expiresAt === null ? null : now + (expiresAt - monotonic) / host.rate;
    if (expiresAt !== lease.expiresAt) {
      if (lease.ranOut !== null) this.#kernel.queue.cancel(lease.ranOut);
      lease.expiresAt = expiresAt;
      lease.ranOut = leaseUntil === null || !acting ? null : this.#kernel.at(leaseUntil, () => this.#leaseRanOut(host, incarnation, expiresAt!));
    }
    this.#traceProgress(host, incarnation, snapshot);
    const view = transitionOf(snapshot);
    const { state } = view;
    const last = this.#lastTransition.get(host.id);
    const shownActing = lease.acting;
    lease.acting = acting;
    if (
      last !== undefined &&
      last.state === state &&
      last.role === context.role &&
      last.epoch === context.epoch &&
      last.dnsConnection === context.dnsConnection &&
      last.incarnation === incarnation &&
      shownActing === acting
    ) {
      return;
    }
    const entry: TransitionEntry = {
      kind: 'transition',
      t: this.#kernel.now,
      node: host.id,
      incarnation,
      state,
      event: event.event.type,
      role: view.role,
      epoch: view.epoch,
      seq: view.seq,
      dnsConnection: view.dnsConnection,
      monotonic,
      acting,
      leaseUntil,
    };
    this.#lastTransition.set(host.id, entry);
    this.#kernel.trace(entry);
  }

  #nodeTrace(id: SimNodeId): NodeTrace {
    let lease = this.#nodeTraces.get(id);
    if (lease === undefined) {
      lease = { acting: false, expiresAt: null, ranOut: null, seen: null };
      this.#nodeTraces.set(id, lease);
    }
    return lease;
  }

  /** The instant a lease runs out: noted if no transition has shown the node stop acting (a paused node, say). */
  #leaseRanOut(host: SimHost, incarnation: number, expiresAt: number): void {
    const lease = this.#nodeTrace(host.id);
    lease.ranOut = null;
    if (host.incarnation !== incarnation || host.status === 'crashed' || lease.expiresAt !== expiresAt || !lease.acting) return;
    lease.acting = false;
    this.#kernel.trace({ kind: 'acting', t: this.#kernel.now, node: host.id, incarnation, acting: false, cause: 'lease-ran-out' });
  }

  /** A node outside the primary state whose newest seen (epoch, seq) changed: its progress, for the trace. */
  #traceProgress(host: SimHost, incarnation: number, snapshot: NodeSnapshot): void {
    const lease = this.#nodeTrace(host.id);
    const { seen } = snapshot.context.progress;
    if (seen === lease.seen || (seen !== null && lease.seen !== null && seen.epoch === lease.seen.epoch && seen.seq === lease.seen.seq)) return;
    lease.seen = seen;
    if (seen === null || snapshot.hasTag(NodeTag.holdsLease)) return;
    const { context } = snapshot;
    const via = context.holder === context.nodeId ? null : (context.progress.lastHeartbeat?.method ?? null);
    this.#kernel.trace({ kind: 'progress', t: this.#kernel.now, node: host.id, incarnation, epoch: seen.epoch, seq: seen.seq, via });
  }

  // ---- workload ----

  /** At time 0: every node starts; `a` creates the group; once it has, `b`, `c`, ... join it one after another. */
  #formGroup(): void {
    const hosts = this.#ids.map((id) => this.#hosts.get(id)!);
    const nodes = hosts.map((host) => this.#boot(host));
    const [a, ...joiners] = hosts;
    const [nodeA, ...joining] = nodes;
    void this.#step(a!, 'start + create group', async () => {
      await nodeA!.start();
      await nodeA!.createGroup();
    }).then(async (created) => {
      if (!created) return;
      for (const [index, host] of joiners.entries()) {
        const node = joining[index]!;
        await this.#step(host, 'start + join group', async () => {
          await node.start();
          await node.joinGroup({ address: SIM_ADDRESSES.a, port: SIM_PORT });
        });
      }
    });
  }

  #operate(op: WorkloadOp): void {
    if (op.kind === 'maintenance') {
      // Not an operator action for failoverHappens: the monitor follows the survivor's flag instead (rule 9).
      const host = this.#hosts.get(op.node)!;
      const node = host.node;
      const action = op.enabled ? 'pause' : 'resume';
      if (!host.live || node === null || node.actor === null) {
        this.#kernel.trace({ kind: 'workload', t: this.#kernel.now, node: op.node, action, outcome: 'skipped', detail: `node ${host.status}` });
        return;
      }
      void this.#step(host, action, async () => void (await node.setMaintenance(op.enabled)));
      return;
    }
    const targets = op.kind === 'failoverBoth' ? this.#ids : [op.node];
    this.#monitor.onOperatorAction(op.kind === 'failoverBoth' ? 'both' : op.node);
    for (const id of targets) {
      const host = this.#hosts.get(id)!;
      const node = host.node;
      if (!host.live || node === null || node.actor === null) {
        this.#kernel.trace({ kind: 'workload', t: this.#kernel.now, node: id, action: 'failover', outcome: 'skipped', detail: `node ${host.status}` });
        continue;
      }
      void this.#step(host, 'failover', () => node.failover());
    }
  }

  /** Runs one workload step, tracing its start and outcome; resolves with whether it succeeded. */
  async #step(host: SimHost, action: string, work: () => Promise<void>): Promise<boolean> {
    const kernel = this.#kernel;
    kernel.trace({ kind: 'workload', t: kernel.now, node: host.id, action, outcome: 'begin' });
    try {
      await work();
      kernel.trace({ kind: 'workload', t: kernel.now, node: host.id, action, outcome: 'done' });
      return true;
    } catch (error) {
      kernel.trace({ kind: 'workload', t: kernel.now, node: host.id, action, outcome: 'failed', detail: (error as Error).message });
      return false;
    }
  }

  // ---- faults ----

  #scheduleFault(fault: Fault): void {
    const kernel = this.#kernel;
    const label = describeFault(fault);
    const node = 'node' in fault ? fault.node : 'from' in fault ? fault.from : undefined;
    const mark = (action: 'start' | 'end') => kernel.trace({ kind: 'fault', t: kernel.now, action, fault: label, ...(node === undefined ? {} : { node }) });
    switch (fault.kind) {
      case 'crash':
        kernel.at(fault.at, () => {
          mark('start');
          this.#crash(this.#hosts.get(fault.node)!);
        });
        if (fault.restartAfter !== null) {
          kernel.at(fault.at + fault.restartAfter, () => {
            mark('end');
            this.#restart(this.#hosts.get(fault.node)!);
          });
        }
        return;
      case 'pause':
        kernel.at(fault.at, () => {
          mark('start');
          this.#hosts.get(fault.node)!.pause();
          this.#monitor.onPause(this.#hosts.get(fault.node)!);
        });
        kernel.at(fault.at + fault.duration, async () => {
          mark('end');
          const host = this.#hosts.get(fault.node)!;
          // Its overdue timers run first, within this happening: the properties see the node after them.
          await host.resume(settle);
          this.#monitor.onResume(host);
        });
        return;
      case 'appUnhealthy':
        // Acts through FaultConditions (the simulated check); the monitor notes when a handover is due.
        kernel.at(fault.at, () => {
          mark('start');
          this.#monitor.onApplicationFault(fault);
        });
        kernel.at(fault.at + fault.duration, () => mark('end'));
        return;
      default:
        // Link and DNS faults act through FaultConditions; here they only mark the trace.
        kernel.at(fault.at, () => mark('start'));
        kernel.at(fault.at + fault.duration, () => mark('end'));
    }
  }

  #crash(host: SimHost): void {
    if (host.status === 'crashed') return;
    this.#monitor.onCrash(host);
    const node = host.node;
    host.crash();
    host.node = null;
    this.#lastTransition.delete(host.id);
    const lease = this.#nodeTraces.get(host.id);
    if (lease?.ranOut != null) this.#kernel.queue.cancel(lease.ranOut);
    this.#nodeTraces.delete(host.id);
    // A dead process acts as nothing, whatever its last transition showed.
    this.#kernel.trace({ kind: 'acting', t: this.#kernel.now, node: host.id, incarnation: host.incarnation, acting: false, cause: 'crash' });
    // Stop the actor so the dead incarnation's machine does nothing more; its in-flight work is dropped by the host.
    void node?.stop({ handOver: false }).catch(() => undefined);
  }

  #restart(host: SimHost): void {
    if (host.status !== 'crashed') return;
    host.reboot();
    this.#monitor.onRestart(host);
    const node = this.#boot(host);
    void this.#step(host, 'restart', () => node.start());
  }
}

/** A fault in a few words, for the trace. */
export function describeFault(fault: Fault): string {
  switch (fault.kind) {
    case 'crash':
      return `crash ${fault.node}${fault.restartAfter === null ? '' : `, restart after ${fault.restartAfter.toFixed(0)} ms`}`;
    case 'pause':
      return `pause ${fault.node} for ${fault.duration.toFixed(0)} ms`;
    case 'partition':
      return `partition ${fault.from}->${fault.to} for ${fault.duration.toFixed(0)} ms`;
    case 'lossy':
      return `lossy ${fault.from}->${fault.to} (loss ${fault.loss.toFixed(2)}, duplicate ${fault.duplicate.toFixed(2)}) for ${fault.duration.toFixed(0)} ms`;
    case 'slowLink':
      return `slow link ${fault.from}->${fault.to} (+${fault.extraMs.toFixed(0)} ms) for ${fault.duration.toFixed(0)} ms`;
    case 'dnsOutage':
      return `DNS outage for ${fault.duration.toFixed(0)} ms`;
    case 'dnsSlow':
      return `DNS slow (+${fault.extraMs.toFixed(0)} ms) for ${fault.duration.toFixed(0)} ms`;
    case 'dnsCut':
      return `DNS cut from ${fault.node} for ${fault.duration.toFixed(0)} ms`;
    case 'appUnhealthy':
      return `application of ${fault.node} unhealthy for ${fault.duration.toFixed(0)} ms`;
  }
}
