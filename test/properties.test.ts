/**
 * The properties of docs/design.md section 4 against the real machine, as fast-check properties over simulated
 * scenarios. Each runs with a fixed seed and a run count sized for CI (`npm run test:soak` runs many more with
 * random seeds). A failure prints the property, the seed and path, the `npm run sim` command that replays it, the
 * scenario and a timeline excerpt.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FAULT_MIXES,
  PROPERTY_NAMES,
  checkSimulationProperties,
  healthyScenario,
  runSimulation,
  scenarioArbitrary,
  type Scenario,
  type ScenarioShapeName,
} from '../src/testing/index.js';

/** Runs per shape: the whole file stays around a minute on two cores. */
const RUNS: Readonly<Record<ScenarioShapeName, number>> = { mixed: 20, heavy: 12, crashes: 25, healthyPaths: 20, dnsOutages: 15, handovers: 25, applicationHealth: 15, maintenance: 20, partialPartitions: 12 };
const SEED = 20_260_101;

describe('the failover properties hold for the real machine', () => {
  for (const [shape, numRuns] of Object.entries(RUNS) as [ScenarioShapeName, number][]) {
    it(`over ${numRuns} ${shape} scenarios: ${PROPERTY_NAMES.filter((name) => name !== 'determinism').join(', ')}`, { timeout: 120_000 }, async () => {
      // A failure is reported with the counterexample shrunk for at most 30 s, inside the test's time.
      const report = await checkSimulationProperties({ shape, seed: SEED, numRuns, shrinkTimeLimitMs: 30_000 });
      expect(report.failed, report.message).toBe(false);
      expect(report.runs).toBe(numRuns);
      // The shapes leave a quiet tail in most scenarios: convergence is checked, not vacuously kept.
      expect(report.exercised.convergence, JSON.stringify(report.exercised)).toBeGreaterThanOrEqual(Math.ceil(numRuns * 0.6));
      expect(report.exercised.oneAnnouncedPrimary).toBe(numRuns);
    });
  }

  it('fails over once for every crashed Primary whose Secondary can reach DNS (failoverHappens is exercised)', async () => {
    // The run lasts three failover periods past the crash: longer than failoverHappens' bound.
    const crashOnly = scenarioArbitrary({ mix: { maxFaults: 0 }, maxOps: 0, periods: [6, 10], quietTail: 0 }).chain((scenario) =>
      fc.double({ min: 0.25, max: 0.75, noNaN: true }).map((share) => {
        const at = Math.round(scenario.durationMs * share);
        const durationMs = Math.max(scenario.durationMs, at + 3 * scenario.group.allowed_absence_interval * 1000);
        return { ...scenario, durationMs, faults: [{ kind: 'crash' as const, node: 'a' as const, at, restartAfter: null }] };
      }),
    );
    await fc.assert(
      fc.asyncProperty(crashOnly, async (scenario) => {
        const result = await runSimulation(scenario);
        expect(result.violations).toEqual([]);
        expect(result.failoverTimes).toHaveLength(1);
        expect(result.exercised).toContain('failoverHappens');
      }),
      { seed: SEED, numRuns: 15 },
    );
  });

  it('gives a survivor that never saw a heartbeat its deadline from when it became Secondary (failoverHappens)', async () => {
    // a created the group and hands over to b at 10 s; b crashes for good before a's first standby check, so a has
    // no measure of silence yet when the duty begins. Its deadline runs from its first standby read, not from 0.
    const healthy = healthyScenario({ seed: 5, durationMs: 30_000, heartbeatS: 1 });
    const scenario: Scenario = { ...healthy, workload: [{ kind: 'failover', node: 'a', at: 10_000 }], faults: [{ kind: 'crash', node: 'b', at: 10_800, restartAfter: null }] };
    const result = await runSimulation(scenario);
    expect(result.violations).toEqual([]);
    expect(result.exercised).toContain('failoverHappens');
    expect(result.failoverTimes).toHaveLength(1);
    // One standby check and a DNS read to start measuring, then a failover period and a check: well below 6 s.
    expect(result.failoverTimes[0]!).toBeLessThan(1_500 + 3_000 + 1_500 + 200);
  });

  it('takes a shape object or any scenario arbitrary, and names it in the report', async () => {
    const byShape = await checkSimulationProperties({ shape: { mix: FAULT_MIXES.none, maxOps: 0, periods: [4, 6] }, seed: 3, numRuns: 3 });
    expect(byShape.failed, byShape.message).toBe(false);
    expect(byShape.message).toContain('shape {');
    const healthy = fc.integer({ min: 1, max: 1_000 }).map((seed) => healthyScenario({ seed, durationMs: 12_000 }));
    const byArbitrary = await checkSimulationProperties({ shape: healthy, seed: 3, numRuns: 3 });
    expect(byArbitrary.failed, byArbitrary.message).toBe(false);
    expect(byArbitrary.exercised.convergence).toBe(3);
  });
});
