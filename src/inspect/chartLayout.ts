/**
 * Lays the chart out with elkjs (the Eclipse Layout Kernel, layered algorithm): it handles nested and parallel
 * states and edges that cross levels, which a hand-written layout would not. Text is measured as monospace, so the
 * layout is the same on every machine and the generated picture can be compared byte for byte.
 */
import type elkBundle from 'elkjs/lib/elk.bundled.js';
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import { importOptional } from '../api/importOptional.js';
import { ANY_STATE_LABEL, hasAnyStateTransitions, stateDetails, transitionLabel, type ChartModel, type ChartState, type ChartTransition } from './chartModel.js';

/** Font metrics of the chart's monospace text. */
export const CHART_FONT = { size: 11, charWidth: 6.6, lineHeight: 14, titleSize: 12 } as const;

/**
 * elkjs, loaded on the first layout only (1.6 MB of code that importing the package or running a node does not
 * need); an optional peer dependency, so a missing one is an OptionalDependencyMissingError naming it.
 */
async function loadElk(): Promise<typeof elkBundle.default> {
  const module = await importOptional('elkjs', 'Laying out the statechart (agctl chart --format svg, npm run chart)', () => import('elkjs/lib/elk.bundled.js'));
  // elkjs is CommonJS (`module.exports = ELK`) but its typings declare an ES default export: at run time the
  // default import is the constructor itself.
  return module.default as unknown as typeof elkBundle.default;
}

const PAD = 8;
const INITIAL_DOT = 12;
/** The layout id of the pseudo state that stands for "in any state" (the machine's own transitions). */
export const ANY_STATE_ID = ANY_STATE_LABEL;

/** A positioned state box. Coordinates are absolute, in pixels. */
export interface LaidOutState {
  readonly state: ChartState;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** The lines under the title: entry actions, invoked actors, transitions that stay in the state. */
  readonly details: readonly string[];
  /** Whether this is a region of a parallel state (drawn dashed). */
  readonly region: boolean;
}

/** A positioned edge: one or more transitions with the same source and target. */
export interface LaidOutEdge {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  readonly transitions: readonly ChartTransition[];
  /** The polyline, absolute coordinates. */
  readonly points: readonly { x: number; y: number }[];
  readonly label: { readonly x: number; readonly y: number; readonly lines: readonly string[] } | null;
  /** Whether this edge points at an initial state (from its compound's initial dot). */
  readonly initial: boolean;
}

/** The laid-out chart. */
export interface ChartLayout {
  readonly width: number;
  readonly height: number;
  readonly states: readonly LaidOutState[];
  /** Initial-state dots and the "any state" pseudo state. */
  readonly pseudo: readonly { readonly id: string; readonly kind: 'initial' | 'any'; readonly x: number; readonly y: number; readonly width: number; readonly height: number }[];
  readonly edges: readonly LaidOutEdge[];
}

/**
 * Lays out `model`. Deterministic: the same model gives the same layout (ELK's layered algorithm with a fixed seed
 * and text measured as monospace).
 *
 * @example
 * const layout = await layoutChart(chartModel());
 * layout.states.find((s) => s.state.id === 'secondary')!.width // > 0
 */
export async function layoutChart(model: ChartModel): Promise<ChartLayout> {
  const ELK = await loadElk();
  const elk = new ELK();
  const details = new Map<string, string[]>();
  const graph = buildGraph(model, details);
  const laid = await elk.layout(graph);
  return readLayout(model, laid, details);
}

function buildGraph(model: ChartModel, details: Map<string, string[]>): ElkNode {
  const children: ElkNode[] = model.root.children.map((state) => stateNode(model, state, false, details));
  if (model.root.initial !== null) children.unshift(initialNode(''));
  if (hasAnyStateTransitions(model)) {
    const lines = stateDetails(model, '');
    details.set(ANY_STATE_ID, lines);
    children.push({ id: ANY_STATE_ID, ...boxSize(ANY_STATE_ID, lines) });
  }
  return {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '36',
      'elk.spacing.nodeNode': '24',
      'elk.spacing.edgeLabel': '4',
      'elk.layered.spacing.edgeNodeBetweenLayers': '16',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.randomSeed': '1',
      // Break cycles by definition order, so the picture reads like the machine file: start at the top.
      'elk.layered.cycleBreaking.strategy': 'MODEL_ORDER',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.json.shapeCoords': 'ROOT',
      'elk.json.edgeCoords': 'ROOT',
    },
    children,
    edges: edges(model),
  };
}

