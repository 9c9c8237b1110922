/**
 * How a rule's change reaches the context. Rules return a {@link NodeContextPatch}: top-level fields replaced, and
 * within a group (`progress`, `lease`, `takeover`, `failover`, `health`) only the facts named, the others kept.
 */
import type { NodeContext, NodeContextGroup, NodeContextPatch } from './nodeMachine.types.js';

const GROUPS: ReadonlySet<string> = new Set<NodeContextGroup>(['progress', 'lease', 'takeover', 'failover', 'health']);

/**
 * The top-level fields `assign` must set for `patch`: each group the patch touches, whole (its other facts copied
 * from `context`). Guarantees: a fact the patch does not name keeps its value.
 *
 * @example
 * patchContext(context, { epoch: 4, lease: { ownSeq: 0 } }) // { epoch: 4, lease: { ...context.lease, ownSeq: 0 } }
 */
export function patchContext(context: NodeContext, patch: NodeContextPatch): Partial<NodeContext> {
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(patch) as (keyof NodeContext)[]) {
    const value = patch[key];
    fields[key] = GROUPS.has(key) ? { ...(context[key] as object), ...(value as object) } : value;
  }
  return fields as Partial<NodeContext>;
}

/**
 * Two patches as one, the later winning fact by fact (within groups too). Guarantees: `patchContext(c,
 * mergePatches(a, b))` equals applying `a`, then `b`.
 *
 * @example
 * mergePatches({ progress: { seen } }, { progress: { lastCheckedAtWall: 5 } }) // { progress: { seen, lastCheckedAtWall: 5 } }
 */
export function mergePatches(first: NodeContextPatch, second: NodeContextPatch): NodeContextPatch {
  const merged: Record<string, unknown> = { ...first };
  for (const key of Object.keys(second) as (keyof NodeContext)[]) {
    const value = second[key];
    merged[key] = GROUPS.has(key) && first[key] !== undefined ? { ...(first[key] as object), ...(value as object) } : value;
  }
  return merged as NodeContextPatch;
}
