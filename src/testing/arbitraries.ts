/**
 * fast-check arbitraries for QA: valid group settings (they pass `loadSettings`' timer rules), clocks within the
 * drift bound, fault schedules, workloads, and whole scenarios. Every time is in milliseconds of simulated time.
 */
import fc from 'fast-check';
import { MAX_CLOCK_RATE_DRIFT, HEARTBEATS_PER_LEASE, DEFAULT_LEASE_FRACTION, type SettingsInput } from '../node/settings.js';
import { convergenceTiming, quietFrom } from './properties.js';
import {
  SIM_MEMBERS_RANGE,
  faultEnd,
  memberIds,
  type Fault,
  type Scenario,
  type ScenarioApplicationHealth,
  type ScenarioClock,
  type ScenarioGroupSettings,
  type ScenarioNetwork,
  type SimNodeId,
  type WorkloadOp,
} from './scenario.js';

/** The drift factor of the lease rule: a lease must be shorter than the failover period divided by this. */
const DRIFT_FACTOR = (1 + MAX_CLOCK_RATE_DRIFT) / (1 - MAX_CLOCK_RATE_DRIFT);

/**
 * Group timers that `loadSettings` accepts: failover period in [minAbsenceMs, maxAbsenceMs]; the lease either the
 * default share or any value the drift rule allows; a heartbeat interval that fits twice into the lease; a standby
 * check no longer than the failover period. Values are whole milliseconds, written as seconds; the failover period
 * is at least 3 ms.
 *
 * @example
 * fc.assert(fc.property(groupSettingsArbitrary(), (group) => { loadSettings({ node_id: 'a', external_ipv4_address: '127.0.0.2', ...group }); }));
 */
export function groupSettingsArbitrary(options: { minAbsenceMs?: number; maxAbsenceMs?: number } = {}): fc.Arbitrary<ScenarioGroupSettings> {
  // Below 3 ms no lease can hold two whole-millisecond heartbeats inside the drift margin.
  const minAbsence = Math.max(3, options.minAbsenceMs ?? 300);
  const maxAbsence = options.maxAbsenceMs ?? 60_000;
  return fc
    .record({
      absence: fc.integer({ min: minAbsence, max: maxAbsence }),
      leaseShare: fc.option(fc.double({ min: 0.3, max: 1, noNaN: true }), { nil: null }),
      heartbeatShare: fc.double({ min: 0.05, max: 1, noNaN: true }),
      checkShare: fc.double({ min: 0.05, max: 1, noNaN: true }),
    })
    .map(({ absence, leaseShare, heartbeatShare, checkShare }) => {
      // The largest lease the drift rule allows, one millisecond short of the limit.
      const maxLease = Math.ceil(absence / DRIFT_FACTOR) - 1;
      const lease = leaseShare === null ? absence * DEFAULT_LEASE_FRACTION : Math.max(2, Math.floor(maxLease * leaseShare));
      const heartbeat = Math.max(1, Math.floor((lease / HEARTBEATS_PER_LEASE) * heartbeatShare));
      const check = Math.max(1, Math.floor(absence * checkShare));
      return {
        health_report_interval: heartbeat / 1000,
        health_check_interval: check / 1000,
        allowed_absence_interval: absence / 1000,
        ...(leaseShare === null ? {} : { lease_duration: lease / 1000 }),
      };
    });
}

/**
 * Whole node settings (snake_case) that `loadSettings` accepts, for QA tests of configuration handling.
 *
 * @example
 * fc.assert(fc.property(settingsInputArbitrary(), (input) => { loadSettings(input); }));
 */
export function settingsInputArbitrary(): fc.Arbitrary<SettingsInput> {
  return fc
    .record({
      group: groupSettingsArbitrary(),
      node: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/),
      octet: fc.integer({ min: 1, max: 254 }),
      port: fc.integer({ min: 1, max: 65535 }),
      ttl: fc.integer({ min: 0, max: 86_400 }),
      scheme: fc.constantFrom('http' as const, 'https' as const),
    })
    .map(({ group, node, octet, port, ttl, scheme }) => ({
      node_id: node,
      external_ipv4_address: `127.0.0.${octet}`,
      external_port: port,
      external_scheme: scheme,
      group_fqdn: 'app.example.test',
      group_fqdn_ttl: ttl,
      ...group,
    }));
}

