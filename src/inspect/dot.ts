/**
 * The chart as Graphviz DOT, for `dot -Tsvg` and tools that read DOT. Compound and parallel states are clusters.
 */
import { ANY_STATE_LABEL, chartModel, hasAnyStateTransitions, stateDetails, transitionLabel, type ChartModel, type ChartState } from './chartModel.js';

/**
 * Renders `model` (default: the node machine's chart) as a DOT digraph. Node ids are the state paths; a compound
 * state is `cluster_<path>` with an invisible anchor node that its own transitions start and end at (Graphviz
 * draws them to the cluster's border with `ltail`/`lhead`).
 *
 * @example
 * toDot().startsWith('digraph') // true
 */
export function toDot(model: ChartModel = chartModel()): string {
  const lines = [
    `digraph ${quote(model.machineId)} {`,
    '  compound=true; rankdir=TB; fontname="monospace";',
    '  node [shape=box, style=rounded, fontname="monospace", fontsize=10];',
    '  edge [fontname="monospace", fontsize=9];',
    `  label=${quote(`${model.machineId} statechart (generated from the machine definition)`)}; labelloc=t;`,
  ];
  const compound = new Set<string>();
  if (model.root.initial !== null) {
    lines.push(`  ${quote(initialId(''))} [shape=point, width=0.12];`, `  ${quote(initialId(''))} -> ${quote(model.root.initial)};`);
  }
  for (const state of model.root.children) lines.push(...stateLines(model, state, compound, '  '));
  if (hasAnyStateTransitions(model)) {
    lines.push(`  ${quote(ANY)} [style="rounded,dashed", label=${quote(leftAligned([ANY_STATE_LABEL, ...stateDetails(model, '')]))}];`);
  }
  for (const transition of model.transitions) {
    for (const target of transition.targets) {
      const source = transition.source === '' ? ANY : transition.source;
      const attributes = [`label=${quote(transitionLabel(transition))}`];
      if (compound.has(source)) attributes.push(`ltail=${quote(clusterId(source))}`);
      if (compound.has(target)) attributes.push(`lhead=${quote(clusterId(target))}`);
      lines.push(`  ${quote(endpoint(source, compound))} -> ${quote(endpoint(target, compound))} [${attributes.join(', ')}];`);
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

const ANY = ANY_STATE_LABEL;

function stateLines(model: ChartModel, state: ChartState, compound: Set<string>, indent: string): string[] {
  const details = stateDetails(model, state.id);
  if (state.children.length === 0) {
    return [`${indent}${quote(state.id)} [label=${quote(leftAligned([state.key, ...details]))}];`];
  }
  compound.add(state.id);
  const title = state.type === 'parallel' ? `${state.key} (parallel)` : state.key;
  const lines = [
    `${indent}subgraph ${quote(clusterId(state.id))} {`,
    `${indent}  label=${quote(leftAligned([title, ...details]))}; labeljust=l; style=${state.type === 'parallel' ? '"rounded,filled"' : 'rounded'}; fillcolor="#f5f7fa";`,
    `${indent}  ${quote(anchorId(state.id))} [shape=point, style=invis, width=0.01];`,
  ];
  if (state.initial !== null) {
    lines.push(`${indent}  ${quote(initialId(state.id))} [shape=point, width=0.12];`, `${indent}  ${quote(initialId(state.id))} -> ${quote(endpoint(state.initial, compound, state))};`);
  }
  for (const child of state.children) lines.push(...stateLines(model, child, compound, `${indent}  `));
  lines.push(`${indent}}`);
  return lines;
}

/** Where an edge to or from `id` attaches: the state itself, or a compound state's anchor. */
function endpoint(id: string, compound: ReadonlySet<string>, parent?: ChartState): string {
  const isCompound = compound.has(id) || (parent?.children.find((child) => child.id === id)?.children.length ?? 0) > 0;
  return isCompound ? anchorId(id) : id;
}

function clusterId(id: string): string {
  return `cluster_${id}`;
}
function anchorId(id: string): string {
  return `${id}::anchor`;
}
function initialId(id: string): string {
  return `${id}::initial`;
}

/** DOT's `\\l` ends a left-aligned line. */
function leftAligned(lines: readonly string[]): string {
  return `${lines.join('\\l')}\\l`;
}

function quote(value: string): string {
  return `"${value.replace(/\\(?!l)/g, '\\\\').replace(/"/g, '\\"')}"`;
}
