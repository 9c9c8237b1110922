import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { EventQueue } from '../src/testing/internal/eventQueue.js';

const SEED = 20261125;
/** A schedule: happenings at small integer times (so many share an instant), some of them cancelled. */
const schedule = fc.array(fc.record({ at: fc.integer({ min: 0, max: 20 }), cancel: fc.boolean() }), { maxLength: 200 });

describe("the simulator's agenda", () => {
  test.prop([schedule], { seed: SEED, numRuns: 300 })(
    'runs happenings in (time, insertion) order and skips exactly the cancelled ones',
    (entries) => {
      const queue = new EventQueue();
      const ran: number[] = [];
      const items = entries.map((entry, index) => queue.push(entry.at, () => ran.push(index)));
      entries.forEach((entry, index) => entry.cancel && queue.cancel(items[index]!));
      for (let next = queue.pop(); next !== undefined; next = queue.pop()) if (!next.cancelled) next.run();
      const expected = entries
        .map((entry, index) => ({ ...entry, index }))
        .filter((entry) => !entry.cancel)
        .sort((a, b) => a.at - b.at || a.index - b.index)
        .map((entry) => entry.index);
      expect(ran).toEqual(expected);
      expect(queue.size).toBe(0);
    },
  );
});