function stateNode(model: ChartModel, state: ChartState, region: boolean, details: Map<string, string[]>): ElkNode {
  const lines = stateDetails(model, state.id);
  details.set(state.id, lines);
  const title = region ? `${state.key} (region)` : state.type === 'parallel' ? `${state.key} (parallel)` : state.key;
  if (state.children.length === 0) return { id: state.id, ...boxSize(title, lines) };
  const children = state.children.map((child) => stateNode(model, child, state.type === 'parallel', details));
  if (state.initial !== null) children.unshift(initialNode(state.id));
  const header = CHART_FONT.lineHeight * (1 + lines.length) + PAD * 2;
  return {
    id: state.id,
    layoutOptions: {
      'elk.padding': `[top=${header},left=${PAD * 2},bottom=${PAD * 2},right=${PAD * 2}]`,
      'elk.nodeSize.constraints': 'MINIMUM_SIZE',
      'elk.nodeSize.minimum': `(${textWidth([title, ...lines]) + PAD * 2}, ${header + PAD})`,
      // Regions of a parallel state sit side by side; other compound states follow the chart's flow.
      ...(state.type === 'parallel' ? { 'elk.direction': 'RIGHT' } : {}),
    },
    children,
  };
}

function initialNode(parent: string): ElkNode {
  return { id: initialId(parent), width: INITIAL_DOT, height: INITIAL_DOT };
}

/** The id of a compound state's initial dot. */
export function initialId(parent: string): string {
  return `(initial)${parent}`;
}

function edges(model: ChartModel): ElkExtendedEdge[] {
  const out: ElkExtendedEdge[] = [];
  const initialEdge = (state: ChartState): void => {
    if (state.initial !== null) out.push({ id: `init:${state.id}`, sources: [initialId(state.id)], targets: [state.initial] });
    state.children.forEach(initialEdge);
  };
  initialEdge(model.root);
  for (const [key, group] of groupEdges(model)) {
    const lines = group.map(transitionLabel);
    const [source, target] = key.split('\u0000') as [string, string];
    out.push({
      id: `edge:${key.replace('\u0000', '->')}`,
      sources: [source === '' ? ANY_STATE_ID : source],
      targets: [target],
      labels: [{ text: lines.join('\n'), width: textWidth(lines), height: lines.length * CHART_FONT.lineHeight }],
    });
  }
  return out;
}

/** Transitions with targets, grouped by source and target (each target of a multi-target transition separately). */
function groupEdges(model: ChartModel): Map<string, ChartTransition[]> {
  const groups = new Map<string, ChartTransition[]>();
  for (const transition of model.transitions) {
    for (const target of transition.targets) {
      const key = `${transition.source}\u0000${target}`;
      const group = groups.get(key) ?? [];
      group.push(transition);
      groups.set(key, group);
    }
  }
  return groups;
}

function boxSize(title: string, lines: readonly string[]): { width: number; height: number } {
  return { width: textWidth([title, ...lines]) + PAD * 2, height: CHART_FONT.lineHeight * (1 + lines.length) + PAD * 2 };
}

function textWidth(lines: readonly string[]): number {
  return Math.ceil(Math.max(0, ...lines.map((line) => line.length)) * CHART_FONT.charWidth);
}

function readLayout(model: ChartModel, laid: ElkNode, details: ReadonlyMap<string, string[]>): ChartLayout {
  const states: LaidOutState[] = [];
  const pseudo: ChartLayout['pseudo'][number][] = [];
  const byId = new Map<string, ChartState>();
  const index = (state: ChartState, region: boolean): void => {
    byId.set(state.id, state);
    regions.set(state.id, region);
    state.children.forEach((child) => index(child, state.type === 'parallel'));
  };
  const regions = new Map<string, boolean>();
  index(model.root, false);
  const visit = (node: ElkNode): void => {
    for (const child of node.children ?? []) {
      const box = { x: child.x ?? 0, y: child.y ?? 0, width: child.width ?? 0, height: child.height ?? 0 };
      const state = byId.get(child.id);
      if (state !== undefined) states.push({ state, ...box, details: details.get(child.id) ?? [], region: regions.get(child.id) ?? false });
      else pseudo.push({ id: child.id, kind: child.id === ANY_STATE_ID ? 'any' : 'initial', ...box });
      visit(child);
    }
  };
  visit(laid);
  const groups = groupEdges(model);
  const laidEdges: LaidOutEdge[] = [];
  collectEdges(laid, (edge) => {
    const section = edge.sections?.[0];
    if (section === undefined) return;
    const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint].map(({ x, y }) => ({ x, y }));
    const initial = edge.id.startsWith('init:');
    const key = initial ? '' : edge.id.slice('edge:'.length).replace('->', '\u0000');
    const label = edge.labels?.[0];
    laidEdges.push({
      id: edge.id,
      source: edge.sources[0]!,
      target: edge.targets[0]!,
      transitions: groups.get(key) ?? [],
      points,
      label: label === undefined ? null : { x: label.x ?? 0, y: label.y ?? 0, lines: (label.text ?? '').split('\n') },
      initial,
    });
  });
  return { width: Math.ceil(laid.width ?? 0), height: Math.ceil(laid.height ?? 0), states, pseudo, edges: laidEdges };
}

/** ELK may move an edge into the node that contains both ends: collect them from every level. */
function collectEdges(node: ElkNode, use: (edge: ElkExtendedEdge) => void): void {
  for (const edge of node.edges ?? []) use(edge);
  for (const child of node.children ?? []) collectEdges(child, use);
}
