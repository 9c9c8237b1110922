import type { ReplayNote, ReplayStep, ReplayTrace } from './replayTrace.js';

/**
 * One group's trace from the traces of its nodes (each node's event log, saved from `/ag/inspect/log`): every step
 * and note on one time line, in time order. Node logs count time from their own start, so they are lined up by
 * their wall-clock times (`at`): display only, as good as the two clocks agree. A single trace comes back as it is.
 *
 * @example
 * const group = mergeReplayTraces([readReplayTrace(logOfA), readReplayTrace(logOfB)]);
 * group.nodes // ['a', 'b']
 */
export function mergeReplayTraces(traces: readonly ReplayTrace[]): ReplayTrace {
  if (traces.length === 1) return traces[0]!;
  // Each trace's start on the wall clock: its first step's wall time minus that step's t.
  const starts = traces.map((trace) => {
    const first = trace.steps.find((step) => step.at !== null && !Number.isNaN(Date.parse(step.at)));
    return first === undefined ? null : Date.parse(first.at!) - first.t;
  });
  const known = starts.filter((start): start is number => start !== null);
  const base = known.length === traces.length ? Math.min(...known) : null;
  const steps: { step: ReplayStep; order: number }[] = [];
  const notes: { note: ReplayNote; order: number }[] = [];
  traces.forEach((trace, index) => {
    const offset = base === null ? 0 : starts[index]! - base;
    const shift = (t: number): number => Math.round((t + offset) * 1000) / 1000;
    trace.steps.forEach((step) => steps.push({ step: { ...step, t: shift(step.t) }, order: steps.length }));
    trace.notes.forEach((note) => notes.push({ note: { ...note, t: shift(note.t) }, order: notes.length }));
  });
  steps.sort((x, y) => x.step.t - y.step.t || x.order - y.order);
  notes.sort((x, y) => x.note.t - y.note.t || x.order - y.order);
  const nodes = [...new Set(traces.flatMap((trace) => trace.nodes))];
  return {
    source: traces[0]!.source,
    title: `group of ${nodes.join(', ')} (${traces.length} traces)`,
    nodes,
    steps: steps.map(({ step }) => step),
    notes: notes.map(({ note }) => note),
  };
}
