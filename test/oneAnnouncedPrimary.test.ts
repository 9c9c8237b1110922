/**
 * oneAnnouncedPrimary: what a workflow is told is the truth of the whole group. At no instant do two running,
 * unpaused nodes announce primary, counting what getNodeState() says and the last NODE_ROLE_CHANGED each of the
 * node's subscribers received.
 */
import { describe, expect, it } from 'vitest';
import { BROKEN_VARIANTS, healthyScenario, runSimulation, type Scenario } from '../src/testing/index.js';

// Heartbeat 1 s, failover period 3 s; a is Primary and hands over to b at 10 s.
const healthy = healthyScenario({ seed: 5, durationMs: 20_000, heartbeatS: 1 });
const handover: Scenario = { ...healthy, workload: [{ kind: 'failover', node: 'a', at: 10_000 }] };

describe('oneAnnouncedPrimary', () => {
  it('holds for the real machine through a handover, a paused Primary and a crashed one', async () => {
    for (const scenario of [
      handover,
      { ...healthy, faults: [{ kind: 'pause' as const, node: 'a' as const, at: 8_000, duration: 6_000 }] },
      { ...healthy, faults: [{ kind: 'crash' as const, node: 'a' as const, at: 8_000, restartAfter: 4_000 }] },
    ]) {
      const result = await runSimulation(scenario);
      expect(result.violations).toEqual([]);
      expect(result.exercised).toContain('oneAnnouncedPrimary');
    }
  });

  it('counts what subscribers were last told, not only getNodeState()', async () => {
    // Each role change is told one change late: after the handover a's subscribers last heard "primary".
    const result = await runSimulation(handover, { variant: BROKEN_VARIANTS.eventsAfterTheFact, properties: ['oneAnnouncedPrimary'] });
    expect(result.violations.map((violation) => violation.property)).toEqual(['oneAnnouncedPrimary']);
    expect(result.violations[0]!.message).toMatch(/a \(plain subscriber, throwing subscriber; /);
  });

  it('catches a Primary that announces its step-down only once its handover offer is answered', async () => {
    const result = await runSimulation(handover, { variant: BROKEN_VARIANTS.lateRoleAnnouncement });
    expect(result.violations.map((violation) => violation.property)).toEqual(['oneAnnouncedPrimary']);
    expect(result.violations[0]!.message).toMatch(/^a \(getNodeState\(\), plain subscriber, throwing subscriber; state handingOver/);
  });
});
