/**
 * Lays the chart out with elkjs (the Eclipse Layout Kernel, layered algorithm): children inside their parents, and
 * edge labels placed inline on their edges (ELK is given each label's size). To read at the width of a laptop screen
 * (at the inspector's "fit" zoom in a 1,400 × 900 window, titles at least 9 px high and labels' text 8 px) the
 * picture is compact:
 * - each graph of the hierarchy is laid out on its own, in its own direction: the top level top-down, the inside of a
 *   compound state left to right (its children side by side, which keeps the chain of compound states short), the
 *   regions of a parallel state side by side. An edge that leaves or enters a compound state passes through a port
 *   on its border (below it for an exit, above it for an entry), and its pieces are joined into one polyline;
 * - it is folded: one edge per source and target, labelled with its triggers (`[…]` marks a guarded one, `✓`/`✗`
 *   an invoked actor's done/error; the full transitions with their guards are the edge's tooltip, and in the
 *   Mermaid and DOT exports); a state's box shows its name, the transitions that return to it and those that go to a
 *   hub (a top-level state entered from many states, such as `resolving`) from a nested state or back against the
 *   definition order, which would otherwise cross the chart; an edge that still runs across the chart once laid out
 *   is listed in its source's box too, and the chart laid out again. A state's entry actions, actors and action-only
 *   transitions are its tooltip; the machine's own transitions, which every state takes, are one note instead of an
 *   edge from every state;
 * - a parent that only groups states (labels leave it out, machines/stateLabel.ts; every transition into it names a
 *   child) is a thin titled frame without an initial dot: laid out as a compound state, or flat, its children in its
 *   container's graph in rows of their own (ELK partitions) under a row that holds its title, and the frame drawn
 *   around them.
 * Of the candidate plans (compound states left to right, or top-down; each grouping parent top-down, left to right
 * or flat) the best few at a 1,400 × 800 px panel are laid out again with their edges across the chart listed, and
 * the one at the larger scale is kept. Text is measured as monospace, so the layout is the same on every machine and
 * the generated picture can be compared byte for byte.
 */
import type elkBundle from 'elkjs/lib/elk.bundled.js';
import type { ElkExtendedEdge, ElkLabel, ElkNode } from 'elkjs/lib/elk-api.js';
import { importOptional } from '../api/importOptional.js';
import { chartEdges, shortLine, type ChartEdge } from './chartEdges.js';
import { labelPath } from '../../machines/stateLabel.js';
import { allStates, ANY_STATE_LABEL, hasAnyStateTransitions, stateDetails, transitionLabel, type ChartModel, type ChartState, type ChartTransition } from './chartModel.js';

/**
 * Font metrics of the chart's monospace text (DejaVu Sans Mono advances 0.602 em, bold too). State names are bold and
 * a little larger than triggers and notes; both are sized against the compact layout so that the chart fitted to a
 * 1,400 × 900 window keeps every title at least 9 px and every label's text at least 8 px high (lines 13 px apart).
 */
export const CHART_FONT = { size: 12, charWidth: 7.23, lineHeight: 13, titleSize: 13, titleCharWidth: 7.83, titleLineHeight: 15 } as const;

/** The panel the layout plan is chosen for: the inspector's chart at a 1,400 px wide window. */
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
/** The gap between layers of a graph. */
const LAYER_SPACING = 6;
/** The padding of a grouping parent's thin frame. */
const GROUPING_PAD = 2;
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
  /** How compound states of atomic states are laid out inside: children left to right (`RIGHT`) or top-down. */
  readonly inner: Direction;
  readonly states: readonly LaidOutState[];
  /** Initial-state dots and the "in any state" note (its text in `lines`). */
  readonly pseudo: readonly { readonly id: string; readonly kind: 'initial' | 'any'; readonly x: number; readonly y: number; readonly width: number; readonly height: number; readonly lines: readonly string[] }[];
  readonly edges: readonly LaidOutEdge[];
}

/** A direction of ELK's layered algorithm. */
export type Direction = 'DOWN' | 'RIGHT';

/**
 * The candidate directions for the inside of a compound state whose children are all atomic (the top level, a state
 * with compound children and a parallel state, whose regions sit side by side, are always laid out top-down).
 */
