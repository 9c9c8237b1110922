/**
 * The statechart as data, read from the machine definition itself (`machine.root` and its state nodes), so every
 * picture of it (SVG, Mermaid, DOT, the inspector page) shows what the code does, not what someone drew.
 */
import type { AnyStateMachine, AnyStateNode, StateValue } from 'xstate';
import { nodeMachine } from '../../machines/nodeMachine.js';
import { labelPath } from '../../machines/stateLabel.js';

/** What starts a transition. */
export type ChartTrigger =
  | { readonly kind: 'event'; readonly event: string }
  | { readonly kind: 'after'; readonly delay: string }
  | { readonly kind: 'always' }
  | { readonly kind: 'done'; readonly src: string }
  | { readonly kind: 'error'; readonly src: string };

/** One transition of the machine, in document order. State ids are paths without the machine id (`member.following.secondary.watching`). */
export interface ChartTransition {
  /** Unique within the model: `t0`, `t1`, ... in document order. */
  readonly id: string;
  /** The state that owns the transition; `''` is the machine itself (it applies in every state). */
  readonly source: string;
  /** The target states; empty when the transition only runs actions (an internal transition). */
  readonly targets: readonly string[];
  readonly trigger: ChartTrigger;
  /** The guard's name, or null when unguarded. */
  readonly guard: string | null;
  /** The actions' names, in order. */
  readonly actions: readonly string[];
  /** Whether a self-targeting transition exits and re-enters its state (restarting its timers and actors). */
  readonly reenter: boolean;
}

/** An actor a state invokes while it is active. */
export interface ChartInvoke {
  /** XState's id for it: what `xstate.done.actor.<id>` events carry. */
  readonly id: string;
  /** The actor's name in `setup({ actors })`. */
  readonly src: string;
}

/** One state of the machine. */
export interface ChartState {
  /** The path without the machine id (`primary.authority.acting`); `''` for the machine itself. */
  readonly id: string;
  readonly key: string;
  readonly type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** The id of the initial child, for a compound state. */
  readonly initial: string | null;
  readonly children: readonly ChartState[];
  readonly invokes: readonly ChartInvoke[];
  readonly entry: readonly string[];
  readonly exit: readonly string[];
}

/** The whole chart: the state tree and every transition. */
export interface ChartModel {
  readonly machineId: string;
  readonly root: ChartState;
  readonly transitions: readonly ChartTransition[];
}

/**
 * Reads the chart of `machine` (default: the node machine). Guarantees: every state node appears once, with its
 * children in definition order; every transition (events, `after` delays by name, `always`, invoke done/error)
 * appears once, with its guard and action names.
 *
 * @example
 * const model = chartModel();
 * allStates(model).map((state) => state.id) // ['', 'starting', 'notInGroup', ...]
 */
export function chartModel(machine: AnyStateMachine = nodeMachine): ChartModel {
  const transitions: ChartTransition[] = [];
  const root = readState(machine.root, machine.root.id, transitions);
  return { machineId: machine.root.id, root, transitions };
}

/** Every state of the model, parents before children, in definition order. */
export function allStates(model: ChartModel): ChartState[] {
  const out: ChartState[] = [];
  const visit = (state: ChartState): void => {
    out.push(state);
    state.children.forEach(visit);
  };
  visit(model.root);
  return out;
}

/**
 * The ids of every active state in `value`, ancestors included, without the machine itself.
 *
 * @example
 * activeStateIds({ secondary: 'watching' }) // ['secondary', 'secondary.watching']
 */
export function activeStateIds(value: StateValue, prefix = ''): string[] {
  if (typeof value === 'string') return [join(prefix, value)];
  const ids: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const id = join(prefix, key);
    ids.push(id);
    if (child !== undefined) ids.push(...activeStateIds(child as StateValue, id));
  }
  return ids;
}

/**
 * The chart ids of every active state in a value read back from a state label (`parseStateLabel`), ancestors
 * included. Labels leave out the parents that only group states (machines/stateLabel.ts); the chart keeps them, so
 * each id is looked up in the model. A name the model does not know is kept as it is.
 *
 * @example
 * activeStateIdsOfLabel(chartModel(), { secondary: 'watching' })
 * // ['member', 'member.following', 'member.following.secondary', 'member.following.secondary.watching']
 */
