import { FAULT_MIXES, type ScenarioShape } from './arbitraries.js';

/**
 * Named scenario shapes: the property suites draw scenarios from these, and `npm run sim -- --shape <name> --seed S
 * --path P` replays a fast-check case from one of them.
 *
 * - `mixed`: every fault kind and operator failovers, a few at a time.
 * - `heavy`: up to twelve faults at once.
 * - `crashes`: Primary crashes (some restart) with lossy links and skewed clocks, no operators.
 * - `healthyPaths`: only faults that leave at least one heartbeat path up: one-way partitions, loss, slow links.
 */
export const SCENARIO_SHAPES = {
  mixed: { mix: FAULT_MIXES.light, maxOps: 2 },
  heavy: { mix: FAULT_MIXES.heavy, maxOps: 3 },
  crashes: { mix: { maxFaults: 3, kinds: ['crash', 'crash', 'lossy', 'slowLink'] }, maxOps: 0 },
  healthyPaths: { mix: { maxFaults: 3, kinds: ['partition', 'lossy', 'slowLink', 'dnsSlow'] }, maxOps: 0 },
} as const satisfies Record<string, ScenarioShape>;

export type ScenarioShapeName = keyof typeof SCENARIO_SHAPES;

/** Whether `name` is a known shape. */
export function isScenarioShapeName(name: string): name is ScenarioShapeName {
  return Object.hasOwn(SCENARIO_SHAPES, name);
}
