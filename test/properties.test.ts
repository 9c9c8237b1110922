/**
 * The properties of DESIGN.md section 4 against the real machine, as fast-check properties over simulated
 * scenarios. Each runs with a fixed seed and a run count sized for CI (`npm run test:soak` runs many more with
 * random seeds). A failure prints the property, the seed and path, the `npm run sim` command that replays it, the
 * scenario and a timeline excerpt.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSimulationProperties, runSimulation, scenarioArbitrary, type ScenarioShapeName } from '../src/testing/index.js';

/** Runs per shape: together about a minute on two cores. */
const RUNS: Readonly<Record<ScenarioShapeName, number>> = { mixed: 20, heavy: 20, crashes: 25, healthyPaths: 25 };
const SEED = 20_260_101;

describe('the failover properties hold for the real machine', () => {
  for (const [shape, numRuns] of Object.entries(RUNS) as [ScenarioShapeName, number][]) {
    it(`over ${numRuns} ${shape} scenarios: one acting Primary, DNS names the newest epoch, failover happens, no false failover, events tell the truth, restart safety`, async () => {
      const report = await checkSimulationProperties({ shape, seed: SEED, numRuns });
      expect(report.failed, report.message).toBe(false);
      expect(report.runs).toBe(numRuns);
    });
  }

  it('fails over once for every crashed Primary whose Secondary can reach DNS (failoverHappens is exercised)', async () => {
    const crashOnly = scenarioArbitrary({ mix: { maxFaults: 0 }, maxOps: 0, periods: [6, 10] }).chain((scenario) =>
      fc
        .double({ min: 0.25, max: 0.75, noNaN: true })
        .map((share) => ({ ...scenario, faults: [{ kind: 'crash' as const, node: 'a' as const, at: Math.round(scenario.durationMs * share), restartAfter: null }] })),
    );
    await fc.assert(
      fc.asyncProperty(crashOnly, async (scenario) => {
        const result = await runSimulation(scenario);
        expect(result.violations).toEqual([]);
        expect(result.failoverTimes).toHaveLength(1);
      }),
      { seed: SEED, numRuns: 15 },
    );
  });
});
