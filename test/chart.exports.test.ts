/**
 * The exporters draw every state and transition of the model, and the SVG carries the element ids the inspector
 * page highlights. The layout is deterministic, which the docs staleness check depends on.
 */
import { describe, expect, it } from 'vitest';
import { allStates, chartModel, transitionLabel } from '../src/inspect/chartModel.js';
import { toDot } from '../src/inspect/dot.js';
import { mermaidId, toMermaid } from '../src/inspect/mermaid.js';
import { renderChartSvg, stateElementId } from '../src/inspect/svg.js';

const model = chartModel();
const states = allStates(model).filter((state) => state.id !== '');
const withTargets = model.transitions.filter((t) => t.targets.length > 0);

describe('mermaid', () => {
  const text = toMermaid(model);
  it('declares every state and draws every transition with a target as one line', () => {
    for (const state of states) expect(text).toContain(`as ${mermaidId(state.id)}`);
    const arrows = text.split('\n').filter((line) => /^\s*\S+ --> \S+ : /.test(line));
    expect(arrows).toHaveLength(withTargets.reduce((n, t) => n + t.targets.length, 0));
    expect(text).toContain('secondary_checking --> takingOver : done#58; readGroupRecords [primaryIsAbsent]');
    expect(text).toContain('  --\n'); // the parallel state's region separator
  });
  it('has no colon in a label that would cut it short', () => {
    for (const line of text.split('\n').filter((l) => l.includes(' --> ') && l.includes(' : '))) {
      expect(line.split(' : ')[1]).not.toContain(':');
    }
  });
});

describe('dot', () => {
  const text = toDot(model);
  it('is one balanced digraph with a cluster per compound state and an edge per transition target', () => {
    expect(text.startsWith('digraph "agNode" {')).toBe(true);
    expect(text.split('{').length).toBe(text.split('}').length);
    for (const state of states.filter((s) => s.children.length > 0)) expect(text).toContain(`subgraph "cluster_${state.id}"`);
    const edges = text.split('\n').filter((line) => line.includes(' -> ') && line.includes('label='));
    expect(edges).toHaveLength(withTargets.reduce((n, t) => n + t.targets.length, 0));
    // Between compound states, an edge runs from anchor to anchor, clipped at both clusters.
    expect(text).toContain(`"secondary::anchor" -> "requestingStepDown::anchor" [label="FAILOVER_REQUESTED", ltail="cluster_secondary", lhead="cluster_requestingStepDown"]`);
  });
});

describe('svg', () => {
  it('has an element per state with its id, every transition label, and is the same every time', async () => {
    const first = await renderChartSvg(model);
    const second = await renderChartSvg(model);
    expect(second).toBe(first);
    for (const state of states) expect(first).toContain(`id="${stateElementId(state.id)}" data-state="${state.id}"`);
    for (const transition of withTargets) {
      expect(first).toContain(`>${transitionLabel(transition).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</text>`);
    }
    expect(first).not.toMatch(/NaN|undefined/);
  });
});
