/**
 * What the inspector replays: the transitions of one or two nodes in time order, with notes (faults, emitted
 * events, property violations) between them. Read from a simulator trace (`ag-sim-trace`, docs/trace-format.md)
 * or a node event log (`ag-node-log`, JSON lines).
 */
import type { z } from 'zod';
import { TraceFormatError } from '../../api/errors.js';
import { lazySchema } from '../../api/lazyZod.js';
import { activeStateIdsOfLabel, chartModel, eventLabel, type ChartModel } from '../../inspect/chartModel.js';
import { parseStateLabel } from '../../inspect/parseStateLabel.js';
import { NODE_LOG_FORMAT, type NodeLogEntry } from './nodeEventLog.js';

/**
 * One transition of one node: the fields of a node log entry (`t` is simulated time for a simulator trace), and the
 * chart ids of the active states, read from the label, for highlighting.
 */
export type ReplayStep = Pick<NodeLogEntry, 't' | 'node' | 'state' | 'event' | 'eventLabel' | 'role' | 'epoch' | 'seq' | 'dnsConnection'> & {
  readonly activeIds: readonly string[];
  /** Wall-clock time of a node log entry (display, and lining up two nodes' logs); null in a simulator trace. */
  readonly at: string | null;
};

/** Something else that happened, shown between the steps. */
export interface ReplayNote {
  readonly t: number;
  readonly node: string | null;
  readonly kind: string;
  readonly text: string;
}

/** A trace ready to replay. */
export interface ReplayTrace {
  readonly source: 'ag-sim-trace' | typeof NODE_LOG_FORMAT;
  readonly title: string;
  /** The node ids, in order of first appearance. */
  readonly nodes: readonly string[];
  readonly steps: readonly ReplayStep[];
  readonly notes: readonly ReplayNote[];
}

/** A trace file could not be read (defined in the error catalogue). */
export { TraceFormatError };

/** The shapes of a trace's documents and lines, built (and zod loaded) on first use. */
const schemas = lazySchema((z) => {
  const transitionFields = {
    kind: z.literal('transition'),
    t: z.number(),
    node: z.string(),
    state: z.string(),
    event: z.string(),
    role: z.string().nullable(),
    epoch: z.number(),
    seq: z.number().nullable(),
    dnsConnection: z.string(),
  };
  const simTransition = z.object(transitionFields);
  const otherEntry = z.looseObject({ kind: z.string(), t: z.number() });
  const simTrace = z.looseObject({
    format: z.literal('ag-sim-trace'),
    version: z.number(),
    variant: z.string().nullable().optional(),
    entries: z.array(z.looseObject({ kind: z.string() })),
  });
  const logHeader = z.object({ format: z.literal(NODE_LOG_FORMAT), version: z.number(), node: z.string() });
  const logEntry = z.looseObject(transitionFields);
  return { simTransition, otherEntry, simTrace, logHeader, logEntry };
});

/**
 * Reads a trace from its text: a simulator trace (one JSON document) or a node event log (JSON lines). Throws
 * {@link TraceFormatError} naming the line or entry and the field that is wrong; nothing is half read.
 *
 * @example
 * const trace = readReplayTrace(await readFile('counterexample.json', 'utf8'));
 * trace.steps.length // every transition, in time order
 */
export function readReplayTrace(text: string, model: ChartModel = chartModel()): ReplayTrace {
  const trimmed = text.trim();
  if (trimmed === '') throw new TraceFormatError('The trace is empty.');
  let whole: unknown;
  try {
    whole = JSON.parse(trimmed);
  } catch {
    // Not one JSON document: a node event log (JSON lines) or nothing this viewer reads.
    const first = parseJson(trimmed.split('\n', 1)[0]!, 'line 1');
    if (isObject(first) && first.format === NODE_LOG_FORMAT) return readNodeLog(trimmed, model);
    parseJson(trimmed, 'the trace');
  }
  if (isObject(whole) && whole.format === 'ag-sim-trace') return readSimTrace(whole, model);
  if (isObject(whole) && whole.format === NODE_LOG_FORMAT) return readNodeLog(trimmed, model);
  throw new TraceFormatError(`Not a trace this viewer reads: expected a simulator trace ("format": "ag-sim-trace") or a node event log (first line "format": "${NODE_LOG_FORMAT}").`);
}

