/**
 * The properties of docs/design.md section 4 as the simulator checks them, by name, and the bounds they use. The
 * simulator checks every one at every simulated instant (after each happening and the promises it settles);
 * `determinism` is checked by running a scenario twice.
 */
import type { NodeTimers } from '../../machines/nodeMachine.types.js';
import { loadSettings, MAX_CLOCK_RATE_DRIFT } from '../node/settings.js';
import { faultEnd, scenarioMembers, type Scenario } from './scenario.js';

export const PROPERTY_DESCRIPTIONS = {
  oneActingPrimary: 'at no instant do two running, unpaused nodes act as Primary (role primary and a lease valid on their own clock)',
  oneAnnouncedPrimary:
    "at no instant do two running, unpaused nodes announce primary, counting both getNodeState().nodeRole and the last NODE_ROLE_CHANGED each of the node's subscribers received (a crashed node counts for nothing; a paused one not while paused)",
  dnsNamesNewestEpoch:
    'every DNS update leaves the A record naming the holder of the TXT heartbeat, never lowers the epoch, and never gives one epoch to two holders',
  failoverHappens:
    'when the Primary crashes and a Secondary (watching, unpaused, DNS healthy, no operator failover) stays so, it or another node acts as Primary within allowed_absence_interval (+ (N − 2) × health_check_interval in a group of N > 2, the takeover order\'s rank delay; all on its clock) of its last progress, or of when it began measuring silence if it saw none since it became Secondary, plus three DNS round trips (a standby read under way at the deadline, the confirming read, the compare-and-swap) and 1 ms; while it holds the maintenance flag on it waits, and once resumed it acts by the later of that deadline and its resume + two DNS round trips + 1 ms',
  noTakeoverWhilePaused:
    "no node starts a takeover for absence while it holds the group's maintenance flag on (rule 9); the deadline of failoverHappens waits while the survivor is paused and is then at least its resume + two DNS round trips + 1 ms, and convergence does not require a Primary while a live node is paused",
  noFalseFailover:
    'a Secondary never starts a takeover for absence while another node has been Primary for a whole failover period (on the fastest clock) and one heartbeat path delivered within its bound in that period: the direct path from the Primary to the Secondary, or DNS for both nodes',
  noTakeoverBeforeDeadline:
    'a node never starts a takeover for absence before its deadline: the last progress it saw (its seen (epoch, seq) rose) or the start of its measure of silence, + allowed_absence_interval on its own monotonic clock; in a group of more than two, + its rank × health_check_interval (rank: how many other members, not the absent Primary, come before it by priority desc, node id asc)',
  eventsTellTruth:
    "each subscriber's NODE_ROLE_CHANGED events start with previous = null, chain (previous = the last new), never repeat a role, and end at the role getNodeState() reports",
  leaseLostOnlyInTenure:
    "a node emits LEASE_LOST only within a tenure: after its NODE_ROLE_CHANGED to primary and before its next step-down (a LEASE_LOST or a NODE_ROLE_CHANGED from primary); a taker that never announced primary gives up with TAKEOVER_ABANDONED instead",
  restartSafety:
    'a restarted node only writes itself into DNS over a record naming itself at the same epoch (a reclaim) or with a higher epoch than the record it replaces (a takeover)',
  convergence:
    'from convergenceTiming().boundMs after the last fault ended and the last operator action was issued to the end of the run, exactly one live node acts as Primary, the A record and the TXT holder name it, and every other live node has role secondary and sees its (epoch, seq) rise at least once per progress window',
  determinism: 'the same scenario and seed give the same trace, entry for entry',
  unhealthyNeverTakesOver:
    "a node whose application health check is configured never starts a takeover (for absence, by a handover offer, or forced) while its own verdict is not healthy (rule 10)",
  healthHandoverHappens:
    'a Primary whose application turns unhealthy while the run has no other fault and no operator action, and whose Secondary is live and healthy, is replaced by the Secondary within healthHandoverDeadline (rule 10)',
  oneHealthHandoverPerPeriod: 'two handovers for application health start at least allowed_absence_interval / (1 + MAX_CLOCK_RATE_DRIFT) of true time apart (rule 10: no flapping)',
} as const;