/** A node's clocks: rate within the drift bound (often exactly at a bound), any offset, a wall skew up to ±maxSkewMs. */
export function clockArbitrary(options: { maxSkewMs?: number } = {}): fc.Arbitrary<ScenarioClock> {
  const maxSkew = options.maxSkewMs ?? 10 * 60_000;
  return fc.record({
    rate: fc.oneof(
      fc.constantFrom(1 - MAX_CLOCK_RATE_DRIFT, 1, 1 + MAX_CLOCK_RATE_DRIFT),
      fc.double({ min: 1 - MAX_CLOCK_RATE_DRIFT, max: 1 + MAX_CLOCK_RATE_DRIFT, noNaN: true }),
    ),
    monotonicOffsetMs: fc.integer({ min: 0, max: 10_000_000 }),
    wallSkewMs: fc.integer({ min: -maxSkew, max: maxSkew }),
  });
}

/** Base network delays for a group whose heartbeat interval is `heartbeatMs`: at most a tenth of it each way. */
export function networkArbitrary(heartbeatMs: number): fc.Arbitrary<ScenarioNetwork> {
  const range = fc
    .tuple(fc.double({ min: 0.001, max: 0.1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }))
    .map(([share, low]): [number, number] => [heartbeatMs * share * low, heartbeatMs * share]);
  return fc.record({ peerDelayMs: range, dnsDelayMs: range }).map(({ peerDelayMs, dnsDelayMs }) => ({
    peerDelayMs,
    dnsDelayMs,
    // Long enough for any fault-free exchange, short enough that a lost answer costs less than half a heartbeat.
    requestTimeoutMs: 4 * Math.max(peerDelayMs[1], dnsDelayMs[1]),
  }));
}

/** One of the first `members` nodes, equally likely. */
function nodeArbitrary(members: number): fc.Arbitrary<SimNodeId> {
  return fc.constantFrom<SimNodeId>(...memberIds(members));
}

/** A direction between two of the first `members` nodes: every ordered pair equally likely. */
function directionArbitrary(members: number): fc.Arbitrary<[SimNodeId, SimNodeId]> {
  const ids = memberIds(members);
  return fc.constantFrom<[SimNodeId, SimNodeId]>(...ids.flatMap((from) => ids.filter((to) => to !== from).map((to): [SimNodeId, SimNodeId] => [from, to])));
}

/** How heavy a fault schedule is: the most faults, and the kinds to draw from. */
export interface FaultMix {
  readonly maxFaults: number;
  /** The kinds to draw from, each equally likely (list a kind twice to draw it twice as often); default: all. */
  readonly kinds?: readonly Fault['kind'][];
  /** Partitions cut one direction only (default: one-way or two-way, equally likely). */
  readonly oneWay?: boolean;
  /**
   * Share (0 to 1) of the partitions that also cut their sending node off the authority for the same span (a DNS
   * cut): a Primary that then reaches only some of its members must step down (default 0).
   */
  readonly partitionCutsAuthority?: number;
}

/** Preset fault mixes. */
export const FAULT_MIXES = {
  none: { maxFaults: 0 },
  light: { maxFaults: 3 },
  heavy: { maxFaults: 12 },
} as const satisfies Record<string, FaultMix>;

/**
 * A fault schedule for a run of `durationMs` whose failover period is `absenceMs`: up to `mix.maxFaults` faults of
 * `mix.kinds`, each starting at a whole millisecond in [2 × absenceMs, durationMs − absenceMs] (after the group
 * has formed) and lasting from a twentieth of a failover period to three of them. A partition is one-way or
 * two-way (one-way only with `mix.oneWay`); a crash restarts after a tenth of a failover period to four of them,
 * or (one in four) never. A slow link or slow DNS adds 1 ms to half a failover period; given `requestTimeoutMs`,
 * half of them add at most a fifth of it instead, so that the path still delivers within the request timeout
 * (what `noFalseFailover` counts as healthy). Faults name the first `members` nodes (default 2), every node and
 * every direction between two of them equally likely; with more than two, half the partitions instead cut one
 * node off from all the others (both ways, or one way only with `mix.oneWay`), while it may still reach the
 * authority.
 *
 * @example
 * const faults = fc.sample(faultScheduleArbitrary({ absenceMs: 3000, durationMs: 60_000, mix: FAULT_MIXES.heavy }), 1)[0];
 * const forThree = fc.sample(faultScheduleArbitrary({ absenceMs: 3000, durationMs: 60_000, members: 3 }), 1)[0];
 */