const INNER_DIRECTIONS: readonly Direction[] = ['RIGHT', 'DOWN'];

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
  const layOut = async (plan: Plan, listedToo: ReadonlySet<string>): Promise<ChartLayout & { plan: Plan }> => {
    const parts = graphParts(model, listedToo);
    return { ...readLayout(parts, await elk.layout(buildGraph(parts, plan)), plan.inner), plan };
  };
  const scale = (layout: ChartLayout): number => Math.min(FIT_BOX.width / layout.width, FIT_BOX.height / layout.height);
  const first: (ChartLayout & { plan: Plan })[] = [];
  for (const plan of plans(model)) first.push(await layOut(plan, new Set()));
  // Stable sort: of equal scales, the earlier plan.
  first.sort((x, y) => scale(y) - scale(x));
  // Edges that still run across the chart are listed in their source's box instead, and the chart laid out again:
  // of the best few plans, the one at the larger scale once that is done.
  let best: (ChartLayout & { plan: Plan }) | undefined;
  for (const candidate of first.slice(0, FINALISTS)) {
    const across = acrossTheChart(candidate);
    const layout = across.size > 0 ? await layOut(candidate.plan, across) : candidate;
    if (best === undefined || scale(layout) > scale(best) + 1e-9) best = layout;
  }
  const { plan: _plan, ...layout } = best!;
  return layout;
}

/**
 * A layout plan: the direction of compound states of atomic states (`inner`) and of each grouping parent (by id).
 */
interface Plan {
  readonly inner: Direction;
  readonly grouping: Readonly<Record<string, Direction | 'FLAT'>>;
}

/** Every combination of the inner direction and the grouping parents' directions. */
function plans(model: ChartModel): Plan[] {
  const grouping = allStates(model).filter(isGrouping);
  // A grouping parent that is the source of a drawn transition keeps its box (the edge needs its border).
  const sources = new Set(model.transitions.filter((transition) => transition.targets.length > 0).map((transition) => transition.source));
  let combos: Record<string, Direction | 'FLAT'>[] = [{}];
  for (const state of grouping) {
    const options = sources.has(state.id) ? GROUPING_DIRECTIONS : (['FLAT', ...GROUPING_DIRECTIONS] as const);
    combos = combos.flatMap((combo) => options.map((direction) => ({ ...combo, [state.id]: direction })));
  }
  // Flat parents only inside a graph laid out top-down (the top level or a top-down grouping parent).
  const containerDown = (combo: Record<string, Direction | 'FLAT'>, id: string): boolean => {
    for (let parent = parentOf(id); parent !== ''; parent = parentOf(parent)) {
      const direction = combo[parent];
      if (direction === undefined) return false;
      if (direction !== 'FLAT') return direction === 'DOWN';
    }
    return true;
  };
  combos = combos.filter((combo) => Object.entries(combo).every(([id, direction]) => direction !== 'FLAT' || containerDown(combo, id)));
  return INNER_DIRECTIONS.flatMap((inner) => combos.map((combo) => ({ inner, grouping: combo })));
}

/** How many of the best plans are laid out again with the edges across the chart listed. */
const FINALISTS = 4;

/** The candidate directions for the inside of a grouping parent. */
const GROUPING_DIRECTIONS: readonly Direction[] = ['DOWN', 'RIGHT'];

/** The layout id of the node that reserves a flat grouping parent's title row. */
function frameId(stateId: string): string {
  return `(frame)${stateId}`;
}

/**
 * A parent state that only groups the states below it (`member`, `following`: labels leave it out, and every
 * transition into it names a child): drawn as a thin titled frame without an initial dot.
 */
function isGrouping(state: ChartState): boolean {
  return state.id !== '' && state.children.length > 0 && state.type !== 'parallel' && labelPath(state.id) === '';
}

/**
 * An edge runs across the chart when its polyline spans more than half the chart's width and half its height, or
 * three quarters of either.
 */
function acrossTheChart(layout: ChartLayout): Set<string> {
  const keys = new Set<string>();
  for (const edge of layout.edges) {
    if (edge.initial) continue;
    const xs = edge.points.map((point) => point.x);
    const ys = edge.points.map((point) => point.y);
    const wide = (Math.max(...xs) - Math.min(...xs)) / layout.width;
    const tall = (Math.max(...ys) - Math.min(...ys)) / layout.height;
    if ((wide > 0.5 && tall > 0.5) || wide > 0.75 || tall > 0.75) keys.add(edgeKey(edge.source, edge.target));
  }
  return keys;
}