export function activeStateIdsOfLabel(model: ChartModel, value: StateValue): string[] {
  const byLabel = labelPaths(model);
  const ids = new Set<string>();
  for (const id of activeStateIds(value)) {
    const keys = (byLabel.get(id) ?? id).split('.');
    for (let length = 1; length <= keys.length; length++) ids.add(keys.slice(0, length).join('.'));
  }
  return [...ids];
}

const labelPathsCache = new WeakMap<ChartModel, Map<string, string>>();

/** Label path → chart id, for every state a label can name (not the machine, not a grouping parent). */
function labelPaths(model: ChartModel): Map<string, string> {
  let paths = labelPathsCache.get(model);
  if (paths === undefined) {
    paths = new Map(
      allStates(model)
        .filter((state) => labelPath(state.id) !== '')
        .map((state) => [labelPath(state.id), state.id] as const),
    );
    labelPathsCache.set(model, paths);
  }
  return paths;
}

/**
 * A trigger as people read it: the event type, `after <delay>`, `always`, `done: <actor>`, `error: <actor>`.
 *
 * @example
 * triggerLabel({ kind: 'after', delay: 'standbyCheckInterval' }) // 'after standbyCheckInterval'
 */
export function triggerLabel(trigger: ChartTrigger): string {
  switch (trigger.kind) {
    case 'event':
      return trigger.event;
    case 'after':
      return `after ${trigger.delay}`;
    case 'always':
      return 'always';
    case 'done':
      return `done: ${trigger.src}`;
    case 'error':
      return `error: ${trigger.src}`;
  }
}

/** A transition's edge label: `trigger [guard]`. */
export function transitionLabel(transition: ChartTransition): string {
  const trigger = triggerLabel(transition.trigger);
  return transition.guard === null ? trigger : `${trigger} [${transition.guard}]`;
}

/**
 * The lines a picture shows inside a state's box: its entry actions, the actors it invokes, and the transitions that
 * stay in it (no target: they only run actions). For the machine itself (`''`), the transitions that apply in any
 * state.
 *
 * @example
 * stateDetails(model, 'member.following') // ['HEARTBEAT_RECEIVED [heartbeatIsProgress] / recordDirectHeartbeat']
 */
export function stateDetails(model: ChartModel, stateId: string): string[] {
  const state = stateId === '' ? model.root : allStates(model).find((candidate) => candidate.id === stateId);
  const internal = model.transitions
    .filter((transition) => transition.source === stateId && transition.targets.length === 0)
    .map((transition) => `${transitionLabel(transition)}${transition.actions.length > 0 ? ` / ${transition.actions.join(', ')}` : ''}`);
  if (state === undefined) return internal;
  return [
    ...(state.entry.length > 0 ? [`entry / ${state.entry.join(', ')}`] : []),
    ...state.invokes.map((invoke) => `invoke ${invoke.src}`),
    ...internal,
  ];
}

/** The label pictures give the pseudo state that stands for the machine's own transitions. */
export const ANY_STATE_LABEL = '(any state)';

/** Whether the machine has transitions of its own (which apply in every state). */
export function hasAnyStateTransitions(model: ChartModel): boolean {
  return model.transitions.some((transition) => transition.source === '');
}

/**
 * A runtime event type as people read it, using the model to name invoked actors and delays:
 * `xstate.after.standbyCheckInterval.agNode.member.following.secondary.watching` becomes `after standbyCheckInterval`,
 * `xstate.done.actor.0.agNode.member.resolving` becomes `done: readGroupRecords`. Other types come back unchanged.
 *
 * @example
 * eventLabel(chartModel(), 'xstate.done.actor.0.agNode.member.resolving') // 'done: readGroupRecords'
 */
