/**
 * The exporters draw every state and transition of the model, and the SVG carries the element ids the inspector
 * page highlights. The layout is deterministic, which the docs staleness check depends on.
 */
import { describe, expect, it } from 'vitest';
import { allStates, chartModel, transitionLabel, type ChartTransition } from '../src/inspect/chartModel.js';
import { toDot } from '../src/inspect/dot.js';
import { mermaidId, toMermaid } from '../src/inspect/mermaid.js';
import { renderChartSvg, stateElementId } from '../src/inspect/svg.js';
import { layoutChart } from '../src/inspect/chartLayout.js';
import { foldLabel, shortLine } from '../src/inspect/chartEdges.js';

const model = chartModel();
const states = allStates(model).filter((state) => state.id !== '');
const withTargets = model.transitions.filter((t) => t.targets.length > 0);

describe('mermaid', () => {
  const text = toMermaid(model);
  it('declares every state and draws every transition with a target as one line', () => {
    for (const state of states) expect(text).toContain(`as ${mermaidId(state.id)}`);
    const arrows = text.split('\n').filter((line) => /^\s*\S+ --> \S+ : /.test(line));
    expect(arrows).toHaveLength(withTargets.reduce((n, t) => n + t.targets.length, 0));
    expect(text).toContain('member_following_secondary_checking --> member_following_takingOver : done#58; readGroupRecords [primaryIsAbsent]');
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
    expect(text).toContain(`"member.following.secondary::anchor" -> "member.following.requestingStepDown::anchor" [label="FAILOVER_REQUESTED", ltail="cluster_member.following.secondary", lhead="cluster_member.following.requestingStepDown"]`);
  });
});

describe('svg', () => {
  it('has an element per state with its id, every transition on one edge (guards in its tooltip), and is the same every time', async () => {
    const first = await renderChartSvg(model);
    const second = await renderChartSvg(model);
    expect(second).toBe(first);
    for (const state of states) expect(first).toContain(`id="${stateElementId(state.id)}" data-state="${state.id}"`);
    const onEdges = [...first.matchAll(/data-transitions="([^"]*)"/g)].flatMap((match) => match[1]!.split(' '));
    const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    for (const transition of withTargets.filter((t) => t.source !== '')) {
      expect(onEdges.filter((id) => id === transition.id), `${transition.id} ${transitionLabel(transition)}`).toHaveLength(1);
      expect(first).toContain(escape(transitionLabel(transition)));
    }
    // The machine's own transitions are one note, not an edge from every state.
    for (const transition of withTargets.filter((t) => t.source === '')) expect(first).toContain(`${escape(transitionLabel(transition))} → ${transition.targets[0]}`);
    expect(first).not.toMatch(/NaN|undefined/);
  });
});

describe('layout', () => {
  it('keeps children inside their parents and every edge label on its edge', async () => {
    const layout = await layoutChart(model);
    const boxes = new Map(layout.states.map((laid) => [laid.state.id, laid]));
    for (const laid of layout.states) {
      const parent = laid.state.id.includes('.') ? boxes.get(laid.state.id.slice(0, laid.state.id.lastIndexOf('.'))) : undefined;
      if (parent === undefined) continue;
      expect(laid.x >= parent.x && laid.y >= parent.y && laid.x + laid.width <= parent.x + parent.width + 0.5 && laid.y + laid.height <= parent.y + parent.height + 0.5, `${laid.state.id} inside ${parent.state.id}`).toBe(true);
    }
    for (const edge of layout.edges.filter((e) => e.label !== null)) {
      const label = edge.label!;
      // The distance from the label's box to the nearest segment of its own edge.
      const distance = Math.min(
        ...edge.points.slice(1).map((end, index) => {
          const start = edge.points[index]!;
          const [x0, x1] = [Math.min(start.x, end.x), Math.max(start.x, end.x)];
          const [y0, y1] = [Math.min(start.y, end.y), Math.max(start.y, end.y)];
          const dx = Math.max(0, x0 - (label.x + label.width), label.x - x1);
          const dy = Math.max(0, y0 - (label.y + label.height), label.y - y1);
          return Math.hypot(dx, dy);
        }),
      );
      expect(distance, `label "${label.lines.join(' / ')}" of ${edge.source} -> ${edge.target}`).toBeLessThanOrEqual(6);
    }
  });
});