function edgeKey(source: string, target: string): string {
  return `${source}\u0000${target}`;
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
 * A state entered from this many states or more is a hub (`resolving`, `orphaned`, ...): an edge to it from within
 * its container, from a more deeply nested or a compound state, or back from a state defined after it, is listed in
 * the source's box instead of running across the chart.
 */
const HUB_IN_DEGREE = 4;

function graphParts(model: ChartModel, listedToo: ReadonlySet<string>): GraphParts {
  const all = chartEdges(model, { guards: false })
    .filter((edge) => edge.source !== '')
    .map((edge) => ({ ...edge, lines: edge.lines.map(shortLine) }));
  const sources = new Map<string, Set<string>>();
  for (const edge of all) if (edge.source !== edge.target) sources.set(edge.target, (sources.get(edge.target) ?? new Set()).add(edge.source));
  const listed = new Map<string, ListedEdge[]>();
  const edges: ChartEdge[] = [];
  const states = allStates(model);
  const compound = new Set(states.filter((state) => state.children.length > 0).map((state) => state.id));
  const order = new Map(states.map((state, index) => [state.id, index]));
  const depth = (stateId: string): number => stateId.split('.').length;
  // A listed target by the shortest end of its path that names no other state (`secondary`, `lease.valid`).
  const shortName = (stateId: string): string => {
    const keys = stateId.split('.');
    for (let from = keys.length - 1; from > 0; from -= 1) {
      const suffix = keys.slice(from).join('.');
      if (states.filter((state) => state.id === suffix || state.id.endsWith(`.${suffix}`)).length === 1) return suffix;
    }
    return stateId;
  };
  for (const edge of all) {
    const loop = edge.source === edge.target;
    const hub = (sources.get(edge.target)?.size ?? 0) >= HUB_IN_DEGREE;
    // From inside the hub's own container (not from outside it, and not from inside the hub itself): from a deeper or
    // compound state, or back against the definition order.
    const beside = isWithin(edge.source, parentOf(edge.target)) && !isWithin(edge.source, edge.target);
    const nested = depth(edge.source) > depth(edge.target) || compound.has(edge.source);
    const back = (order.get(edge.target) ?? 0) < (order.get(edge.source) ?? 0);
    const list = (hub && beside && (nested || back)) || listedToo.has(edgeKey(edge.source, edge.target));
    if (!loop && !list) {
      edges.push(edge);
      continue;
    }
    // A loop's triggers start with ↻; an exit names its target on a line of its own, its triggers indented under it.
    const lines = loop ? edge.lines.map((line) => (line.startsWith(' ') ? `  ${line}` : `↻ ${line}`)) : [`→ ${shortName(edge.target)}`, ...edge.lines.map((line) => `   ${line}`)];
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

/** The layout options of one graph of the hierarchy (the top level, or the inside of one compound state). */
function graphOptions(direction: Direction): Record<string, string> {
  return {
    'elk.algorithm': 'layered',
    'elk.direction': direction,
    // Each compound's inside is its own layout, in its own direction; edges cross borders through ports.
    'elk.hierarchyHandling': 'SEPARATE_CHILDREN',
    'elk.edgeRouting': 'ORTHOGONAL',
    'elk.layered.spacing.nodeNodeBetweenLayers': String(LAYER_SPACING),
    'elk.layered.spacing.edgeNodeBetweenLayers': '1',
    'elk.layered.spacing.edgeEdgeBetweenLayers': '2',
    'elk.spacing.nodeNode': '6',
    'elk.spacing.edgeNode': '4',
    'elk.spacing.edgeEdge': '3',
    'elk.spacing.edgeLabel': '1',
    'elk.spacing.labelNode': '2',
    'elk.spacing.componentComponent': '12',
    'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
    'elk.randomSeed': '1',
    // Break cycles and order each layer by definition order, so the picture reads like the machine file: start first.
    // (Ordering layers this way, instead of ELK's crossing minimisation, also gave the most compact picture.)
    'elk.layered.cycleBreaking.strategy': 'MODEL_ORDER',
    'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
    'elk.layered.crossingMinimization.strategy': 'INTERACTIVE',
  };
}

/** The id of the state that contains `stateId` (`''`: the machine). */
function parentOf(stateId: string): string {
  return stateId.includes('.') ? stateId.slice(0, stateId.lastIndexOf('.')) : '';
}

/** Whether `stateId` is `ancestor` or inside it (every state is inside the machine, `''`). */
function isWithin(stateId: string, ancestor: string): boolean {
  return ancestor === '' || stateId === ancestor || stateId.startsWith(`${ancestor}.`);
}

/** The graph an edge's labelled piece is laid out in: the innermost state that contains both ends (or is one). */
function commonGraph(source: string, target: string): string {
  if (isWithin(target, source)) return source;
  if (isWithin(source, target)) return target;
  let graph = parentOf(source);
  while (!isWithin(target, graph)) graph = parentOf(graph);
  return graph;
}

function buildGraph(parts: GraphParts, plan: Plan): ElkNode {
  const { model } = parts;
  const graphs = new Map<string, ElkNode>();
  const directions = new Map<string, Direction>([['', 'DOWN']]);
  const root: ElkNode = {
    id: 'root',
    layoutOptions: { ...graphOptions('DOWN'), 'elk.padding': '[top=4,left=4,bottom=4,right=4]', 'elk.json.shapeCoords': 'ROOT', 'elk.json.edgeCoords': 'ROOT' },
    children: childNodes(parts, model.root, plan, graphs, directions),
    edges: [],
  };
  if (model.root.initial !== null) root.children!.unshift(initialNode('', root.children!));
  // (Partitions are only kept in one graph: not in separately packed components.)
  if (partitioned(root.children!)) Object.assign(root.layoutOptions!, { 'elk.partitioning.activate': 'true', 'elk.separateConnectedComponents': 'false' });
  graphs.set('', root);
  // A flat grouping parent is no graph of its own: its children are laid out in its container's graph.
  const flat = (stateId: string): boolean => plan.grouping[stateId] === 'FLAT';
  const effective = (stateId: string): string => {
    let graph = stateId;
    while (graph !== '' && flat(graph)) graph = parentOf(graph);
    return graph;
  };
  const graphOf = (stateId: string): ElkNode => graphs.get(effective(stateId))!;
  const addEdge = (graph: string, edge: ElkExtendedEdge): void => {
    graphOf(graph).edges!.push(edge);
  };
  const initialEdge = (state: ChartState): void => {
    if (drawsInitial(state)) addEdge(state.id, { id: `init:${state.id}`, sources: [initialId(state.id)], targets: [state.initial!] });
    state.children.forEach(initialEdge);
  };
  initialEdge(model.root);
  parts.edges.forEach((edge, index) => {
    const common = effective(commonGraph(edge.source, edge.target));
    // A port on a compound state's border: below it for an exit and above it for an entry when its container is laid
    // out top-down (left and right when left to right); free for an edge between the state and its own children.
    const port = (stateId: string, role: 'exit' | 'entry' | 'own'): string => {
      const id = `port:${index}:${role}:${stateId}`;
      const node = graphOf(stateId);
      const down = directions.get(effective(parentOf(stateId))) === 'DOWN';
      const side = role === 'own' ? null : role === 'exit' ? (down ? 'SOUTH' : 'EAST') : down ? 'NORTH' : 'WEST';
      node.ports!.push({ id, width: 0, height: 0, ...(side === null ? {} : { layoutOptions: { 'elk.port.side': side } }) });
      return id;
    };
    let piece = 0;
    const addPiece = (graph: string, from: string, to: string, labelled: boolean): void => {
      const labels: ElkLabel[] = labelled
        ? [{ id: `label:${index}`, text: edge.lines.join('\n'), width: textWidth([], edge.lines), height: edge.lines.length * CHART_FONT.lineHeight, layoutOptions: { 'elk.edgeLabels.inline': 'true', 'elk.edgeLabels.placement': 'CENTER' } }]
        : [];
      addEdge(graph, { id: `edge:${index}:${piece++}`, sources: [from], targets: [to], labels });
    };
    // Out of every compound the source is in, up to the common graph; then the labelled piece; then down into the target.
    let from = edge.source;
    if (edge.source === common) from = port(common, 'own');
    else {
      for (let graph = parentOf(edge.source); graph !== common; graph = parentOf(graph)) {
        if (flat(graph)) continue;
        const exit = port(graph, 'exit');
        addPiece(graph, from, exit, false);
        from = exit;
      }
    }
    const entries: [graph: string, from: string, to: string][] = [];
    let to = edge.target;
    if (edge.target === common) to = port(common, 'own');
    else {
      for (let graph = parentOf(edge.target); graph !== common; graph = parentOf(graph)) {
        if (flat(graph)) continue;
        const entry = port(graph, 'entry');
        entries.push([graph, entry, to]);
        to = entry;
      }
    }
    addPiece(common, from, to, true);
    for (const [graph, entry, target] of entries.reverse()) addPiece(graph, entry, target, false);
  });
  return root;
}

function titleOf(state: ChartState, region: boolean): string {
  return region ? `${state.key} (region)` : state.type === 'parallel' ? `${state.key} (parallel)` : state.key;
}

/** Whether a compound state is drawn with an initial dot (a grouping parent is not: every transition names a child). */
function drawsInitial(state: ChartState): boolean {
  return state.initial !== null && !isGrouping(state);
}

function stateNode(parts: GraphParts, state: ChartState, region: boolean, plan: Plan, graphs: Map<string, ElkNode>, directions: Map<string, Direction>): ElkNode {
  const title = titleOf(state, region);
  const loops = (parts.listed.get(state.id) ?? []).flatMap((listed) => listed.lines);
  const grouping = isGrouping(state);
  const pad = grouping ? GROUPING_PAD : PAD;
  const header = CHART_FONT.titleLineHeight + loops.length * CHART_FONT.lineHeight + PAD + pad;
  if (state.children.length === 0) return { id: state.id, width: textWidth([title], loops) + PAD * 2, height: header };
  // A grouping parent as planned; a parallel state's regions side by side (one layer, not packed as separate
  // components); a state with compound children is laid out like the top level; a row (or column) of atomic children
  // as planned.
  const planned = plan.grouping[state.id];
  const direction: Direction = grouping && planned !== undefined && planned !== 'FLAT' ? planned : state.type === 'parallel' || state.children.some((child) => child.children.length > 0) ? 'DOWN' : plan.inner;
  directions.set(state.id, direction);
  const children = childNodes(parts, state, plan, graphs, directions);
  if (drawsInitial(state)) children.unshift(initialNode(state.id, children));
  const node: ElkNode = {
    id: state.id,
    layoutOptions: {
      ...graphOptions(direction),
      'elk.separateConnectedComponents': 'false',
      ...(partitioned(children) ? { 'elk.partitioning.activate': 'true' } : {}),
      'elk.portConstraints': 'FIXED_SIDE',
      'elk.padding': `[top=${header},left=${pad},bottom=${pad},right=${pad}]`,
      'elk.nodeSize.constraints': 'MINIMUM_SIZE',
      'elk.nodeSize.minimum': `(${textWidth([title], loops) + pad * 2}, ${header + pad})`,
    },
    children,
    ports: [],
    edges: [],
  };
  graphs.set(state.id, node);
  return node;
}

/**
 * The nodes of a state's graph: its children, where a flat grouping parent gives a node that reserves its title row
 * and then its own children, each in a partition of its own so that the grouped states sit in rows of their own
 * (below the states defined before them and above those defined after), inside a frame drawn around them.
 */
function childNodes(parts: GraphParts, state: ChartState, plan: Plan, graphs: Map<string, ElkNode>, directions: Map<string, Direction>): ElkNode[] {
  const partition = { value: 0 };
  let partitioned = false;
  const nodes: ElkNode[] = [];
  const add = (node: ElkNode): void => {
    nodes.push({ ...node, layoutOptions: { ...node.layoutOptions, 'elk.partitioning.partition': String(partition.value) } });
  };
  const walk = (children: readonly ChartState[]): void => {
    for (const child of children) {
      if (plan.grouping[child.id] !== 'FLAT') {
        add(stateNode(parts, child, state.type === 'parallel', plan, graphs, directions));
        continue;
      }
      partitioned = true;
      const lines = (parts.listed.get(child.id) ?? []).flatMap((listed) => listed.lines);
      partition.value += 1;
      // The row's height and the gap below it (the layers' spacing) hold the title and the frame's padding.
      add({ id: frameId(child.id), width: 1, height: Math.max(1, CHART_FONT.titleLineHeight + lines.length * CHART_FONT.lineHeight + PAD + GROUPING_PAD - LAYER_SPACING) });
      partition.value += 1;
      walk(child.children);
      partition.value += 1;
    }
  };
  walk(state.children);
  if (!partitioned) return nodes.map(({ layoutOptions, ...node }) => {
    const { 'elk.partitioning.partition': _partition, ...rest } = layoutOptions ?? {};
    return Object.keys(rest).length === 0 ? node : { ...node, layoutOptions: rest };
  });
  return nodes;
}

/** Whether a graph's nodes are in partitions (it holds a flat grouping parent's children). */
function partitioned(nodes: readonly ElkNode[]): boolean {
  return nodes.some((node) => node.layoutOptions?.['elk.partitioning.partition'] !== undefined);
}

/** A compound state's initial dot, in the first partition of a partitioned graph. */
function initialNode(parent: string, siblings: readonly ElkNode[] = []): ElkNode {
  const node: ElkNode = { id: initialId(parent), width: INITIAL_DOT, height: INITIAL_DOT };
  return partitioned(siblings) ? { ...node, layoutOptions: { 'elk.partitioning.partition': '0' } } : node;
}

/** The id of a compound state's initial dot. */
export function initialId(parent: string): string {
  return `(initial)${parent}`;
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

function readLayout(parts: GraphParts, laid: ElkNode, inner: Direction): ChartLayout {
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
  const frames = new Map<string, number>();
  const visit = (node: ElkNode): void => {
    for (const child of node.children ?? []) {
      const box = { x: child.x ?? 0, y: child.y ?? 0, width: child.width ?? 0, height: child.height ?? 0 };
      const state = byId.get(child.id);
      if (child.id.startsWith(frameId(''))) {
        frames.set(child.id.slice(frameId('').length), box.y);
      } else if (state !== undefined) {
        states.push({ state, ...box, listed: parts.listed.get(state.id) ?? [], details: tooltipLines(model, state.id), region: regions.get(child.id) ?? false });
      } else {
        const any = child.id === ANY_STATE_ID;
        pseudo.push({ id: child.id, kind: any ? 'any' : 'initial', ...box, lines: any ? parts.anyLines : [] });
      }
      visit(child);
    }
  };
  visit(laid);
  // A flat grouping parent's frame: from its title row around its descendants (inner frames first).
  const framed: LaidOutState[] = [];
  for (const [stateId, top] of [...frames].sort(([x], [y]) => y.split('.').length - x.split('.').length)) {
    const state = byId.get(stateId)!;
    const inside = [...framed, ...states].filter((laidOut) => laidOut.state.id.startsWith(`${stateId}.`));
    const left = Math.min(...inside.map((box) => box.x)) - GROUPING_PAD;
    const right = Math.max(...inside.map((box) => box.x + box.width)) + GROUPING_PAD;
    const bottom = Math.max(...inside.map((box) => box.y + box.height)) + GROUPING_PAD;
    const listed = parts.listed.get(stateId) ?? [];
    const width = Math.max(right - left, textWidth([titleOf(state, false)], listed.flatMap((edge) => edge.lines)) + PAD + GROUPING_PAD);
    framed.unshift({ state, x: left, y: top, width, height: bottom - top, listed, details: tooltipLines(model, stateId), region: false });
  }
  states.unshift(...framed);
  const laidEdges: LaidOutEdge[] = [];
  // The pieces of each drawn edge (`edge:<index>:<piece>`), joined in order into one polyline.
  const pieces = new Map<number, { piece: number; points: { x: number; y: number }[]; label: ElkLabel | undefined }[]>();
  collectEdges(laid, (edge) => {
    const section = edge.sections?.[0];
    if (section === undefined) return;
    const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint].map(({ x, y }) => ({ x, y }));
    if (edge.id.startsWith('init:')) {
      laidEdges.push({ id: edge.id, source: edge.sources[0]!, target: edge.targets[0]!, transitions: [], points, label: null, initial: true });
      return;
    }
    const [, index, piece] = edge.id.split(':').map(Number);
    pieces.set(index!, [...(pieces.get(index!) ?? []), { piece: piece!, points, label: edge.labels?.[0] }]);
  });
  for (const [index, list] of pieces) {
    const drawn = parts.edges[index]!;
    list.sort((x, y) => x.piece - y.piece);
    const label = list.find((piece) => piece.label !== undefined)?.label;
    laidEdges.push({
      id: `edge:${index}`,
      source: drawn.source,
      target: drawn.target,
      transitions: drawn.transitions,
      points: list.flatMap((piece) => piece.points),
      label: label === undefined ? null : { x: label.x ?? 0, y: label.y ?? 0, width: label.width ?? 0, height: label.height ?? 0, lines: drawn.lines },
      initial: false,
    });
  }
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
  return { width, height, inner, states, pseudo, edges: laidEdges };
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

/** Edges live in the graph that contains both ends: collect them from every level. */
function collectEdges(node: ElkNode, use: (edge: ElkExtendedEdge) => void): void {
  for (const edge of node.edges ?? []) use(edge);
  for (const child of node.children ?? []) collectEdges(child, use);
}