export function eventLabel(model: ChartModel, eventType: string): string {
  const after = /^xstate\.after\.([^.]+)\./.exec(eventType);
  if (after !== null) return `after ${after[1]}`;
  const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(eventType);
  if (actor !== null) {
    const src = invokeSources(model).get(actor[2]!) ?? actor[2]!;
    return `${actor[1]}: ${src}`;
  }
  return eventType;
}

const sourcesCache = new WeakMap<ChartModel, Map<string, string>>();

function invokeSources(model: ChartModel): Map<string, string> {
  let sources = sourcesCache.get(model);
  if (sources === undefined) {
    sources = new Map(allStates(model).flatMap((state) => state.invokes.map((invoke) => [invoke.id, invoke.src] as const)));
    sourcesCache.set(model, sources);
  }
  return sources;
}

function readState(node: AnyStateNode, machineId: string, transitions: ChartTransition[]): ChartState {
  const id = pathOf(node, machineId);
  const invokes = node.invoke.map((invoke) => ({ id: invoke.id, src: typeof invoke.src === 'string' ? invoke.src : nameOf(invoke.src, 'inline actor') }));
  const delays = new Map(node.after.map((delayed) => [delayed.eventType, typeof delayed.delay === 'number' ? `${delayed.delay} ms` : String(delayed.delay)]));
  const sources = new Map(invokes.map((invoke) => [invoke.id, invoke.src]));
  for (const [eventType, definitions] of node.transitions) {
    for (const definition of definitions) {
      transitions.push(toTransition(transitions.length, id, triggerOf(eventType, delays, sources), definition, machineId));
    }
  }
  for (const definition of node.always ?? []) {
    transitions.push(toTransition(transitions.length, id, { kind: 'always' }, definition, machineId));
  }
  const initialTarget = node.type === 'compound' ? node.initial.target[0] : undefined;
  return {
    id,
    key: node.key,
    type: node.type,
    initial: initialTarget === undefined ? null : pathOf(initialTarget, machineId),
    children: Object.values(node.states).map((child) => readState(child, machineId, transitions)),
    invokes,
    // The config's own actions: `node.entry`/`node.exit` also hold the raise/cancel XState adds for `after` delays.
    entry: toArray(node.config.entry).map(actionName),
    exit: toArray(node.config.exit).map(actionName),
  };
}

function toTransition(
  index: number,
  source: string,
  trigger: ChartTrigger,
  definition: { target?: readonly AnyStateNode[] | undefined; guard?: unknown; actions: readonly unknown[]; reenter?: boolean },
  machineId: string,
): ChartTransition {
  return {
    id: `t${index}`,
    source,
    targets: (definition.target ?? []).map((target) => pathOf(target, machineId)),
    trigger,
    guard: definition.guard === undefined ? null : guardName(definition.guard),
    actions: definition.actions.map(actionName),
    reenter: definition.reenter ?? false,
  };
}

function triggerOf(eventType: string, delays: ReadonlyMap<string, string>, sources: ReadonlyMap<string, string>): ChartTrigger {
  const delay = delays.get(eventType);
  if (delay !== undefined) return { kind: 'after', delay };
  const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(eventType);
  if (actor !== null) return { kind: actor[1] as 'done' | 'error', src: sources.get(actor[2]!) ?? actor[2]! };
  return { kind: 'event', event: eventType };
}

function pathOf(node: AnyStateNode, machineId: string): string {
  return node.id === machineId ? '' : node.path.join('.');
}

function toArray(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function join(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

/** Named guards are strings or `{ type }` objects; an inline function guard shows as its function name. */
function guardName(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && guard !== null && typeof (guard as { type?: unknown }).type === 'string') return (guard as { type: string }).type;
  return nameOf(guard, 'inline guard');
}

/** Named actions are strings or `{ type }` objects; XState's built-ins (assign, raise, ...) carry a `type` too. */
function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  if ((typeof action === 'object' || typeof action === 'function') && action !== null) {
    const type = (action as { type?: unknown }).type;
    if (typeof type === 'string') return type;
  }
  return nameOf(action, 'inline action');
}

function nameOf(value: unknown, fallback: string): string {
  return typeof value === 'function' && value.name !== '' ? value.name : fallback;
}
