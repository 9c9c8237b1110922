/**
 * A small seeded pseudo-random generator (mulberry32) for the benchmarks: the same seed gives the same kill phases,
 * so a run can be repeated.
 *
 * @example
 * const random = seededRandom(1);
 * const phaseMs = random() * 100; // 0 <= phaseMs < 100, the same sequence for seed 1 every time
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
