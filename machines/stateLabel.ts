import type { StateValue } from 'xstate';

/**
 * A state value as one readable string: `secondary.watching`; parallel regions in braces,
 * `primary{authority.acting,lease.valid,...}`.
 *
 * @example
 * stateLabel({ secondary: 'watching' }) // 'secondary.watching'
 */
export function stateLabel(value: StateValue): string {
  if (typeof value === 'string') return value;
  const entries = Object.entries(value);
  if (entries.length === 1) {
    const [key, child] = entries[0]!;
    const inner = child === undefined ? '' : stateLabel(child as StateValue);
    return inner.startsWith('{') ? `${key}${inner}` : inner === '' ? key : `${key}.${inner}`;
  }
  return `{${entries.map(([key, child]) => (child === undefined ? key : `${key}.${stateLabel(child as StateValue)}`)).join(',')}}`;
}

/** The top-level state of a value: `primary`, `secondary`, ... */
export function topState(value: StateValue): string {
  return typeof value === 'string' ? value : Object.keys(value)[0]!;
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