export function faultScheduleArbitrary(options: { absenceMs: number; durationMs: number; mix?: FaultMix; requestTimeoutMs?: number; members?: number }): fc.Arbitrary<Fault[]> {
  const { absenceMs, durationMs } = options;
  const members = options.members ?? SIM_MEMBERS_RANGE[0];
  const node = nodeArbitrary(members);
  const direction = directionArbitrary(members);
  const mix: FaultMix = options.mix ?? FAULT_MIXES.light;
  if (mix.maxFaults === 0) return fc.constant([]);
  const at = fc.integer({ min: Math.round(2 * absenceMs), max: Math.max(Math.round(2 * absenceMs), Math.round(durationMs - absenceMs)) });
  const duration = fc.integer({ min: Math.max(1, Math.round(absenceMs / 20)), max: Math.round(3 * absenceMs) });
  const large = fc.integer({ min: 1, max: Math.max(1, Math.round(absenceMs / 2)) });
  const extra = options.requestTimeoutMs === undefined ? large : fc.oneof(large, fc.integer({ min: 1, max: Math.max(1, Math.floor(options.requestTimeoutMs / 5)) }));
  const both = mix.oneWay === true ? fc.constant(false) : fc.boolean();
  const pairPartition = fc.record({ direction, both, at, duration }).map(({ direction: [from, to], both, at: start, duration: length }) => [
    { kind: 'partition' as const, from, to, at: start, duration: length },
    ...(both ? [{ kind: 'partition' as const, from: to, to: from, at: start, duration: length }] : []),
  ]);
  // A node cut off from every other node (its links out, and unless one-way its links in), not from the authority.
  const isolation = fc.record({ node, both, at, duration }).map(({ node: cut, both, at: start, duration: length }) =>
    memberIds(members)
      .filter((other) => other !== cut)
      .flatMap((other) => [
        { kind: 'partition' as const, from: cut, to: other, at: start, duration: length },
        ...(both ? [{ kind: 'partition' as const, from: other, to: cut, at: start, duration: length }] : []),
      ]),
  );
  const byKind: Record<Fault['kind'], fc.Arbitrary<Fault[]>> = {
    crash: fc
      .record({ node, at, restartAfter: fc.option(fc.integer({ min: Math.round(absenceMs / 10), max: Math.round(4 * absenceMs) }), { nil: null, freq: 4 }) })
      .map((f) => [{ kind: 'crash' as const, ...f }]),
    pause: fc.record({ node, at, duration }).map((f) => [{ kind: 'pause' as const, ...f }]),
    partition: withAuthorityCut(members === 2 ? pairPartition : fc.oneof(pairPartition, isolation), mix.partitionCutsAuthority ?? 0),
    lossy: fc
      .record({ direction, at, duration, loss: fc.double({ min: 0, max: 0.9, noNaN: true }), duplicate: fc.double({ min: 0, max: 0.5, noNaN: true }) })
      .map(({ direction: [from, to], ...f }) => [{ kind: 'lossy' as const, from, to, ...f }]),
    slowLink: fc.record({ direction, at, duration, extraMs: extra }).map(({ direction: [from, to], ...f }) => [{ kind: 'slowLink' as const, from, to, ...f }]),
    dnsOutage: fc.record({ at, duration }).map((f) => [{ kind: 'dnsOutage' as const, ...f }]),
    dnsSlow: fc.record({ at, duration, extraMs: extra }).map((f) => [{ kind: 'dnsSlow' as const, ...f }]),
    dnsCut: fc.record({ node, at, duration }).map((f) => [{ kind: 'dnsCut' as const, ...f }]),
    appUnhealthy: fc.record({ node, at, duration }).map((f) => [{ kind: 'appUnhealthy' as const, ...f }]),
  };
  // An application fault means something only in a scenario with application health checks: drawn when named.
  const kinds = mix.kinds ?? ((Object.keys(byKind) as Fault['kind'][]).filter((kind) => kind !== 'appUnhealthy'));
  return fc
    .array(fc.oneof(...kinds.map((kind) => byKind[kind])), { maxLength: mix.maxFaults })
    .map((groups) => groups.flat().sort((x, y) => x.at - y.at));
}

/** `partitions`, and for `share` of them a DNS cut of the first one's sending node for the same span. */
function withAuthorityCut(partitions: fc.Arbitrary<Fault[]>, share: number): fc.Arbitrary<Fault[]> {
  if (share <= 0) return partitions;
  return fc.tuple(partitions, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })).map(([faults, draw]) => {
    const first = faults[0];
    if (draw >= share || first === undefined || first.kind !== 'partition') return faults;
    return [...faults, { kind: 'dnsCut' as const, node: first.from, at: first.at, duration: first.duration }];
  });
}

