/**
 * The chart as a Mermaid `stateDiagram-v2`, for Markdown viewers that draw Mermaid (GitHub, GitLab, many IDEs).
 */
import { ANY_STATE_LABEL, chartModel, hasAnyStateTransitions, stateDetails, transitionLabel, type ChartModel, type ChartState } from './chartModel.js';

/**
 * Renders `model` (default: the node machine's chart) as Mermaid text. States keep their keys as labels; ids are
 * the state paths with `_` for `.`, since Mermaid ids cannot hold dots. The machine's own transitions start at a
 * pseudo state `(any state)`; transitions that stay in their state are listed in the state's description.
 *
 * @example
 * toMermaid().startsWith('stateDiagram-v2') // true
 */
export function toMermaid(model: ChartModel = chartModel()): string {
  const lines = ['---', `title: ${model.machineId} statechart (generated from the machine definition)`, '---', 'stateDiagram-v2'];
  if (model.root.initial !== null) lines.push(`  [*] --> ${mermaidId(model.root.initial)}`);
  for (const state of model.root.children) lines.push(...stateLines(model, state, '  '));
  if (hasAnyStateTransitions(model)) {
    lines.push(`  state "${ANY_STATE_LABEL}" as ${ANY}`);
    for (const line of stateDetails(model, '')) lines.push(`  ${ANY} : ${text(line)}`);
  }
  for (const transition of model.transitions) {
    for (const target of transition.targets) {
      lines.push(`  ${transition.source === '' ? ANY : mermaidId(transition.source)} --> ${mermaidId(target)} : ${text(transitionLabel(transition))}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const ANY = 'anyState';

function stateLines(model: ChartModel, state: ChartState, indent: string): string[] {
  const id = mermaidId(state.id);
  const lines: string[] = [];
  const label = state.type === 'parallel' ? `${state.key} (parallel)` : state.key;
  if (state.children.length === 0) {
    lines.push(`${indent}state "${label}" as ${id}`);
  } else {
    lines.push(`${indent}state "${label}" as ${id} {`);
    if (state.initial !== null) lines.push(`${indent}  [*] --> ${mermaidId(state.initial)}`);
    state.children.forEach((child, index) => {
      // Mermaid separates the regions of a parallel state with `--`.
      if (state.type === 'parallel' && index > 0) lines.push(`${indent}  --`);
      lines.push(...stateLines(model, child, `${indent}  `));
    });
    lines.push(`${indent}}`);
  }
  for (const detail of stateDetails(model, state.id)) lines.push(`${indent}${id} : ${text(detail)}`);
  return lines;
}

/** A state path as a Mermaid id. */
export function mermaidId(stateId: string): string {
  return stateId.replace(/\./g, '_');
}

/** Mermaid ends a label at a colon and reads `#...;` as an entity: write both as entities. */
function text(value: string): string {
  return value.replace(/#/g, '#35;').replace(/:/g, '#58;');
}
