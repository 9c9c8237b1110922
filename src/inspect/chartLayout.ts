/**
 * Lays the chart out with elkjs (the Eclipse Layout Kernel, layered algorithm, one hierarchical run): children
 * inside their parents, edges that cross levels routed in the same run, and edge labels placed inline on their edges
 * (ELK is given each label's size). To stay readable at the width of a laptop screen the picture is folded: one edge
 * per source and target, labelled with its triggers (`[…]` marks a guarded one; the guards are the edge's tooltip,
 * and in the Mermaid and DOT exports); a state's box shows its name, the transitions that return to it and those
 * that go to a hub (a top-level state entered from many states, such as `resolving`), which would otherwise cross
 * the chart; its entry actions, actors and action-only transitions are its tooltip; the machine's own transitions,
 * which every state takes, are one note instead of an edge from every state. The direction (top-down or left-right) is the one whose
 * picture fits a 1,400 × 800 px panel at the larger scale. Text is measured as monospace, so the layout is the same
 * on every machine and the generated picture can be compared byte for byte.
 */
import type elkBundle from 'elkjs/lib/elk.bundled.js';
import type { ElkExtendedEdge, ElkLabel, ElkNode } from 'elkjs/lib/elk-api.js';
import { importOptional } from '../api/importOptional.js';
import { chartEdges, type ChartEdge } from './chartEdges.js';
import { ANY_STATE_LABEL, hasAnyStateTransitions, stateDetails, transitionLabel, type ChartModel, type ChartState, type ChartTransition } from './chartModel.js';

/**
 * Font metrics of the chart's monospace text (DejaVu Sans Mono advances 0.602 em). State names are set large, so the
 * chart fitted to a 1,400 px window still names every state legibly (at least 9 px); triggers and notes are small
 * text to read zoomed in.
 */
export const CHART_FONT = { size: 11, charWidth: 6.63, lineHeight: 13, titleSize: 19, titleCharWidth: 11.44, titleLineHeight: 22 } as const;

/** The panel the direction is chosen for: the inspector's chart at a 1,400 px wide window. */
export const FIT_BOX = { width: 1400, height: 800 } as const;

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

const PAD = 5;
const INITIAL_DOT = 9;
/** The layout id of the note that lists the machine's own transitions ("in any state"). */
export const ANY_STATE_ID = ANY_STATE_LABEL;

/** A positioned state box. Coordinates are absolute, in pixels. */
export interface LaidOutState {
  readonly state: ChartState;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /**
   * Transitions listed under the title instead of drawn: those that return to this state (`↻ trigger [guard]`) and
   * those from it to a hub (`→ target: trigger [guard]`).
   */
  readonly listed: readonly ListedEdge[];
  /** Entry actions, invoked actors, transitions that only run actions: the box's tooltip. */
  readonly details: readonly string[];
  /** Whether this is a region of a parallel state (drawn dashed). */
  readonly region: boolean;
}

/** An edge listed in its source's box: its lines of text, target and transitions. */
export interface ListedEdge {
  readonly target: string;
  readonly lines: readonly string[];
  readonly transitions: readonly ChartTransition[];
}

/** A positioned edge: one or more transitions with the same source and target. */
export interface LaidOutEdge {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  readonly transitions: readonly ChartTransition[];
  /** The polyline, absolute coordinates. */
  readonly points: readonly { x: number; y: number }[];
  /** The label's top-left corner and lines (absolute coordinates). */
  readonly label: { readonly x: number; readonly y: number; readonly width: number; readonly height: number; readonly lines: readonly string[] } | null;
  /** Whether this edge points at an initial state (from its compound's initial dot). */
  readonly initial: boolean;
}

