/**
 * A run in a few lines: the verdict (every property kept, or the violation), then what happened: the timers, the
 * faults and operator actions, the takeovers, each node's role changes, the epochs DNS went through, and which
 * properties the run exercised. `npm run sim` prints it before (and instead of) the timeline.
 */
import { parseHeartbeatRecord } from '../dns/heartbeatRecord.js';
import { PROPERTY_NAMES } from './properties.js';
import { faultEnd, scenarioNodeIds } from './scenario.js';
import type { SimulationResult } from './simulation.js';
import { describeFault } from './simulation.js';
import type { TraceEntry } from './trace.js';

const seconds = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

/** The most items a summary line lists before it says how many more there were. */
const MOST_LISTED = 8;

function list(items: readonly string[], separator = '; '): string {
  if (items.length === 0) return 'none';
  const shown = items.slice(0, MOST_LISTED).join(separator);
  return items.length > MOST_LISTED ? `${shown}${separator}... (${items.length - MOST_LISTED} more)` : shown;
}

/**
 * The verdict of a run: `every property held` or the first violation (and how many more there were).
 *
 * @example
 * formatVerdict(result) // 'VIOLATION oneAnnouncedPrimary at 15.243 s: a (...) and b (...) both announce primary'
 */
export function formatVerdict(result: SimulationResult): string {
  const [first, ...rest] = result.violations;
  if (first === undefined) return 'Verdict: every property held.';
  const more = rest.length === 0 ? '' : ` (and ${rest.length} more violation${rest.length === 1 ? '' : 's'})`;
  return `Verdict: VIOLATION ${first.property} at ${seconds(first.t)}: ${first.message}${more}`;
}

/**
 * A short account of a run with a full trace (`runSimulation(scenario, { trace: true })`, the default), one line
 * per topic.
 *
 * @example
 * console.log(formatVerdict(result));
 * console.log(formatSummary(result));
 */
export function formatSummary(result: SimulationResult): string {
  const { scenario, trace } = result;
  const entries = trace.entries;
  const group = scenario.group;
  const network = scenario.network;
  const ids = scenarioNodeIds(scenario);
  const lines: string[] = [];
  lines.push(
    `Run: seed ${scenario.seed}, ${seconds(result.simulatedMs)} of ${seconds(scenario.durationMs)} simulated, ${result.events} happenings${trace.variant === null ? '' : `, broken variant ${trace.variant}`}`,
  );
  lines.push(
    `Timers: heartbeat ${group.health_report_interval * 1000} ms, standby check ${group.health_check_interval * 1000} ms, failover period ${group.allowed_absence_interval * 1000} ms${group.lease_duration === undefined ? '' : `, lease ${group.lease_duration * 1000} ms`}; delays peer ${range(network.peerDelayMs)}, DNS ${range(network.dnsDelayMs)}, request timeout ${network.requestTimeoutMs.toFixed(1)} ms; clock rates ${ids.map((id) => `${id} ${scenario.clocks[id]!.rate.toFixed(4)}`).join(', ')}`,
  );
  if (ids.length > 2) lines.push(`Members: ${ids.length} (${ids.join(', ')}; a created the group, the others joined in turn), coordination etcd${scenario.priorities === undefined ? '' : `, priorities ${ids.map((id) => `${id} ${scenario.priorities![id] ?? 100}`).join(', ')}`}`);
  lines.push(`Faults (${scenario.faults.length}): ${list(scenario.faults.map((fault) => `${seconds(fault.at)}${Number.isFinite(faultEnd(fault)) ? `-${seconds(faultEnd(fault))}` : ''} ${describeFault(fault)}`))}`);
  lines.push(`Operators (${scenario.workload.length}): ${list(scenario.workload.map((op) => `${seconds(op.at)} ${op.kind === 'maintenance' ? `${op.enabled ? 'pause' : 'resume'} on ${op.node}` : `failover ${op.kind === 'failoverBoth' ? (ids.length === 2 ? 'on both' : 'on every node') : `on ${op.node}`}`}`))}`);
  const takeovers = takeoversOf(entries);
  lines.push(`Takeovers (${takeovers.length}): ${list(takeovers)}`);
  for (const node of ids) {
    const changes = entries.flatMap((entry) =>
      entry.kind === 'emitted' && entry.node === node && entry.eventId === 'NODE_ROLE_CHANGED' ? [`${String(entry.detail.new)} ${seconds(entry.t)}`] : [],
    );
    lines.push(`Role changes of ${node} (${changes.length}): ${list(changes, ', ')}`);
  }
  lines.push(`Epochs in DNS: ${list(epochsOf(entries), ' -> ')}`);
  if (result.failoverTimes.length > 0) lines.push(`Failovers after a crash took: ${result.failoverTimes.map((ms) => `${ms.toFixed(1)} ms`).join(', ')}`);
  const timing = result.convergence;
  const convergence = !timing.checked
    ? `not checked (the run ends at ${seconds(scenario.durationMs)})`
    : result.exercised.includes('convergence')
      ? `checked from ${seconds(timing.checkedFromMs)}`
      : `due from ${seconds(timing.checkedFromMs)}, not reached (the run stopped at ${seconds(result.simulatedMs)})`;
  lines.push(`Convergence: ${convergence}; quiet from ${seconds(timing.quietFromMs)}, bound ${timing.boundMs.toFixed(1)} ms`);
  const exercised = new Set(result.exercised);
  const idle = PROPERTY_NAMES.filter((name) => !exercised.has(name) && name !== 'determinism');
  lines.push(`Properties exercised: ${list([...exercised], ', ')}; not arising in this run: ${list(idle, ', ')}`);
  return lines.join('\n');
}

function range([min, max]: readonly [number, number]): string {
  return `${min.toFixed(1)}-${max.toFixed(1)} ms`;
}

/** Each takeover a node started, and whether its compare-and-swap went through. */
function takeoversOf(entries: readonly TraceEntry[]): string[] {
  const won = new Set<string>();
  for (const entry of entries) {
    if (entry.kind !== 'dns' || entry.op !== 'update' || entry.action !== 'served' || entry.records?.txt == null) continue;
    const heartbeat = parseHeartbeatRecord(entry.records.txt);
    if (heartbeat !== null) won.add(`${heartbeat.holder}@${heartbeat.epoch}`);
  }
  return entries.flatMap((entry) => {
    if (entry.kind !== 'emitted' || entry.eventId !== 'TAKEOVER_STARTED') return [];
    const epoch = Number(entry.detail.epoch);
    return [`${seconds(entry.t)} ${entry.node} ${String(entry.detail.mode)} for epoch ${epoch}${won.has(`${entry.node}@${epoch}`) ? '' : ' (not written)'}`];
  });
}

/** The epochs the TXT record went through, with their holders and when each first appeared. */
function epochsOf(entries: readonly TraceEntry[]): string[] {
  const epochs: string[] = [];
  let last = -1;
  for (const entry of entries) {
    if (entry.kind !== 'dns' || entry.op !== 'update' || entry.action !== 'served' || entry.records?.txt == null) continue;
    const heartbeat = parseHeartbeatRecord(entry.records.txt);
    if (heartbeat === null || heartbeat.epoch === last) continue;
    last = heartbeat.epoch;
    epochs.push(`${heartbeat.epoch} ${heartbeat.holder} (${seconds(entry.t)})`);
  }
  return epochs;
}