/** A property's name. */
export type PropertyName = keyof typeof PROPERTY_DESCRIPTIONS;

/** Every property name, in the order above. */
export const PROPERTY_NAMES = Object.keys(PROPERTY_DESCRIPTIONS) as PropertyName[];

/** A property that failed, at a simulated instant. */
export interface Violation {
  readonly property: PropertyName;
  /** Simulated time (ms) of the failure. */
  readonly t: number;
  readonly message: string;
}

/** The slowest legal clock rate: a node's timer of T ms takes at most T / SLOWEST_RATE ms of true time. */
export const SLOWEST_RATE = 1 - MAX_CLOCK_RATE_DRIFT;
/** The fastest legal clock rate: a node's timer of T ms takes at least T / FASTEST_RATE ms of true time. */
export const FASTEST_RATE = 1 + MAX_CLOCK_RATE_DRIFT;

/** The group timers a scenario runs with (what `loadSettings` makes of its group settings). */
export function scenarioTimers(scenario: Pick<Scenario, 'group'>): NodeTimers {
  return loadSettings({ node_id: 'a', external_ipv4_address: '127.0.0.2', ...scenario.group }).timers;
}

/** When and how `convergence` is checked in a scenario (all times ms of simulated true time). */
export interface ConvergenceTiming {
  /**
   * When the scenario falls quiet: the latest end of a fault (a crash without restart counts at its instant: the
   * node stays down, nothing changes after) and the latest operator action.
   */
  readonly quietFromMs: number;
  /** How long after `quietFromMs` the group must have converged: see {@link convergenceTiming}. */
  readonly boundMs: number;
  /** `quietFromMs + boundMs`: from here to the end of the run the property is checked at every instant. */
  readonly checkedFromMs: number;
  /** The Secondary's seen (epoch, seq) must have risen within this much time, at every checked instant. */
  readonly progressWindowMs: number;
  /** Whether the run checks it: it lasts until `checkedFromMs` and some node is up after `quietFromMs`. */
  readonly checked: boolean;
}

/**
 * When the `convergence` property is checked, and its bound, derived from the scenario's settings.
 *
 * With r = 1 − MAX_CLOCK_RATE_DRIFT (a timer of T ms on the slowest legal clock takes T / r ms), D = 2 × the
 * largest DNS delay (one DNS round trip), P = 2 × the largest peer delay (one peer round trip), O = request timeout
 * / r (the longest a node waits for an answer), n = ⌈allowed_absence_interval / health_check_interval⌉ + 1 (standby
 * checks in one failover period, each adding a DNS round trip, as in `failoverHappens`), the bound is
 *
 *     B = (lease + allowed_absence_interval + (N − 2) × health_check_interval + health_check_interval + health_report_interval) / r
 *         + (n + 3) × D + 2 × O + P
 *
 * for a group of N members, because once no fault is left, the slowest way to one Primary is: a node that acts on a
 * lease confirmed before the quiet time goes on acting until it runs out (lease / r) without being able to extend it
 * (it lost its records); another node then measures one failover period of silence after its last heartbeat, and in
 * a group of more than two up to N − 2 standby checks more for its rank in the takeover order (the Secondaries ahead
 * of it may be the ones that cannot act), checking DNS every standby check ((absence + rank delay + check) / r + n ×
 * D); it takes over (a confirming read and the compare-and-swap, 2 × D) and the
 * loser of any race reads the records again (D); a manual failover issued at the quiet time costs at most a
 * request's answer or timeout each way (2 × O + P; a forced takeover's wait for the old lease is a failover period,
 * which the sum already holds); and the new Primary's first heartbeat reaches the Secondary (health_report_interval
 * / r, within the progress window below).
 *
 * The progress window is W = health_report_interval / r + the largest peer delay + 1 ms: the Primary sends a
 * heartbeat every interval on its own clock and a fault-free link delivers each one within the largest delay.
 */