/** The laid-out chart. */
export interface ChartLayout {
  readonly width: number;
  readonly height: number;
  readonly direction: 'DOWN' | 'RIGHT';
  readonly states: readonly LaidOutState[];
  /** Initial-state dots and the "in any state" note (its text in `lines`). */
  readonly pseudo: readonly { readonly id: string; readonly kind: 'initial' | 'any'; readonly x: number; readonly y: number; readonly width: number; readonly height: number; readonly lines: readonly string[] }[];
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
  const layouts: ChartLayout[] = [];
  for (const direction of ['DOWN', 'RIGHT'] as const) {
    const parts = graphParts(model);
    const laid = await elk.layout(buildGraph(parts, direction));
    layouts.push(readLayout(parts, laid, direction));
  }
  const scale = (layout: ChartLayout): number => Math.min(FIT_BOX.width / layout.width, FIT_BOX.height / layout.height);
  return layouts.reduce((best, layout) => (scale(layout) > scale(best) + 1e-9 ? layout : best));
}

/** Everything the graph is built from, kept to read the layout back. */
interface GraphParts {
  readonly model: ChartModel;
  /** The edges drawn. */
  readonly edges: readonly ChartEdge[];
  /** The edges listed in their source's box, by source. */
  readonly listed: ReadonlyMap<string, readonly ListedEdge[]>;
  readonly anyLines: readonly string[];
}

/**
 * A top-level state entered from this many states or more is a hub (`resolving`, `orphaned`, ...): an edge to it
 * from a nested state is listed in that state's box instead of running across the chart.
 */
const HUB_IN_DEGREE = 4;

function graphParts(model: ChartModel): GraphParts {
  const all = chartEdges(model, { guards: false }).filter((edge) => edge.source !== '');
  const sources = new Map<string, Set<string>>();
  for (const edge of all) if (edge.source !== edge.target) sources.set(edge.target, (sources.get(edge.target) ?? new Set()).add(edge.source));
  const listed = new Map<string, ListedEdge[]>();
  const edges: ChartEdge[] = [];
  const compound = new Set(model.root.children.filter((state) => state.children.length > 0).map((state) => state.id));
  for (const edge of all) {
    const loop = edge.source === edge.target;
    const hub = !edge.target.includes('.') && (sources.get(edge.target)?.size ?? 0) >= HUB_IN_DEGREE;
    const nested = edge.source.includes('.') || compound.has(edge.source);
    const list = hub && nested && !edge.source.startsWith(`${edge.target}.`);
    if (!loop && !list) {
      edges.push(edge);
      continue;
    }
    // A loop's triggers start with ↻; an exit names its target on a line of its own, its triggers indented under it.
    const lines = loop ? edge.lines.map((line) => (line.startsWith(' ') ? `  ${line}` : `↻ ${line}`)) : [`→ ${edge.target}`, ...edge.lines.map((line) => `   ${line}`)];
    listed.set(edge.source, [...(listed.get(edge.source) ?? []), { target: edge.target, lines, transitions: edge.transitions }]);
  }
  const anyLines: string[] = [];
  if (hasAnyStateTransitions(model)) {
    anyLines.push(...chartEdges(model).filter((edge) => edge.source === '').flatMap((edge) => edge.lines.map((line) => `${line} → ${edge.target}`)));
    const stay = [...new Set(model.transitions.filter((transition) => transition.source === '' && transition.targets.length === 0).map(transitionLabel))];
    if (stay.length > 0) anyLines.push(...wrapList('actions only: ', stay));
  }
  return { model, edges, listed, anyLines };
}

function buildGraph(parts: GraphParts, direction: 'DOWN' | 'RIGHT'): ElkNode {
  const { model } = parts;
  const children: ElkNode[] = model.root.children.map((state) => stateNode(parts, state, false));
  if (model.root.initial !== null) children.unshift(initialNode(''));
  return {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': direction,
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '14',
      'elk.layered.spacing.edgeNodeBetweenLayers': '6',
      'elk.layered.spacing.edgeEdgeBetweenLayers': '4',
      'elk.spacing.nodeNode': '10',
      'elk.spacing.edgeNode': '6',
      'elk.spacing.edgeEdge': '4',
      'elk.spacing.edgeLabel': '1',
      'elk.spacing.labelNode': '2',
      'elk.spacing.componentComponent': '12',
      'elk.padding': '[top=4,left=4,bottom=4,right=4]',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.randomSeed': '1',
      // Break cycles by definition order, so the picture reads like the machine file: start first.
      'elk.layered.cycleBreaking.strategy': 'MODEL_ORDER',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.json.shapeCoords': 'ROOT',
      'elk.json.edgeCoords': 'ROOT',
    },
    children,
    edges: elkEdges(parts),
  };
}

