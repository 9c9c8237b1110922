/**
 * A simulated scenario as plain data: the group's timers, each node's clocks, the network's base behaviour, a fault
 * schedule and a workload. Times are milliseconds of simulated true time from the start of the run. A scenario and
 * its seed determine the run completely; scenarios are JSON, so a failing one can be saved and replayed.
 */

import { SettingsError } from '../api/errors.js';
import { peerAnswerDnsRequests } from '../peer/peerAnswerDnsRequests.js';
import type { PeerMessage } from '../peer/peerMessages.js';

/**
 * The simulated nodes' ids: `a` creates the group at time 0, `b`, `c`, ... join it in turn. A scenario runs the first
 * `members` of them (default 2: `a` and `b`).
 */
export type SimNodeId = 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g';
/** Every id a simulated node can have, in the order the nodes form the group. */
export const SIM_NODE_IDS: readonly SimNodeId[] = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
/** The fewest and the most members a simulated group has (more than two run with `coordination: 'etcd'`). */
export const SIM_MEMBERS_RANGE = [2, 7] as const;

const MEMBER_IDS: readonly (readonly SimNodeId[])[] = SIM_NODE_IDS.map((_, index) => SIM_NODE_IDS.slice(0, index + 1));

/**
 * The ids of a group of `members` nodes: the first `members` of SIM_NODE_IDS.
 *
 * @example
 * memberIds(3) // ['a', 'b', 'c']
 */
export function memberIds(members: number): readonly SimNodeId[] {
  const ids = MEMBER_IDS[members - 1];
  if (ids === undefined || members < SIM_MEMBERS_RANGE[0]) throw membersError(members);
  return ids;
}

/** How many members a scenario's group has (`members`, default 2). */
export function scenarioMembers(scenario: Pick<Scenario, 'members'>): number {
  return scenario.members ?? SIM_MEMBERS_RANGE[0];
}

/**
 * The ids of a scenario's nodes.
 *
 * @example
 * scenarioNodeIds(healthyScenario({ seed: 1, durationMs: 10_000, members: 3 })) // ['a', 'b', 'c']
 */
export function scenarioNodeIds(scenario: Pick<Scenario, 'members'>): readonly SimNodeId[] {
  return memberIds(scenarioMembers(scenario));
}

function membersError(members: unknown): SettingsError {
  return new SettingsError([{ field: 'members', rule: `must be a whole number from ${SIM_MEMBERS_RANGE[0]} to ${SIM_MEMBERS_RANGE[1]}, not ${JSON.stringify(members)}` }]);
}

/**
 * Checks what the simulator needs of a scenario beyond its type: `members` from 2 to 7, a clock for each node, and
 * faults, operator actions and priorities that name only the scenario's nodes. Throws a SettingsError naming the
 * field and the rule.
 *
 * @example
 * checkScenario({ ...healthyScenario({ seed: 1, durationMs: 10_000 }), members: 9 }); // SettingsError: members: must be a whole number from 2 to 7, not 9
 */
export function checkScenario(scenario: Scenario): void {
  const members = scenario.members ?? SIM_MEMBERS_RANGE[0];
  if (!Number.isInteger(members) || members < SIM_MEMBERS_RANGE[0] || members > SIM_MEMBERS_RANGE[1]) throw membersError(scenario.members);
  const ids = memberIds(members);
  const issues: { field: string; rule: string }[] = [];
  for (const id of ids) if (scenario.clocks[id] === undefined) issues.push({ field: `clocks.${id}`, rule: `is required: the scenario has ${members} members (${ids.join(', ')})` });
  const named = (field: string, id: unknown) => {
    if (!ids.includes(id as SimNodeId)) issues.push({ field, rule: `must name one of the scenario's nodes (${ids.join(', ')}), not ${JSON.stringify(id)}` });
  };
  scenario.faults.forEach((fault, index) => {
    if ('node' in fault) named(`faults[${index}].node`, fault.node);
    if ('from' in fault) {
      named(`faults[${index}].from`, fault.from);
      named(`faults[${index}].to`, fault.to);
    }
  });
  scenario.workload.forEach((op, index) => {
    if ('node' in op) named(`workload[${index}].node`, op.node);
  });
  for (const id of Object.keys(scenario.priorities ?? {})) named(`priorities.${id}`, id);
  if (issues.length > 0) throw new SettingsError(issues);
}

