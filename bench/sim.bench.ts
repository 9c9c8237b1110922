/**
 * The simulator's figures (issue 3):
 * - simulated seconds per wall second for a healthy two-node group with a 1 s heartbeat (target >= 10,000), with
 *   and without the full trace, and under a heavy fault schedule;
 * - where a healthy group's wall time goes: inside XState's event processing (both nodes' statecharts, including the
 *   I/O actors they start) or elsewhere (simulated network and DNS, property checks, promises), per simulated second;
 * - for each broken variant, the wall time and the number of scenarios fast-check needs to find its first
 *   counterexample, over several seeds.
 */
import fc from 'fast-check';
import { Actor } from 'xstate';
import { BROKEN_VARIANTS, checkSimulationProperties, faultScheduleArbitrary, healthyScenario, runSimulation, type Scenario } from '../src/testing/index.js';
import { printTable, summarize, type BenchRow } from './stats.js';

const RUNS = 5;
const SIMULATED_MS = 600_000;

async function speed(scenarios: readonly Scenario[], trace: boolean): Promise<number[]> {
  const rates: number[] = [];
  for (const scenario of scenarios) {
    const start = performance.now();
    const result = await runSimulation(scenario, { trace });
    rates.push(result.simulatedMs / (performance.now() - start));
  }
  return rates;
}

function rateRow(figure: string, rates: readonly number[], target: number | null): BenchRow {
  const s = summarize(rates);
  return {
    figure,
    median: `${s.median.toFixed(0)} sim s/s`,
    spread: `${s.min.toFixed(0)}..${s.max.toFixed(0)} (n=${s.n})`,
    target: target === null ? '-' : `>= ${target}`,
    ok: target === null ? null : s.median >= target,
  };
}

const healthy = Array.from({ length: RUNS }, (_, seed) => healthyScenario({ seed, durationMs: SIMULATED_MS, heartbeatS: 1 }));
const heavy = healthy.map((scenario, seed) => ({
  ...scenario,
  faults: fc.sample(faultScheduleArbitrary({ absenceMs: 3_000, durationMs: SIMULATED_MS, mix: { maxFaults: 60 } }), { seed, numRuns: 1 })[0]!,
}));
await speed(healthy, false); // warm-up: module loading, and JIT of XState and the node, which takes a few thousand simulated s
printTable(`Simulation speed (${SIMULATED_MS / 1000} simulated s per run, 1 s heartbeat, ${RUNS} runs)`, [
  rateRow('healthy group, trace off', await speed(healthy, false), 10_000),
  rateRow('healthy group, full trace', await speed(healthy, true), null),
  rateRow("heavy faults (up to 60 per run), full trace", await speed(heavy, true), null),
]);

/**
 * Runs `scenarios` with every outermost XState `_process` call timed (an internal method: the one place each event
 * an actor receives is handled, nested deliveries to parent actors included), and returns µs per simulated second
 * inside and outside it.
 */
async function xstateShare(scenarios: readonly Scenario[]): Promise<{ inside: number[]; outside: number[] }> {
  const prototype = Actor.prototype as unknown as { _process: (event: unknown) => void };
  const original = prototype._process;
  let depth = 0;
  let insideMs = 0;
  prototype._process = function timed(this: unknown, event: unknown) {
    if (depth > 0) return original.call(this, event);
    depth += 1;
    const start = performance.now();
    try {
      return original.call(this, event);
    } finally {
      insideMs += performance.now() - start;
      depth -= 1;
    }
  };
  const inside: number[] = [];
  const outside: number[] = [];
  try {
    for (const scenario of scenarios) {
      insideMs = 0;
      const start = performance.now();
      const result = await runSimulation(scenario, { trace: false });
      const wallMs = performance.now() - start;
      inside.push((insideMs * 1000) / (result.simulatedMs / 1000));
      outside.push(((wallMs - insideMs) * 1000) / (result.simulatedMs / 1000));
    }
  } finally {
    prototype._process = original;
  }
  return { inside, outside };
}

const share = await xstateShare(healthy);
const perSecondRow = (figure: string, values: readonly number[]): BenchRow => {
  const s = summarize(values);
  return { figure, median: `${s.median.toFixed(0)} µs`, spread: `${s.min.toFixed(0)}..${s.max.toFixed(0)} (n=${s.n})`, target: '-', ok: null };
};
printTable('Where a healthy group\'s wall time goes, per simulated second (trace off; 10,000 sim s/s allows 100 µs in all)', [
  perSecondRow('inside XState event processing (both statecharts, their I/O actors)', share.inside),
  perSecondRow('outside it (simulated network and DNS, properties, promises)', share.outside),
]);

const SEEDS = [1, 2, 3, 4, 5];
const rows: BenchRow[] = [];
for (const variant of Object.values(BROKEN_VARIANTS)) {
  // Where each is found (as in test/brokenVariants.test.ts); a variant that needs more members runs with them.
  const shape =
    variant.name === 'failbackOnRestart' || variant.name === 'ignoresTakeoverOrder'
      ? 'crashes'
      : variant.name === 'lateRoleAnnouncement'
        ? 'handovers'
        : variant.name === 'oneAcknowledgementConfirms'
          ? 'partialPartitions'
          : 'mixed';
  const times: number[] = [];
  const runs: number[] = [];
  let right = 0;
  for (const seed of SEEDS) {
    const start = performance.now();
    // Only the property the broken rule protects is checked (as in test/brokenVariants.test.ts).
    const report = await checkSimulationProperties({ shape, seed, numRuns: 300, variant, shrink: false, properties: [variant.expected] });
    times.push(performance.now() - start);
    runs.push(report.failed ? report.runs : Number.POSITIVE_INFINITY);
    if (report.violation?.property === variant.expected) right += 1;
  }
  const t = summarize(times);
  const r = summarize(runs);
  rows.push({
    figure: `${variant.name} (${shape}) -> ${variant.expected}`,
    median: `${(t.median / 1000).toFixed(2)} s, ${r.median} runs`,
    spread: `${(t.min / 1000).toFixed(2)}..${(t.max / 1000).toFixed(2)} s, ${r.min}..${r.max} runs`,
    target: `right property ${SEEDS.length}/${SEEDS.length}`,
    ok: right === SEEDS.length,
  });
}
printTable(`Time and scenarios to the first counterexample per broken variant (seeds ${SEEDS.join(', ')}, no shrinking)`, rows);