function readSimTrace(document: Record<string, unknown>, model: ChartModel): ReplayTrace {
  const parsed = schemas().simTrace.safeParse(document);
  if (!parsed.success) throw new TraceFormatError(`Simulator trace: ${describe(parsed.error)}`);
  const steps: ReplayStep[] = [];
  const notes: ReplayNote[] = [];
  parsed.data.entries.forEach((raw, index) => {
    if (raw.kind === 'transition') {
      const entry = schemas().simTransition.safeParse(raw);
      if (!entry.success) throw new TraceFormatError(`Simulator trace, entry ${index}: ${describe(entry.error)}`);
      steps.push(toStep(entry.data, model, `Simulator trace, entry ${index}`));
      return;
    }
    const entry = schemas().otherEntry.safeParse(raw);
    if (!entry.success) throw new TraceFormatError(`Simulator trace, entry ${index}: ${describe(entry.error)}`);
    const note = noteOf(entry.data);
    if (note !== null) notes.push(note);
  });
  const variant = parsed.data.variant ?? null;
  return { source: 'ag-sim-trace', title: `simulator trace${variant === null ? '' : ` (variant ${variant})`}`, nodes: nodesOf(steps), steps, notes };
}

function readNodeLog(text: string, model: ChartModel): ReplayTrace {
  const lines = text.split('\n');
  const header = schemas().logHeader.safeParse(parseJson(lines[0]!, 'line 1'));
  if (!header.success) throw new TraceFormatError(`Node event log, line 1: ${describe(header.error)}`);
  const steps = lines.slice(1).flatMap((line, index) => {
    if (line.trim() === '') return [];
    const where = `line ${index + 2}`;
    const entry = schemas().logEntry.safeParse(parseJson(line, where));
    if (!entry.success) throw new TraceFormatError(`Node event log, ${where}: ${describe(entry.error)}`);
    const at = typeof entry.data.at === 'string' ? entry.data.at : null;
    return [{ ...toStep(entry.data, model, `Node event log, ${where}`), at }];
  });
  return { source: NODE_LOG_FORMAT, title: `event log of node ${header.data.node}`, nodes: nodesOf(steps), steps, notes: changeNotes(steps) };
}

/**
 * What a node log says besides its transitions, as notes: each change of role or epoch (kind `role`) and each change
 * of the DNS connection away from `connected` (kind `fault`), so a replay can jump to them.
 */
function changeNotes(steps: readonly ReplayStep[]): ReplayNote[] {
  const notes: ReplayNote[] = [];
  let previous: ReplayStep | null = null;
  for (const step of steps) {
    if (previous !== null && (previous.role !== step.role || previous.epoch !== step.epoch)) {
      notes.push({ t: step.t, node: step.node, kind: 'role', text: `role ${previous.role ?? '—'} → ${step.role ?? '—'}, epoch ${previous.epoch} → ${step.epoch} (${step.eventLabel})` });
    }
    if ((previous === null ? 'connected' : previous.dnsConnection) !== step.dnsConnection && step.dnsConnection !== 'connected') {
      notes.push({ t: step.t, node: step.node, kind: 'fault', text: `DNS connection ${step.dnsConnection} (${step.eventLabel})` });
    }
    previous = step;
  }
  return notes;
}

function toStep(entry: z.infer<ReturnType<typeof schemas>['simTransition']>, model: ChartModel, where: string): ReplayStep {
  const { t, node, state, event, role, epoch, seq, dnsConnection } = entry;
  let activeIds: string[];
  try {
    activeIds = activeStateIdsOfLabel(model, parseStateLabel(state));
  } catch (error) {
    throw new TraceFormatError(`${where}: ${(error as Error).message}`);
  }
  return { t, node, state, activeIds, event, eventLabel: eventLabel(model, event), role, epoch, seq, dnsConnection, at: null };
}

/** The entries worth showing beside the transitions; message and DNS traffic would drown them. */
function noteOf(entry: z.infer<ReturnType<typeof schemas>['otherEntry']>): ReplayNote | null {
  const node = typeof entry.node === 'string' ? entry.node : null;
  const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value ?? ''));
  switch (entry.kind) {
    case 'fault':
      return { t: entry.t, node, kind: 'fault', text: `fault ${text(entry.action)}: ${text(entry.fault)}` };
    case 'violation':
      return { t: entry.t, node, kind: 'violation', text: `VIOLATION ${text(entry.property)}: ${text(entry.message)}` };
    case 'emitted':
      return { t: entry.t, node, kind: 'emitted', text: `${text(entry.eventId)} ${text(entry.detail)}` };
    case 'workload':
      return { t: entry.t, node, kind: 'workload', text: `${text(entry.action)} ${text(entry.outcome)}${entry.detail === undefined ? '' : `: ${text(entry.detail)}`}` };
    default:
      return null;
  }
}

function nodesOf(steps: readonly ReplayStep[]): string[] {
  return [...new Set(steps.map((step) => step.node))];
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TraceFormatError(`${where} is not JSON: ${(error as Error).message}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(entry)'} ${issue.message}`).join('; ');
}
