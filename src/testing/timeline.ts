import type { TraceEntry } from './trace.js';

/**
 * One trace entry as a line of a readable timeline: simulated time in seconds, the node, what happened.
 *
 * @example
 * formatTimelineLine({ kind: 'fault', t: 1500, action: 'start', fault: 'crash a', node: 'a' })
 * // '    1.500 s  a   FAULT start: crash a'
 */
export function formatTimelineLine(entry: TraceEntry): string {
  const who = 'node' in entry && entry.node !== undefined ? entry.node : entry.kind === 'message' ? entry.from : '-';
  return `${(entry.t / 1000).toFixed(3).padStart(9)} s  ${who.padEnd(3)} ${describe(entry)}`;
}

/**
 * A trace as a readable timeline, one line per entry; `filter` keeps only some kinds (default: all but the
 * routine message and DNS traffic when `quiet` is set).
 *
 * @example
 * console.log(formatTimeline(result.trace.entries, { quiet: true }));
 */
export function formatTimeline(entries: readonly TraceEntry[], options: { quiet?: boolean; from?: number; to?: number } = {}): string {
  const from = options.from ?? -Infinity;
  const to = options.to ?? Infinity;
  return entries
    .filter((entry) => entry.t >= from && entry.t <= to && (!options.quiet || !isRoutine(entry)))
    .map(formatTimelineLine)
    .join('\n');
}

/** Heartbeat traffic that went as planned, and a Secondary's progress: hidden from a quiet timeline. */
function isRoutine(entry: TraceEntry): boolean {
  if (entry.kind === 'progress') return true;
  if (entry.kind === 'message') return entry.type === 'heartbeat' && entry.action !== 'drop' && entry.action !== 'timeout' && entry.action !== 'reply-drop';
  if (entry.kind === 'dns') return entry.action === 'request' || entry.action === 'answer' || (entry.action === 'served' && entry.op === 'read');
  if (entry.kind === 'transition') return !entry.state.match(/^(secondary|primary|takingOver|resolving|reclaiming|disconnected|orphaned|notInGroup|handingOver|requestingStepDown|creatingGroup|dissolvingGroup)/) || isRoutineState(entry.state);
  return false;
}

function isRoutineState(state: string): boolean {
  return /primary\{.*(sending|writing)/.test(state) || state === 'secondary.checking';
}

function describe(entry: TraceEntry): string {
  switch (entry.kind) {
    case 'transition': {
      const lease = entry.leaseUntil === null || entry.leaseUntil === undefined ? '' : `, lease until ${(entry.leaseUntil / 1000).toFixed(3)} s`;
      // Traces of version 1 have no acting flag.
      const acting = entry.acting === undefined ? '' : entry.acting ? ', ACTING' : '';
      return `${entry.state}  <- ${entry.event}  (role ${entry.role ?? '-'}, epoch ${entry.epoch}, seq ${entry.seq ?? '-'}, dns ${entry.dnsConnection}${acting}${lease})`;
    }
    case 'acting':
      return entry.cause === 'crash' ? 'no longer acts: its process crashed' : 'no longer acts: its lease ran out';
    case 'progress':
      return `sees (epoch ${entry.epoch}, seq ${entry.seq})${entry.via === null ? '' : ` via ${entry.via}`}`;
    case 'emitted':
      return `emits ${entry.eventId} ${JSON.stringify(entry.detail)}`;
    case 'message':
      return `msg #${entry.id} ${entry.type} ${entry.from}->${entry.to} ${entry.action}${entry.detail === undefined ? '' : ` (${entry.detail})`}`;
    case 'dns':
      return `dns #${entry.id} ${entry.op} ${entry.action}${entry.records === undefined ? '' : ` A=${entry.records.address ?? '-'} TXT="${entry.records.txt ?? ''}"`}${entry.detail === undefined ? '' : ` (${entry.detail})`}`;
    case 'fault':
      return `FAULT ${entry.action}: ${entry.fault}`;
    case 'workload':
      return `workload ${entry.action} ${entry.outcome}${entry.detail === undefined ? '' : `: ${entry.detail}`}`;
    case 'violation':
      return `VIOLATION ${entry.property}: ${entry.message}`;
  }
}