export function convergenceTiming(scenario: Scenario, timers: NodeTimers = scenarioTimers(scenario)): ConvergenceTiming {
  const { heartbeatIntervalMs, checkIntervalMs, absenceMs, leaseMs } = timers;
  const dnsRoundTrip = 2 * scenario.network.dnsDelayMs[1];
  const peerRoundTrip = 2 * scenario.network.peerDelayMs[1];
  const timeout = scenario.network.requestTimeoutMs / SLOWEST_RATE;
  const checks = Math.ceil(absenceMs / checkIntervalMs) + 1;
  // Rule 10: an application fault that ended at the quiet time is seen to end at the next check (2 intervals and a
  // timeout cover a check under way and the next one); only then may an unhealthy Secondary take over.
  const health = scenario.applicationHealth;
  const healthMs = health === undefined ? 0 : (2 * health.intervalMs + health.timeoutMs) / SLOWEST_RATE;
  // Takeover order: in a group of N > 2 the last Secondary in line waits (N − 2) standby checks more (rank delay).
  const members = scenarioMembers(scenario);
  const rankDelayMs = (members - 2) * checkIntervalMs;
  const boundMs = (leaseMs + absenceMs + rankDelayMs + checkIntervalMs + heartbeatIntervalMs) / SLOWEST_RATE + healthMs + (checks + 3) * dnsRoundTrip + 2 * timeout + peerRoundTrip;
  const progressWindowMs = heartbeatIntervalMs / SLOWEST_RATE + scenario.network.peerDelayMs[1] + 1;
  const quietFromMs = quietFrom(scenario);
  const checkedFromMs = quietFromMs + boundMs;
  const downForGood = new Set(scenario.faults.flatMap((fault) => (fault.kind === 'crash' && fault.restartAfter === null ? [fault.node] : [])));
  return { quietFromMs, boundMs, checkedFromMs, progressWindowMs, checked: checkedFromMs <= scenario.durationMs && downForGood.size < members };
}

/**
 * Rule 10: the latest instant by which the Secondary must act as Primary after the Primary's application turned
 * unhealthy at `faultAt`, the Primary having been in state primary since `primarySince` (all ms of true time).
 * With I the check interval, K = health_failures, r = 1 − MAX_CLOCK_RATE_DRIFT, P = 2 × the largest peer delay and
 * D = 2 × the largest DNS delay:
 *
 *     max(faultAt + K × I / r, primarySince + (I + allowed_absence_interval) / r, primarySince + (health_report_interval + I) / r + P)
 *       + I / r + 2 × P + 2 × D + 1 ms
 *
 * because the K-th failed check ends by faultAt + K × I / r (the first starts within an interval); the Primary may
 * hand over for health a failover period after its first check while acting (within an interval of primarySince);
 * it needs an acknowledgement that carries the Secondary's healthy verdict (the Secondary checks at once when it
 * starts; a heartbeat interval and a peer round trip); the check after all three triggers the handover (I / r);
 * then the probe (a peer round trip and the Secondary's DNS read) and the offer (a peer round trip and the
 * takeover's compare-and-swap).
 */
export function healthHandoverDeadline(scenario: Scenario, timers: NodeTimers, faultAt: number, primarySince: number): number {
  const health = scenario.applicationHealth;
  if (health === undefined) return Infinity;
  const interval = health.intervalMs / SLOWEST_RATE;
  const peerRoundTrip = 2 * scenario.network.peerDelayMs[1];
  const dnsRoundTrip = 2 * scenario.network.dnsDelayMs[1];
  const ready = Math.max(
    faultAt + health.failures * interval,
    primarySince + interval + timers.absenceMs / SLOWEST_RATE,
    primarySince + interval + timers.heartbeatIntervalMs / SLOWEST_RATE + peerRoundTrip,
  );
  return ready + interval + 2 * peerRoundTrip + 2 * dnsRoundTrip + 1;
}

/** The instant after which no fault and no operator action changes anything (see ConvergenceTiming.quietFromMs). */
export function quietFrom(scenario: Pick<Scenario, 'faults' | 'workload'>): number {
  let quiet = 0;
  for (const fault of scenario.faults) quiet = Math.max(quiet, fault.kind === 'crash' && fault.restartAfter === null ? fault.at : faultEnd(fault));
  for (const op of scenario.workload) quiet = Math.max(quiet, op.at);
  return quiet;
}
