/**
 * The embedded server's memory of signed requests it has accepted, so that a captured request sent again is
 * refused instead of applied twice.
 *
 * TSIG alone does not stop a replay: a copy of a signed UPDATE verifies for as long as its time signed is within
 * its fudge (300 s), and changing the header's message ID does not help an attacker or hurt him, because the MAC
 * covers the *original* ID from the TSIG record, not the header's (RFC 8945 section 4.3). So the server remembers
 * each accepted request MAC (per key) until the request could no longer pass the time check (time signed + fudge,
 * both covered by the MAC), and refuses a second copy.
 *
 * Memory is bounded: entries are evicted once their time has passed, and beyond `capacity` the entry that expires
 * first is evicted early. Every evicted entry raises a floor: a request that is not remembered and would expire no
 * later than the floor cannot be told apart from a replay of an evicted one, so it is refused as too old. Under
 * normal load the floor stays in the past (nothing that passes the time check is below it); under a flood of more
 * than `capacity` signed updates per fudge window only clients whose clocks lag the others are refused.
 */
import type { TsigRecord } from './tsig.js';

/** What the guard says about one verified request. */
export type ReplayVerdict = 'fresh' | 'replayed' | 'too-old';

/** Options of a {@link TsigReplayGuard}. */
export interface TsigReplayGuardOptions {
  /** Most requests remembered at once (default 10,000: a few MB). */
  readonly capacity?: number;
}

/** Requests remembered at most, by default. */
export const DEFAULT_REPLAY_CAPACITY = 10_000;

interface Entry {
  readonly key: string;
  /** Time signed + fudge, seconds since 1970: after this the request fails the time check anyway. */
  readonly expires: number;
}

/**
 * Remembers accepted request MACs for as long as the requests could pass the TSIG time check.
 *
 * @example
 * const guard = new TsigReplayGuard();
 * if (guard.check(key.name, verified.record, nowSeconds) !== 'fresh') return refuse();
 */
export class TsigReplayGuard {
  readonly capacity: number;
  readonly #entries = new Set<string>();
  /** A binary min-heap on `expires`. */
  readonly #heap: Entry[] = [];
  #floor = -Infinity;

  constructor(options: TsigReplayGuardOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_REPLAY_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Requests remembered now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Checks a request whose TSIG verified (`now` in seconds since 1970) and remembers it when it is fresh. A request
   * seen before is `replayed`; one that cannot be proved fresh because its memory was evicted early is `too-old`.
   */
  check(keyName: string, record: TsigRecord, now: number): ReplayVerdict {
    this.#evict(now);
    const key = `${keyName}\u0000${record.mac.toString('base64')}`;
    if (this.#entries.has(key)) return 'replayed';
    const expires = record.timeSigned + record.fudge;
    if (expires <= this.#floor) return 'too-old';
    this.#entries.add(key);
    this.#push({ key, expires });
    this.#evict(now);
    return 'fresh';
  }

  #evict(now: number): void {
    for (;;) {
      const first = this.#heap[0];
      if (first === undefined || (first.expires >= now && this.#entries.size <= this.capacity)) return;
      this.#pop();
      this.#entries.delete(first.key);
      if (first.expires > this.#floor) this.#floor = first.expires;
    }
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let at = heap.length - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (heap[parent]!.expires <= entry.expires) break;
      heap[at] = heap[parent]!;
      at = parent;
    }
    heap[at] = entry;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.expires < heap[left]!.expires ? right : left;
      if (heap[child]!.expires >= last.expires) break;
      heap[at] = heap[child]!;
      at = child;
    }
    heap[at] = last;
  }
}
