/**
 * The convergence property: once the last fault has ended and the last operator action was issued, within a bound
 * derived from the settings, exactly one live node acts as Primary, DNS names it, and the other live node is a
 * Secondary that keeps seeing the Primary's heartbeats. And the scenario shapes leave the quiet tail it needs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeMachine, type NodeMachine } from '../machines/nodeMachine.js';
import {
  SCENARIO_SHAPES,
  convergenceTiming,
  healthyScenario,
  quietFrom,
  runSimulation,
  scenarioArbitrary,
  type BrokenVariant,
  type Scenario,
} from '../src/testing/index.js';

// Heartbeat 1 s, standby check 1.5 s, failover period 3 s, lease 2.25 s; delays 5 to 20 ms, request timeout 80 ms.
const healthy = healthyScenario({ seed: 5, durationMs: 40_000, heartbeatS: 1 });
const crashForGood: Scenario = { ...healthy, faults: [{ kind: 'crash', node: 'a', at: 10_000, restartAfter: null }] };

describe('convergenceTiming', () => {
  it('derives the bound from the timers, the delays and the slowest clock', () => {
    const r = 0.99;
    const timing = convergenceTiming(healthy);
    // (lease + failover period + check + heartbeat) / r + (n + 3) DNS round trips + 2 request timeouts / r + a peer round trip, n = 3000/1500 + 1
    expect(timing.boundMs).toBeCloseTo((2_250 + 3_000 + 1_500 + 1_000) / r + (3 + 3) * 40 + (2 * 80) / r + 40, 6);
    expect(timing.progressWindowMs).toBeCloseTo(1_000 / r + 20 + 1, 6);
    expect(timing).toMatchObject({ quietFromMs: 0, checked: true });
  });

  it('counts a crash without restart at its instant, other faults at their end, operator actions at their instant', () => {
    expect(quietFrom(crashForGood)).toBe(10_000);
    expect(quietFrom({ faults: [{ kind: 'crash', node: 'a', at: 10_000, restartAfter: 5_000 }, { kind: 'dnsOutage', at: 9_000, duration: 2_000 }], workload: [{ kind: 'failover', node: 'b', at: 12_000 }] })).toBe(15_000);
    const bothDown: Scenario = { ...crashForGood, faults: [...crashForGood.faults, { kind: 'crash', node: 'b', at: 12_000, restartAfter: null }] };
    expect(convergenceTiming(bothDown).checked).toBe(false);
    expect(convergenceTiming({ ...healthy, durationMs: 8_000 }).checked).toBe(false);
  });
});

describe('convergence', () => {
  it('holds for the real machine: the survivor of a crash acts as Primary, alone, and DNS names it', async () => {
    const result = await runSimulation(crashForGood);
    expect(result.violations).toEqual([]);
    expect(result.exercised).toContain('convergence');
  });

  it('fails when no node takes over', async () => {
    const neverTakesOver: BrokenVariant = {
      name: 'neverTakesOver',
      breaks: 'rule 1: the Primary is never found absent',
      expected: 'convergence',
      machine: () => nodeMachine.provide({ guards: { primaryIsAbsent: () => false } }) as NodeMachine,
    };
    const result = await runSimulation(crashForGood, { variant: neverTakesOver, properties: ['convergence'] });
    expect(result.violations).toHaveLength(1);
    expect(result.violations[0]).toMatchObject({ property: 'convergence', t: convergenceTiming(crashForGood).checkedFromMs });
    expect(result.violations[0]!.message).toContain('no live node acts as Primary');
  });

  it('fails when the Secondary does not see its seen (epoch, seq) rise once per heartbeat interval', async () => {
    // The Primary paces its heartbeats at 1.9 heartbeat intervals: its lease (2.25 intervals) still holds, but the
    // Secondary's progress stalls longer than the progress window.
    const slowPacing: BrokenVariant = {
      name: 'slowPacing',
      breaks: 'rule 3: heartbeats leave at 1.9 times the heartbeat interval',
      expected: 'convergence',
      machine: () => nodeMachine.provide({ delays: { heartbeatInterval: ({ context }) => context.timers.heartbeatIntervalMs * 1.9 } }) as NodeMachine,
    };
    const result = await runSimulation(healthy, { variant: slowPacing, properties: ['convergence'] });
    expect(result.violations.map((violation) => violation.property)).toEqual(['convergence']);
    expect(result.violations[0]!.message).toContain('no rise within the progress window');
  });

  it('is checked in most scenarios of every shape: they leave a quiet tail', () => {
    for (const [name, shape] of Object.entries(SCENARIO_SHAPES)) {
      const scenarios = fc.sample(scenarioArbitrary(shape), { seed: 11, numRuns: 200 });
      const checked = scenarios.filter((scenario) => convergenceTiming(scenario).checked).length;
      expect(checked, name).toBeGreaterThanOrEqual(140);
    }
    const none = fc.sample(scenarioArbitrary({ ...SCENARIO_SHAPES.heavy, quietTail: 0 }), { seed: 11, numRuns: 100 });
    expect(none.filter((scenario) => convergenceTiming(scenario).checked).length).toBeLessThan(60);
  });
});
