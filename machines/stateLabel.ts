import type { StateValue } from 'xstate';

/**
 * Parent states of the node machine that only group the states below them under a shared rule (`member`: every
 * state of a group member; `following`: the members that record the Primary's direct heartbeats). Labels leave them
 * out, so a label names the states people know (`secondary.watching`, not `member.following.secondary.watching`).
 */
const GROUPING_STATES: ReadonlySet<string> = new Set(['member', 'following']);

/** Whether `key` names a parent state that labels leave out (see {@link labelPath}). */
function isGroupingState(key: string): boolean {
  return GROUPING_STATES.has(key);
}

/**
 * A state value as one readable string: `secondary.watching`; parallel regions in braces,
 * `primary{authority.acting,lease.valid,...}`. The grouping parents (`member`, `following`) are left out.
 *
 * @example
 * stateLabel({ member: { following: { secondary: 'watching' } } }) // 'secondary.watching'
 */
export function stateLabel(value: StateValue): string {
  if (typeof value === 'string') return value;
  const entries = Object.entries(value);
  if (entries.length === 1) {
    const [key, child] = entries[0]!;
    if (isGroupingState(key) && child !== undefined) return stateLabel(child as StateValue);
    const inner = child === undefined ? '' : stateLabel(child as StateValue);
    return inner.startsWith('{') ? `${key}${inner}` : inner === '' ? key : `${key}.${inner}`;
  }
  return `{${entries.map(([key, child]) => (child === undefined ? key : `${key}.${stateLabel(child as StateValue)}`)).join(',')}}`;
}

/**
 * A state's path as its label writes it: the grouping parents left out. The chart's state ids are whole paths; this
 * maps them to what labels (logs, traces, `GET /state`) say.
 *
 * @example
 * labelPath('member.following.secondary.watching') // 'secondary.watching'
 */
export function labelPath(path: string): string {
  return path
    .split('.')
    .filter((key) => !isGroupingState(key))
    .join('.');
}

/** The first state a label names: `primary`, `secondary`, `resolving`, ... (the grouping parents left out). */
export function topState(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [key, child] = Object.entries(value)[0]!;
  return isGroupingState(key) && child !== undefined ? topState(child as StateValue) : key;
}

/**
 * The label of a snapshot's state, for logs, traces and the product's `state` field: display only. Code that decides
 * asks the snapshot's tags (nodeTags.ts), never this label.
 *
 * @example
 * snapshotLabel(actor.getSnapshot()) // 'secondary.watching'
 */
export function snapshotLabel(snapshot: { readonly value: StateValue }): string {
  return stateLabel(snapshot.value);
}