/**
 * Operator actions: up to `maxOps` (default 2) manual failovers, three in four on one node (any of the first
 * `members`, default 2, equally likely), one in four on every node (both, for two) at the same instant, each at a whole millisecond in [2 × absenceMs, durationMs −
 * absenceMs]. Given `during` (a fault schedule) and `duringShare`, that share of them instead falls while one of
 * those faults is active: at a uniformly drawn point of a drawn fault's span (a crash's up to its restart, or one
 * failover period if it never restarts). With `maintenance`, two in three actions instead pause or resume the group's
 * automatic takeover on one node (any, equally likely; pause and resume equally likely).
 */
export function workloadArbitrary(options: {
  absenceMs: number;
  durationMs: number;
  maxOps?: number;
  during?: readonly Fault[];
  duringShare?: number;
  maintenance?: boolean;
  members?: number;
}): fc.Arbitrary<WorkloadOp[]> {
  const node = nodeArbitrary(options.members ?? SIM_MEMBERS_RANGE[0]);
  const free = fc.integer({ min: Math.round(2 * options.absenceMs), max: Math.max(Math.round(2 * options.absenceMs), Math.round(options.durationMs - options.absenceMs)) });
  const faults = options.during ?? [];
  const share = faults.length === 0 ? 0 : Math.min(1, Math.max(0, options.duringShare ?? 0));
  const inFault = fc.record({ index: fc.nat({ max: Math.max(0, faults.length - 1) }), point: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) }).map(({ index, point }) => {
    const fault = faults[index]!;
    const end = Math.min(faultEnd(fault), fault.at + (fault.kind === 'crash' && fault.restartAfter === null ? options.absenceMs : Infinity));
    return Math.round(fault.at + point * (end - fault.at));
  });
  const at =
    share === 0 ? free : share === 1 ? inFault : fc.oneof({ weight: Math.round((1 - share) * 100), arbitrary: free }, { weight: Math.round(share * 100), arbitrary: inFault });
  const failover = fc.oneof(
    { weight: 3, arbitrary: fc.record({ node, at }).map((o): WorkloadOp => ({ kind: 'failover' as const, ...o })) },
    { weight: 1, arbitrary: at.map((time): WorkloadOp => ({ kind: 'failoverBoth' as const, at: time })) },
  );
  const maintenance = fc.record({ node, at, enabled: fc.boolean() }).map((o): WorkloadOp => ({ kind: 'maintenance' as const, ...o }));
  const op = options.maintenance === true ? fc.oneof({ weight: 1, arbitrary: failover }, { weight: 2, arbitrary: maintenance }) : failover;
  return fc.array(op, { maxLength: options.maxOps ?? 2 }).map((ops) => ops.sort((x, y) => x.at - y.at));
}

/** What a scenario arbitrary draws. */
export interface ScenarioShape {
  /** Fault mix (default light). */
  readonly mix?: FaultMix;
  /** Most operator actions (default 2). */
  readonly maxOps?: number;
  /** Share (0 to 1) of the operator actions that fall while a fault is active (default 0). */
  readonly opsDuringFaults?: number;
  /** Whether operator actions include pausing and resuming automatic takeover (maintenance, rule 9; default false). */
  readonly maintenance?: boolean;
  /**
   * Length of the part of the run in which faults and operator actions start, in failover periods, [min, max]
   * (default [10, 25]).
   */
  readonly periods?: readonly [number, number];
  /**
   * Share (0 to 1) of the scenarios that end with a quiet tail: the run goes on past the last fault's end and the
   * last operator action for the `convergence` bound plus one to two failover periods, so that `convergence` is
   * checked (default 0.8). The others end after `periods`, possibly during a fault.
   */
  readonly quietTail?: number;
  readonly minAbsenceMs?: number;
  readonly maxAbsenceMs?: number;
  readonly maxSkewMs?: number;
  /** Every node checks its application (rule 10): see {@link applicationHealthArbitrary} (default false). */
  readonly applicationHealth?: boolean;
  /**
   * How many nodes form the group, 2 to 7 (default 2): faults and operator actions name any of them, each has its
   * own clock; more than two run with `coordination: 'etcd'` (Scenario.members).
   */
  readonly members?: number;
}

/**
 * Application health checks for a group whose heartbeat interval is `heartbeatMs`: a check every heartbeat
 * interval (whole ms), allowed half of it, 1 to 3 failures in a row to be unhealthy.
 */
export function applicationHealthArbitrary(heartbeatMs: number): fc.Arbitrary<ScenarioApplicationHealth> {
  const intervalMs = Math.max(2, Math.round(heartbeatMs));
  return fc.integer({ min: 1, max: 3 }).map((failures) => ({ intervalMs, timeoutMs: intervalMs / 2, failures }));
}

