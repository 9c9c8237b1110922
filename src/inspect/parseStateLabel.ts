import type { StateValue } from 'xstate';
import { StateLabelError } from '../api/errors.js';

/** A state label that `stateLabel` could not have written (defined in the error catalogue). */
export { StateLabelError };

/**
 * The inverse of `stateLabel` (machines/stateLabel.ts): turns `secondary.watching` or
 * `primary{authority.acting,lease.valid}` back into a state value, so a trace that only holds labels can be
 * highlighted on the chart. Guarantees `parseStateLabel(stateLabel(v))` deep-equals `v` for every state value
 * whose keys hold none of `.{},`. Throws {@link StateLabelError} for anything else.
 *
 * @example
 * parseStateLabel('primary{authority.acting,lease.valid}') // { primary: { authority: 'acting', lease: 'valid' } }
 */
export function parseStateLabel(label: string): StateValue {
  let at = 0;
  const fail = (reason: string): never => {
    throw new StateLabelError(label, `${reason} at position ${at}`);
  };
  const key = (): string => {
    const start = at;
    while (at < label.length && !'.{},'.includes(label[at]!)) at += 1;
    if (at === start) fail('a state name is missing');
    return label.slice(start, at);
  };
  const braces = (): Record<string, StateValue> => {
    at += 1; // '{'
    const out: Record<string, StateValue> = {};
    for (;;) {
      const item = value();
      if (typeof item === 'string') fail('a region needs a state');
      Object.assign(out, item);
      if (label[at] === ',') at += 1;
      else if (label[at] === '}') break;
      else fail('"," or "}" expected');
    }
    at += 1; // '}'
    return out;
  };
  const value = (): StateValue => {
    if (label[at] === '{') return braces();
    const name = key();
    if (label[at] === '.') {
      at += 1;
      return { [name]: value() };
    }
    if (label[at] === '{') return { [name]: braces() };
    return name;
  };
  const result = value();
  if (at !== label.length) fail('unexpected text');
  return result;
}