/** The group settings a scenario runs with (snake_case, seconds, as `loadSettings` takes them). */
export interface ScenarioGroupSettings {
  readonly health_report_interval: number;
  readonly health_check_interval: number;
  readonly allowed_absence_interval: number;
  readonly lease_duration?: number;
}

/** One node's clocks relative to simulated true time. */
export interface ScenarioClock {
  /** Rate of the monotonic clock (1 = exact); within 1 ± MAX_CLOCK_RATE_DRIFT. */
  readonly rate: number;
  /** The monotonic clock's reading at time 0 (ms). */
  readonly monotonicOffsetMs: number;
  /** The wall clock's offset from true wall time (ms); wall clocks are for display only. */
  readonly wallSkewMs: number;
}

/** The network without faults: each message and DNS request or answer takes a delay drawn uniformly from a range. */
export interface ScenarioNetwork {
  /** One-way delay of a peer message, [min, max] ms. Random delays also reorder messages. */
  readonly peerDelayMs: readonly [number, number];
  /** One-way delay between a node and the DNS server, [min, max] ms. */
  readonly dnsDelayMs: readonly [number, number];
  /**
   * How long a node waits for a peer or DNS answer before it calls the other side unreachable (its own clock). A
   * handover offer and its probe wait longer, for the receiver's own DNS requests ({@link peerRequestTimeoutMs}).
   */
  readonly requestTimeoutMs: number;
}

/**
 * How long a simulated node waits for the answer to a peer message of `type` (its own clock): `requestTimeoutMs`,
 * and a DNS request timeout more for each DNS request the receiver may make before it answers (a handover probe's
 * read; a handover offer's compare-and-swap and its retries against the offerer's leftover write). Those answers
 * take two peer delays and the DNS round trips, which one `requestTimeoutMs` on a fast clock may not cover; the
 * real node's peer timeouts give them the DNS client's budget likewise.
 *
 * @example
 * peerRequestTimeoutMs({ peerDelayMs: [1, 2], dnsDelayMs: [1, 2], requestTimeoutMs: 8 }, 'handover-probe') // 16
 */
export function peerRequestTimeoutMs(network: ScenarioNetwork, type: PeerMessage['type']): number {
  return network.requestTimeoutMs * (1 + peerAnswerDnsRequests(type));
}

/**
 * A fault, active from `at` for `duration` ms (or, for a crash, until the restart). `from`/`to` name a direction:
 * a two-way partition is two faults.
 */
export type Fault =
  | { readonly kind: 'crash'; readonly node: SimNodeId; readonly at: number; readonly restartAfter: number | null }
  | { readonly kind: 'pause'; readonly node: SimNodeId; readonly at: number; readonly duration: number }
  | { readonly kind: 'partition'; readonly from: SimNodeId; readonly to: SimNodeId; readonly at: number; readonly duration: number }
  | {
      readonly kind: 'lossy';
      readonly from: SimNodeId;
      readonly to: SimNodeId;
      readonly at: number;
      readonly duration: number;
      /** Probability that a message is lost. */
      readonly loss: number;
      /** Probability that a message is delivered twice. */
      readonly duplicate: number;
    }
  | { readonly kind: 'slowLink'; readonly from: SimNodeId; readonly to: SimNodeId; readonly at: number; readonly duration: number; readonly extraMs: number }
  | { readonly kind: 'dnsOutage'; readonly at: number; readonly duration: number }
  | { readonly kind: 'dnsSlow'; readonly at: number; readonly duration: number; readonly extraMs: number }
  | { readonly kind: 'dnsCut'; readonly node: SimNodeId; readonly at: number; readonly duration: number }
  /** The node's application turns unhealthy (its simulated health check fails) for `duration` (rule 10). */
  | { readonly kind: 'appUnhealthy'; readonly node: SimNodeId; readonly at: number; readonly duration: number };