/**
 * A whole scenario: settings, clocks, network, faults and workload drawn together, sized to the drawn timers: the
 * group's timers (groupSettingsArbitrary), a length of `periods` failover periods, each node's clocks, the network
 * (networkArbitrary), the faults (faultScheduleArbitrary, with the drawn request timeout) and the operator actions
 * (workloadArbitrary) in that length; then, for `quietTail` of the scenarios, the run is lengthened to end one to
 * two failover periods after the `convergence` bound has passed since the last fault ended and the last operator
 * action (convergenceTiming in properties.ts).
 *
 * @example
 * await fc.assert(fc.asyncProperty(scenarioArbitrary({ mix: FAULT_MIXES.heavy }), async (scenario) => {
 *   const result = await runSimulation(scenario);
 *   expect(result.violations).toEqual([]);
 * }), { seed: 42, numRuns: 50 });
 */
export function scenarioArbitrary(shape: ScenarioShape = {}): fc.Arbitrary<Scenario> {
  const [minPeriods, maxPeriods] = shape.periods ?? [10, 25];
  const tailShare = Math.min(1, Math.max(0, shape.quietTail ?? 0.8));
  const clock = clockArbitrary(shape.maxSkewMs === undefined ? {} : { maxSkewMs: shape.maxSkewMs });
  const members = shape.members ?? SIM_MEMBERS_RANGE[0];
  const clocks = fc.record(Object.fromEntries(memberIds(members).map((id) => [id, clock]))) as unknown as fc.Arbitrary<Scenario['clocks']>;
  // Two members leave `members` out, so their scenarios are those drawn before groups could have more.
  const size: { members?: fc.Arbitrary<number> } = members === SIM_MEMBERS_RANGE[0] ? {} : { members: fc.constant(members) };
  return groupSettingsArbitrary({
    ...(shape.minAbsenceMs === undefined ? {} : { minAbsenceMs: shape.minAbsenceMs }),
    ...(shape.maxAbsenceMs === undefined ? {} : { maxAbsenceMs: shape.maxAbsenceMs }),
  }).chain((group) => {
    const absenceMs = group.allowed_absence_interval * 1000;
    return fc
      .record({ periods: fc.integer({ min: minPeriods, max: maxPeriods }), network: networkArbitrary(group.health_report_interval * 1000) })
      .chain(({ periods, network }) => {
        const durationMs = periods * absenceMs;
        const faults = faultScheduleArbitrary({ absenceMs, durationMs, requestTimeoutMs: network.requestTimeoutMs, members, ...(shape.mix === undefined ? {} : { mix: shape.mix }) });
        return faults.chain((drawnFaults) =>
          fc.record({
            seed: fc.integer({ min: 0, max: 0x7fffffff }),
            durationMs: fc.constant(durationMs),
            ...size,
            group: fc.constant(group),
            clocks,
            network: fc.constant(network),
            faults: fc.constant(drawnFaults),
            ...(shape.applicationHealth === true ? { applicationHealth: applicationHealthArbitrary(group.health_report_interval * 1000) } : {}),
            workload: workloadArbitrary({
              absenceMs,
              durationMs,
              members,
              during: drawnFaults,
              ...(shape.maxOps === undefined ? {} : { maxOps: shape.maxOps }),
              ...(shape.opsDuringFaults === undefined ? {} : { duringShare: shape.opsDuringFaults }),
              ...(shape.maintenance === undefined ? {} : { maintenance: shape.maintenance }),
            }),
          }),
        );
      })
      .chain((scenario) => withQuietTail(scenario, tailShare));
  });
}

/** Lengthens `scenario`, for `share` of the draws, so that `convergence` is checked for one to two failover periods. */
function withQuietTail(scenario: Scenario, share: number): fc.Arbitrary<Scenario> {
  if (share === 0) return fc.constant(scenario);
  const absenceMs = scenario.group.allowed_absence_interval * 1000;
  const { boundMs } = convergenceTiming(scenario);
  const quiet = quietFrom(scenario);
  const tailed = fc
    .integer({ min: Math.round(absenceMs), max: Math.round(2 * absenceMs) })
    .map((checkedMs) => ({ ...scenario, durationMs: Math.max(scenario.durationMs, Math.ceil(quiet + boundMs) + checkedMs) }));
  if (share === 1) return tailed;
  return fc.oneof({ weight: Math.round(share * 100), arbitrary: tailed }, { weight: Math.round((1 - share) * 100), arbitrary: fc.constant(scenario) });
}
