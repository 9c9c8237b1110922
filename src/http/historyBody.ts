import type { HistoryEntry } from '../node/historyLog.js';
import { invalidInput } from './apiError.js';

/** The most entries `GET /history?limit=` may ask for (the node keeps at most two files' worth). */
const HISTORY_LIMIT_MAX = 100_000;

/**
 * `GET /ag/api/v1/history` (this project's): `{node_id, entries}`, the node's history oldest first; with `limit`,
 * only the newest `limit` entries. A `limit` that is not a whole number from 1 to {@link HISTORY_LIMIT_MAX} is
 * refused with 400 naming it.
 *
 * @example
 * reply.send(historyBody(node.nodeId, history.entries(), request.query.limit));
 */
export function historyBody(nodeId: string, entries: readonly HistoryEntry[], limit: unknown): Record<string, unknown> {
  let kept = entries;
  if (limit !== undefined) {
    const count = typeof limit === 'string' && /^\d{1,6}$/.test(limit) ? Number(limit) : Number.NaN;
    if (!(count >= 1 && count <= HISTORY_LIMIT_MAX)) throw invalidInput([{ field: 'limit', rule: `must be a whole number from 1 to ${HISTORY_LIMIT_MAX}` }]);
    kept = entries.slice(-count);
  }
  return { node_id: nodeId, entries: kept };
}