describe('layout: edges', () => {
  it('draws every edge as one orthogonal polyline from its source box to its target box, through the borders it crosses', async () => {
    const layout = await layoutChart(model);
    const boxes = new Map(layout.states.map((laid) => [laid.state.id, laid]));
    // How far a point is from a state's box (0: on or inside it).
    const gap = (point: { x: number; y: number }, stateId: string): number => {
      const box = boxes.get(stateId)!;
      return Math.hypot(Math.max(box.x - point.x, 0, point.x - (box.x + box.width)), Math.max(box.y - point.y, 0, point.y - (box.y + box.height)));
    };
    const drawn = layout.edges.filter((edge) => !edge.initial);
    // Some edges leave or enter a compound state (joined from pieces laid out in different graphs).
    expect(drawn.some((edge) => edge.source.split('.').length !== edge.target.split('.').length)).toBe(true);
    for (const edge of drawn) {
      const name = `${edge.source} -> ${edge.target}`;
      edge.points.slice(1).forEach((end, index) => {
        const start = edge.points[index]!;
        expect(Math.abs(start.x - end.x) < 0.5 || Math.abs(start.y - end.y) < 0.5, `${name}: segment ${index} is not horizontal or vertical`).toBe(true);
      });
      expect(gap(edge.points[0]!, edge.source), `${name} starts on its source`).toBeLessThan(0.5);
      expect(gap(edge.points.at(-1)!, edge.target), `${name} ends on its target`).toBeLessThan(0.5);
    }
  });

  it('has no edge running across the chart (over half its width and height, or three quarters of either)', async () => {
    const layout = await layoutChart(model);
    for (const edge of layout.edges) {
      const xs = edge.points.map((point) => point.x);
      const ys = edge.points.map((point) => point.y);
      const wide = (Math.max(...xs) - Math.min(...xs)) / layout.width;
      const tall = (Math.max(...ys) - Math.min(...ys)) / layout.height;
      expect((wide <= 0.5 || tall <= 0.5) && wide <= 0.75 && tall <= 0.75, `${edge.source} -> ${edge.target} spans ${wide.toFixed(2)} x ${tall.toFixed(2)} of the chart`).toBe(true);
    }
  });
});

describe('foldLabel', () => {
  const t = (trigger: ChartTransition['trigger'], guard: string | null): ChartTransition => ({ id: 'x', source: 'a', targets: ['b'], trigger, guard, actions: [], reenter: false });
  it('puts the guards of one trigger together, joins done and error of one actor, and wraps long lines', () => {
    const done = { kind: 'done', src: 'readGroupRecords' } as const;
    const error = { kind: 'error', src: 'readGroupRecords' } as const;
    expect(foldLabel([t(done, null), t(error, null)])).toEqual(['done|error: readGroupRecords']);
    expect(foldLabel([t(done, 'isNewer'), t(done, null), t(error, null)])).toEqual(['done: readGroupRecords [isNewer |', '  else]', 'error: readGroupRecords']);
    expect(foldLabel([t(done, 'isNewer'), t(done, null)], false)).toEqual(['done: readGroupRecords […]']);
    expect(foldLabel([t({ kind: 'event', event: 'GO' }, 'a'), t({ kind: 'event', event: 'GO' }, 'b')])).toEqual(['GO [a | b]']);
  });
  it('shortens an actor outcome to a mark for the picture, and leaves other lines alone', () => {
    expect(['done|error: probeHandover', 'done: readGroupRecords […]', '  error: takeOverRecords', 'after standbyCheckInterval', 'GO [a |'].map(shortLine)).toEqual([
      '✓✗ probeHandover',
      '✓ readGroupRecords […]',
      '  ✗ takeOverRecords',
      'after standbyCheckInterval',
      'GO [a |',
    ]);
  });
});