function titleOf(state: ChartState, region: boolean): string {
  return region ? `${state.key} (region)` : state.type === 'parallel' ? `${state.key} (parallel)` : state.key;
}

function stateNode(parts: GraphParts, state: ChartState, region: boolean): ElkNode {
  const title = titleOf(state, region);
  const loops = (parts.listed.get(state.id) ?? []).flatMap((listed) => listed.lines);
  const header = CHART_FONT.titleLineHeight + loops.length * CHART_FONT.lineHeight + PAD * 2;
  if (state.children.length === 0) return { id: state.id, width: textWidth([title], loops) + PAD * 2, height: header };
  const children = state.children.map((child) => stateNode(parts, child, state.type === 'parallel'));
  if (state.initial !== null) children.unshift(initialNode(state.id));
  return {
    id: state.id,
    layoutOptions: {
      'elk.padding': `[top=${header},left=${PAD},bottom=${PAD},right=${PAD}]`,
      'elk.nodeSize.constraints': 'MINIMUM_SIZE',
      'elk.nodeSize.minimum': `(${textWidth([title], loops) + PAD * 2}, ${header + PAD})`,
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

function elkEdges(parts: GraphParts): ElkExtendedEdge[] {
  const out: ElkExtendedEdge[] = [];
  const initialEdge = (state: ChartState): void => {
    if (state.initial !== null) out.push({ id: `init:${state.id}`, sources: [initialId(state.id)], targets: [state.initial] });
    state.children.forEach(initialEdge);
  };
  initialEdge(parts.model.root);
  parts.edges.forEach((edge, index) => {
    const label: ElkLabel = {
      id: `label:${index}`,
      text: edge.lines.join('\n'),
      width: textWidth([], edge.lines),
      height: edge.lines.length * CHART_FONT.lineHeight,
      layoutOptions: { 'elk.edgeLabels.inline': 'true', 'elk.edgeLabels.placement': 'CENTER' },
    };
    out.push({ id: `edge:${index}`, sources: [edge.source], targets: [edge.target], labels: [label] });
  });
  return out;
}

/** The width of a title (bold, larger) and lines of small text, whichever is wider. */
function textWidth(titles: readonly string[], lines: readonly string[]): number {
  const title = Math.max(0, ...titles.map((line) => line.length)) * CHART_FONT.titleCharWidth;
  const small = Math.max(0, ...lines.map((line) => line.length)) * CHART_FONT.charWidth;
  return Math.ceil(Math.max(title, small));
}

function wrapList(prefix: string, items: readonly string[]): string[] {
  const lines: string[] = [];
  let line = prefix;
  items.forEach((item, index) => {
    const piece = `${item}${index === items.length - 1 ? '' : ','}`;
    if (line.trim() !== '' && line !== prefix && line.length + 1 + piece.length > 44) {
      lines.push(line);
      line = `  ${piece}`;
    } else {
      line = line === prefix ? `${line}${piece}` : `${line} ${piece}`;
    }
  });
  lines.push(line);
  return lines;
}

function readLayout(parts: GraphParts, laid: ElkNode, direction: 'DOWN' | 'RIGHT'): ChartLayout {
  const { model } = parts;
  const states: LaidOutState[] = [];
  const pseudo: ChartLayout['pseudo'][number][] = [];
  const byId = new Map<string, ChartState>();
  const regions = new Map<string, boolean>();
  const index = (state: ChartState, region: boolean): void => {
    byId.set(state.id, state);
    regions.set(state.id, region);
    state.children.forEach((child) => index(child, state.type === 'parallel'));
  };
  index(model.root, false);
  const visit = (node: ElkNode): void => {
    for (const child of node.children ?? []) {
      const box = { x: child.x ?? 0, y: child.y ?? 0, width: child.width ?? 0, height: child.height ?? 0 };
      const state = byId.get(child.id);
      if (state !== undefined) {
        states.push({ state, ...box, listed: parts.listed.get(state.id) ?? [], details: tooltipLines(model, state.id), region: regions.get(child.id) ?? false });
      } else {
        const any = child.id === ANY_STATE_ID;
        pseudo.push({ id: child.id, kind: any ? 'any' : 'initial', ...box, lines: any ? parts.anyLines : [] });
      }
      visit(child);
    }
  };
  visit(laid);
  const laidEdges: LaidOutEdge[] = [];
  collectEdges(laid, (edge) => {
    const section = edge.sections?.[0];
    if (section === undefined) return;
    const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint].map(({ x, y }) => ({ x, y }));
    const initial = edge.id.startsWith('init:');
    const drawn = initial ? undefined : parts.edges[Number(edge.id.slice('edge:'.length))];
    const label = edge.labels?.[0];
    laidEdges.push({
      id: edge.id,
      source: drawn?.source ?? edge.sources[0]!,
      target: drawn?.target ?? edge.targets[0]!,
      transitions: drawn?.transitions ?? [],
      points,
      label: label === undefined || drawn === undefined ? null : { x: label.x ?? 0, y: label.y ?? 0, width: label.width ?? 0, height: label.height ?? 0, lines: drawn.lines },
      initial,
    });
  });
  // Sorted by id so the output does not depend on which level ELK moved an edge to.
  laidEdges.sort((x, y) => edgeOrder(x.id) - edgeOrder(y.id) || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  let width = Math.ceil(laid.width ?? 0);
  let height = Math.ceil(laid.height ?? 0);
  if (parts.anyLines.length > 0) {
    // The note goes into a free top corner of the picture, or under it when neither corner is free.
    const size = { width: textWidth([ANY_STATE_LABEL], parts.anyLines) + PAD * 2, height: CHART_FONT.titleLineHeight + parts.anyLines.length * CHART_FONT.lineHeight + PAD * 2 };
    const taken = [...states, ...pseudo, ...laidEdges.flatMap((edge) => [...(edge.label === null ? [] : [edge.label]), ...segmentBoxes(edge.points)])];
    const free = (x: number, y: number): boolean => taken.every((box) => x + size.width + 6 <= box.x || box.x + box.width + 6 <= x || y + size.height + 6 <= box.y || box.y + box.height + 6 <= y);
    const corner = [{ x: width - size.width, y: 0 }, { x: 0, y: 0 }].find(({ x, y }) => x >= 0 && free(x, y));
    const at = corner ?? { x: 0, y: height + 8 };
    pseudo.push({ id: ANY_STATE_ID, kind: 'any', ...at, ...size, lines: parts.anyLines });
    width = Math.max(width, Math.ceil(at.x + size.width));
    height = Math.max(height, Math.ceil(at.y + size.height));
  }
  return { width, height, direction, states, pseudo, edges: laidEdges };
}

/** The bounding boxes of a polyline's segments. */
function segmentBoxes(points: readonly { x: number; y: number }[]): { x: number; y: number; width: number; height: number }[] {
  return points.slice(1).map((end, index) => {
    const start = points[index]!;
    return { x: Math.min(start.x, end.x), y: Math.min(start.y, end.y), width: Math.abs(end.x - start.x), height: Math.abs(end.y - start.y) };
  });
}

function edgeOrder(id: string): number {
  return id.startsWith('edge:') ? Number(id.slice('edge:'.length)) : -1;
}

/** The tooltip of a state: its details (entry actions, actors, action-only transitions). */
function tooltipLines(model: ChartModel, stateId: string): string[] {
  return stateDetails(model, stateId);
}

/** ELK may move an edge into the node that contains both ends: collect them from every level. */
function collectEdges(node: ElkNode, use: (edge: ElkExtendedEdge) => void): void {
  for (const edge of node.edges ?? []) use(edge);
  for (const child of node.children ?? []) collectEdges(child, use);
}
