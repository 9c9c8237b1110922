/**
 * What a happening does. If it returns a promise, the simulation waits for it (and for the promises it settles)
 * before the next happening, as a resumed process does when it runs its overdue timers one after another. Any
 * other value is ignored.
 */
export type Happening = () => unknown;

/** One scheduled happening of the simulation. */
export interface Scheduled {
  readonly at: number;
  readonly order: number;
  readonly run: Happening;
  /** Set by `cancel`: the happening stays in the heap (removal would cost a search) but does nothing. */
  cancelled: boolean;
}

/**
 * The simulator's agenda: a binary min-heap ordered by (time, insertion order), so two happenings at the same
 * simulated instant run in the order they were scheduled and a run never depends on heap internals.
 *
 * @example
 * const queue = new EventQueue();
 * queue.push(5, () => console.log('later'));
 * queue.push(1, () => console.log('first'));
 * queue.pop()?.run(); // first
 */
export class EventQueue {
  readonly #heap: Scheduled[] = [];
  #order = 0;

  get size(): number {
    return this.#heap.length;
  }

  /** Schedules `run` at `at`; returns the happening, which `cancel` can call off. */
  push(at: number, run: Happening): Scheduled {
    const item: Scheduled = { at, order: this.#order++, run, cancelled: false };
    const heap = this.#heap;
    heap.push(item);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(item, heap[parent]!)) break;
      heap[index] = heap[parent]!;
      index = parent;
    }
    heap[index] = item;
    return item;
  }

  /** Calls off a happening: it is dropped when its time comes, without running. */
  cancel(item: Scheduled): void {
    item.cancelled = true;
  }

  /** The earliest happening, without removing it. */
  peek(): Scheduled | undefined {
    return this.#heap[0];
  }

  pop(): Scheduled | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, last)) break;
      heap[index] = heap[child]!;
      index = child;
    }
    heap[index] = last;
    return top;
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}
