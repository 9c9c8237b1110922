/**
 * The properties of docs/design.md section 4 for a group of three members (coordination etcd, the simulated
 * authority standing for the etcd cluster): every scenario shape with a fixed seed and a fixed run count sized for
 * CI, a failover and its takeover order by hand, and determinism. A failure prints the property, the seed and path,
 * the `npm run sim -- ... --members 3` command that replays it, the scenario and a timeline excerpt.
 */
import { describe, expect, it } from 'vitest';
import {
  PROPERTY_NAMES,
  checkSimulationProperties,
  convergenceTiming,
  healthyScenario,
  runSimulation,
  type Scenario,
  type ScenarioShapeName,
} from '../src/testing/index.js';

const MEMBERS = 3;
/** Runs per shape: about 40 s of CPU for the whole file (measured with `time`; the wall time on a loaded machine is more). */
const RUNS: Readonly<Record<ScenarioShapeName, number>> = {
  mixed: 6,
  heavy: 5,
  crashes: 8,
  healthyPaths: 4,
  dnsOutages: 4,
  handovers: 5,
  maintenance: 5,
  applicationHealth: 5,
  partialPartitions: 6,
};
const SEED = 20_261_130;

// Heartbeat 1 s, standby check 1.5 s, failover period 3 s; delays up to 20 ms.
const healthy = healthyScenario({ seed: 9, durationMs: 30_000, heartbeatS: 1, members: MEMBERS });

describe(`the failover properties hold for ${MEMBERS} members`, () => {
  for (const [shape, numRuns] of Object.entries(RUNS) as [ScenarioShapeName, number][]) {
    it(`over ${numRuns} ${shape} scenarios: ${PROPERTY_NAMES.filter((name) => name !== 'determinism').join(', ')}`, { timeout: 180_000 }, async () => {
      const report = await checkSimulationProperties({ shape, members: MEMBERS, seed: SEED, numRuns, shrinkTimeLimitMs: 30_000 });
      expect(report.failed, report.message).toBe(false);
      expect(report.runs).toBe(numRuns);
      expect(report.exercised.convergence, JSON.stringify(report.exercised)).toBeGreaterThanOrEqual(Math.ceil(numRuns * 0.6));
      expect(report.exercised.oneAnnouncedPrimary).toBe(numRuns);
    });
  }

  it('replaces a crashed Primary by the first Secondary in the takeover order, within the bound; the other follows it', async () => {
    const scenario: Scenario = { ...healthy, faults: [{ kind: 'crash', node: 'a', at: 10_000, restartAfter: null }] };
    const result = await runSimulation(scenario);
    expect(result.violations).toEqual([]);
    expect(result.exercised).toEqual(expect.arrayContaining(['failoverHappens', 'convergence']));
    expect(result.failoverTimes).toHaveLength(1);
    // Failover period 3 s + (3 − 2) × standby check 1.5 s (rank delay) + one check 1.5 s + round trips.
    expect(result.failoverTimes[0]!).toBeLessThan(3_000 + 1_500 + 1_500 + 200);
    const takers = result.trace.entries.filter((entry) => entry.kind === 'emitted' && entry.eventId === 'TAKEOVER_STARTED').map((entry) => ('node' in entry ? entry.node : null));
    // Equal priorities: b comes before c (node id), so b takes over and c, one standby check later in line, does not.
    expect(takers).toEqual(['b']);
    const last = (node: 'b' | 'c') => result.trace.entries.filter((entry) => entry.kind === 'transition' && entry.node === node).at(-1);
    expect(last('b')).toMatchObject({ role: 'primary', epoch: 2 });
    expect(last('c')).toMatchObject({ role: 'secondary', epoch: 2 });
  });

  it('takes the takeover order from priority: the higher one takes over first', async () => {
    const scenario: Scenario = { ...healthy, priorities: { c: 200 }, faults: [{ kind: 'crash', node: 'a', at: 10_000, restartAfter: null }] };
    const result = await runSimulation(scenario);
    expect(result.violations).toEqual([]);
    const takers = result.trace.entries.filter((entry) => entry.kind === 'emitted' && entry.eventId === 'TAKEOVER_STARTED').map((entry) => ('node' in entry ? entry.node : null));
    expect(takers).toEqual(['c']);
  });

  it('widens the convergence bound by the rank delay: (members − 2) standby checks', () => {
    const two = convergenceTiming(healthyScenario({ seed: 9, durationMs: 30_000 }));
    expect(convergenceTiming(healthy).boundMs - two.boundMs).toBeCloseTo(1_500 / 0.99, 6);
  });

  it('is a function of its scenario with three members: the same scenario gives the same trace (determinism)', async () => {
    const scenario: Scenario = {
      ...healthy,
      faults: [
        { kind: 'lossy', from: 'a', to: 'c', at: 5_000, duration: 8_000, loss: 0.5, duplicate: 0.3 },
        { kind: 'partition', from: 'a', to: 'b', at: 12_000, duration: 6_000 },
        { kind: 'dnsCut', node: 'a', at: 12_000, duration: 6_000 },
        { kind: 'crash', node: 'c', at: 20_000, restartAfter: 3_000 },
      ],
    };
    const first = await runSimulation(scenario);
    expect(first.violations).toEqual([]);
    expect(Object.keys(first.trace.nodes)).toEqual(['a', 'b', 'c']);
    const second = await runSimulation(scenario);
    expect(JSON.stringify(second.trace)).toBe(JSON.stringify(first.trace));
    const otherSeed = await runSimulation({ ...scenario, seed: scenario.seed + 1 });
    expect(JSON.stringify(otherSeed.trace)).not.toBe(JSON.stringify(first.trace));
  });
});