/**
 * Every node's application health check (docs/design.md rule 10), simulated: a check every `intervalMs` on the
 * node's clock, answered at once, failing while an `appUnhealthy` fault on the node is active.
 */
export interface ScenarioApplicationHealth {
  readonly intervalMs: number;
  /** Less than `intervalMs`. */
  readonly timeoutMs: number;
  /** `health_failures`: failed checks in a row that make the application unhealthy. */
  readonly failures: number;
}

/** Something an operator or workflow does. */
export type WorkloadOp =
  | { readonly kind: 'failover'; readonly node: SimNodeId; readonly at: number }
  /** Operators press failover on every node (both, in a group of two) at the same instant. */
  | { readonly kind: 'failoverBoth'; readonly at: number }
  /** An operator pauses (`enabled`) or resumes the group's automatic takeover on one node (maintenance, rule 9). */
  | { readonly kind: 'maintenance'; readonly node: SimNodeId; readonly at: number; readonly enabled: boolean };

/** Each node's clocks: `a` and `b` always, the others for a scenario with more members. */
export type ScenarioClocks = { readonly a: ScenarioClock; readonly b: ScenarioClock } & { readonly [id in SimNodeId]?: ScenarioClock };

/** A whole scenario. */
export interface Scenario {
  /** Seeds the per-message randomness (delays, loss, duplication). */
  readonly seed: number;
  readonly durationMs: number;
  /**
   * How many nodes form the group, 2 to 7 (default 2; omitted for 2): `a` creates it, `b`, `c`, ... join in turn.
   * More than two run with `coordination: 'etcd'` (the simulated authority stands for the etcd cluster).
   */
  readonly members?: number;
  readonly group: ScenarioGroupSettings;
  readonly clocks: ScenarioClocks;
  /** Node-local `priority` settings (takeover order: higher first; default 100); omitted: every node's default. */
  readonly priorities?: Readonly<Partial<Record<SimNodeId, number>>>;
  readonly network: ScenarioNetwork;
  readonly faults: readonly Fault[];
  readonly workload: readonly WorkloadOp[];
  /** Every node checks its application (rule 10); absent: no check, and `appUnhealthy` faults change nothing. */
  readonly applicationHealth?: ScenarioApplicationHealth;
}

/** The end of a fault's effect (a crash without restart lasts forever). */
export function faultEnd(fault: Fault): number {
  if (fault.kind === 'crash') return fault.restartAfter === null ? Infinity : fault.at + fault.restartAfter;
  return fault.at + fault.duration;
}

/**
 * A healthy scenario: default-shaped timers scaled to `heartbeatS`, exact clocks, small delays, no faults; two nodes
 * unless `members` says more.
 *
 * @example
 * const result = await runSimulation(healthyScenario({ seed: 1, durationMs: 60_000, heartbeatS: 1 }));
 * const three = healthyScenario({ seed: 1, durationMs: 60_000, members: 3 });
 */
export function healthyScenario(options: { seed: number; durationMs: number; heartbeatS?: number; members?: number }): Scenario {
  const heartbeat = options.heartbeatS ?? 1;
  const delayMax = Math.max(0.5, heartbeat * 1000 * 0.02);
  const members = options.members ?? SIM_MEMBERS_RANGE[0];
  const clocks = Object.fromEntries(memberIds(members).map((id, index) => [id, { rate: 1, monotonicOffsetMs: 1_000 + 4_000 * index, wallSkewMs: 0 }])) as unknown as ScenarioClocks;
  return {
    seed: options.seed,
    durationMs: options.durationMs,
    ...(members === SIM_MEMBERS_RANGE[0] ? {} : { members }),
    group: { health_report_interval: heartbeat, health_check_interval: heartbeat * 1.5, allowed_absence_interval: heartbeat * 3 },
    clocks,
    network: { peerDelayMs: [delayMax / 4, delayMax], dnsDelayMs: [delayMax / 4, delayMax], requestTimeoutMs: delayMax * 4 },
    faults: [],
    workload: [],
  };
}
