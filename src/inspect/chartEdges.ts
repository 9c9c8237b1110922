/**
 * The edges a picture of the chart draws, folded so it stays readable: one edge per source and target, its label
 * one line per trigger with the guards of that trigger together (`done: readGroupRecords [a | b | else]`), `done`
 * and `error` of the same actor on one line when neither is guarded, and transitions that return to their own state
 * (self-loops) kept apart, to be listed inside the state's box rather than drawn as loops.
 */
import { triggerLabel, type ChartModel, type ChartTransition } from './chartModel.js';

/** One drawn edge: every transition from `source` that enters `target`. */
export interface ChartEdge {
  /** The source state id; `''` is the machine itself (its transitions apply in every state). */
  readonly source: string;
  readonly target: string;
  /** The transitions the edge stands for, in document order. */
  readonly transitions: readonly ChartTransition[];
  /** The folded label, one trigger a line (see {@link foldLabel}). */
  readonly lines: readonly string[];
}

/** The widest a label line gets before its guards wrap onto the next line (characters). */
export const LABEL_WRAP = 28;

/**
 * The model's transitions with targets, grouped by source and target (each target of a multi-target transition
 * separately), in document order of their first transition.
 *
 * @example
 * chartEdges(chartModel()).find((edge) => edge.source === 'member.following.secondary.watching' && edge.target === 'member.following.secondary.checking')!.lines
 * // ['MAINTENANCE_REQUESTED [resumesGroup]', 'after standbyCheckInterval']
 */
export function chartEdges(model: ChartModel, options: { guards?: boolean } = {}): ChartEdge[] {
  const groups = new Map<string, { source: string; target: string; transitions: ChartTransition[] }>();
  for (const transition of model.transitions) {
    for (const target of transition.targets) {
      const key = `${transition.source}\u0000${target}`;
      const group = groups.get(key) ?? { source: transition.source, target, transitions: [] };
      group.transitions.push(transition);
      groups.set(key, group);
    }
  }
  return [...groups.values()].map((group) => ({ ...group, lines: foldLabel(group.transitions, options.guards ?? true) }));
}

/**
 * The label of an edge: one entry per trigger (in order of appearance) with its guards joined by `|` (an unguarded
 * transition after guarded ones of the same trigger reads `else`), `done` and `error` of one actor joined as
 * `done|error: <actor>` when neither is guarded; lines longer than {@link LABEL_WRAP} wrap between guards.
 *
 * @example
 * foldLabel([doneA, errorA]) // ['done|error: readGroupRecords']
 */
export function foldLabel(transitions: readonly ChartTransition[], guards = true): string[] {
  const byTrigger = new Map<string, (string | null)[]>();
  for (const transition of transitions) {
    const trigger = triggerLabel(transition.trigger);
    const guards = byTrigger.get(trigger) ?? [];
    guards.push(transition.guard);
    byTrigger.set(trigger, guards);
  }
  const entries: { trigger: string; guards: string[] }[] = [];
  for (const [trigger, guards] of byTrigger) {
    const named = guards.filter((guard): guard is string => guard !== null);
    const unguarded = guards.length > named.length;
    entries.push({ trigger, guards: named.length === 0 ? [] : [...named, ...(unguarded ? ['else'] : [])] });
  }
  // done/error of the same actor, both unguarded: one line.
  const folded: { trigger: string; guards: string[] }[] = [];
  for (const entry of entries) {
    const actor = /^(done|error): (.+)$/.exec(entry.trigger);
    const partner = actor === null || entry.guards.length > 0 ? undefined : folded.find((other) => other.guards.length === 0 && other.trigger === `${actor[1] === 'done' ? 'error' : 'done'}: ${actor[2]}`);
    if (partner !== undefined && actor !== null) partner.trigger = `done|error: ${actor[2]}`;
    else folded.push({ ...entry });
  }
  return folded.flatMap((entry) => (guards ? wrapGuards(entry.trigger, entry.guards) : [entry.guards.length > 0 ? `${entry.trigger} […]` : entry.trigger]));
}

/**
 * A label line as the SVG picture draws it, shorter: an invoked actor's outcome is a mark before the actor's name,
 * `✓` for done, `✗` for error, `✓✗` for both (`done: readGroupRecords […]` becomes `✓ readGroupRecords […]`). Other
 * lines come back unchanged; the picture's tooltips keep the full text.
 *
 * @example
 * shortLine('done|error: probeHandover') // '✓✗ probeHandover'
 */
export function shortLine(line: string): string {
  return line.replace(/^(\s*)(done\|error|done|error): /, (_match, indent: string, kind: string) => `${indent}${OUTCOME_MARKS[kind]} `);
}

const OUTCOME_MARKS: Record<string, string> = { 'done|error': '✓✗', done: '✓', error: '✗' };

function wrapGuards(trigger: string, guards: readonly string[]): string[] {
  if (guards.length === 0) return [trigger];
  const lines: string[] = [];
  let line = `${trigger} [`;
  guards.forEach((guard, index) => {
    const piece = `${guard}${index === guards.length - 1 ? ']' : ' |'}`;
    if (line.length > 2 && !line.endsWith('[') && line.length + 1 + piece.length > LABEL_WRAP) {
      lines.push(line);
      line = `  ${piece}`;
    } else {
      line = line.endsWith('[') ? `${line}${piece}` : `${line} ${piece}`;
    }
  });
  lines.push(line);
  return lines;
}
