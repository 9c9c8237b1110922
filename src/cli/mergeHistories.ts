import type { HistoryEntry } from '../node/historyLog.js';

/**
 * Merges the histories of a group's nodes into one: ordered by epoch, then by wall time (the two nodes' clocks may
 * disagree a little, so within an epoch the order across nodes is as good as their clocks), then in the order the
 * histories were given, then by each node's own `seq`. Each entry keeps its `node_id`, which says where it came from;
 * the same entry given twice (a node's history fetched twice) appears once.
 *
 * @example
 * mergeHistories([historyOfA.entries, historyOfB.entries]).map((entry) => `${entry.epoch} ${entry.node_id} ${entry.kind}`)
 */
export function mergeHistories(histories: readonly (readonly HistoryEntry[])[]): HistoryEntry[] {
  const seen = new Set<string>();
  const tagged: { entry: HistoryEntry; source: number; time: number }[] = [];
  histories.forEach((entries, source) => {
    for (const entry of entries) {
      const key = `${entry.node_id}\u0000${entry.seq}\u0000${entry.time}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const time = Date.parse(entry.time);
      tagged.push({ entry, source, time: Number.isNaN(time) ? 0 : time });
    }
  });
  tagged.sort((x, y) => x.entry.epoch - y.entry.epoch || x.time - y.time || x.source - y.source || x.entry.seq - y.entry.seq);
  return tagged.map(({ entry }) => entry);
}
