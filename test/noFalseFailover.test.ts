/**
 * noFalseFailover judges a takeover for absence by the heartbeat paths that delivered: the direct path counts when
 * the Primary's heartbeats reached the Secondary within the request timeout (whatever happened to the
 * acknowledgements back), DNS when both nodes made their round trips within it, slow answers included.
 */
import { describe, expect, it } from 'vitest';
import { assign } from 'xstate';
import { nodeMachine, type NodeMachine } from '../machines/nodeMachine.js';
import type { RecordsRead } from '../machines/nodeMachine.types.js';
import { observeRecords } from '../machines/nodeRules.js';
import { patchContext } from '../machines/contextPatch.js';
import { healthyScenario, runSimulation, type BrokenVariant, type Fault, type Scenario } from '../src/testing/index.js';
import { FaultConditions } from '../src/testing/internal/faultConditions.js';

describe('which paths delivered (FaultConditions)', () => {
  it('counts only the Primary-to-Secondary direction of the direct path, and slow links within the bound', () => {
    const faults = new FaultConditions([
      { kind: 'partition', from: 'b', to: 'a', at: 100, duration: 100 },
      { kind: 'lossy', from: 'a', to: 'b', at: 300, duration: 100, loss: 0, duplicate: 0.5 },
      { kind: 'lossy', from: 'a', to: 'b', at: 500, duration: 100, loss: 0.1, duplicate: 0 },
      { kind: 'slowLink', from: 'a', to: 'b', at: 700, duration: 100, extraMs: 30 },
    ]);
    // A one-way cut of the acknowledgements does not stop the heartbeats.
    expect(faults.linkDelivers('a', 'b', 0, 250, 20, 80)).toBe(true);
    expect(faults.linkDelivers('b', 'a', 0, 250, 20, 80)).toBe(false);
    // Duplicates do no harm; any loss does.
    expect(faults.linkDelivers('a', 'b', 250, 450, 20, 80)).toBe(true);
    expect(faults.linkDelivers('a', 'b', 450, 650, 20, 80)).toBe(false);
    // A slow link delivers while its delay stays below the bound.
    expect(faults.linkDelivers('a', 'b', 650, 900, 20, 80)).toBe(true);
    expect(faults.linkDelivers('a', 'b', 650, 900, 20, 50)).toBe(false);
  });

  it('counts DNS as delivering for both nodes while neither is cut off and a round trip stays below the bound', () => {
    const faults = new FaultConditions([
      { kind: 'dnsSlow', at: 100, duration: 100, extraMs: 15 },
      { kind: 'dnsCut', node: 'b', at: 300, duration: 100 },
      { kind: 'dnsOutage', at: 500, duration: 100 },
    ]);
    expect(faults.dnsDelivers(['a', 'b'], 0, 250, 20, 79)).toBe(true); // 2 × (20 + 15) = 70 < 79
    expect(faults.dnsDelivers(['a', 'b'], 0, 250, 20, 70)).toBe(false);
    expect(faults.dnsDelivers(['a'], 250, 450, 20, 79)).toBe(true);
    expect(faults.dnsDelivers(['a', 'b'], 250, 450, 20, 79)).toBe(false);
    expect(faults.dnsDelivers(['a', 'b'], 450, 650, 20, 79)).toBe(false);
  });
});

/**
 * A Secondary that counts only direct heartbeats as progress (a heartbeat read from DNS teaches it the records but
 * not progress): it takes over while DNS still delivers the Primary's heartbeats.
 */
const directOnly: BrokenVariant = {
  name: 'directProgressOnly',
  breaks: 'rule 1: a heartbeat read from DNS is not counted as progress',
  expected: 'noFalseFailover',
  machine: () =>
    nodeMachine.provide({
      guards: { dnsShowsNewerHeartbeat: () => false },
      actions: { recordRecordsRead: assign(({ context }, read: RecordsRead) => patchContext(context, observeRecords(context, { ...read, heartbeat: null }))) },
    }) as NodeMachine,
};

describe('noFalseFailover', () => {
  // Heartbeat 1 s, failover period 3 s; delays 5 to 20 ms, request timeout 80 ms.
  const healthy = healthyScenario({ seed: 5, durationMs: 30_000, heartbeatS: 1 });
  const cutToSecondary: Fault = { kind: 'partition', from: 'a', to: 'b', at: 10_000, duration: 9_000 };
  const run = (faults: Fault[]) => runSimulation({ ...healthy, faults } satisfies Scenario, { variant: directOnly, properties: ['noFalseFailover'] });

  it('catches a takeover while the direct path is cut one way but DNS delivers', async () => {
    const result = await run([cutToSecondary]);
    expect(result.violations.map((violation) => violation.property)).toEqual(['noFalseFailover']);
    expect(result.violations[0]!.message).toContain('DNS path');
  });

  it('counts slow DNS whose round trip stays within the request timeout as delivering', async () => {
    const result = await run([cutToSecondary, { kind: 'dnsSlow', at: 9_000, duration: 11_000, extraMs: 15 }]);
    expect(result.violations.map((violation) => violation.property)).toEqual(['noFalseFailover']);
  });

  it('excuses a takeover when DNS answers slower than the request timeout and the direct path is cut', async () => {
    // The cut outlasts the slow DNS by 2 s: a, which lost its lease meanwhile, reclaims as soon as DNS answers in time
    // again, and its first heartbeat leaves at once (rule 3); were the direct path back by then, b would see it.
    const result = await run([{ ...cutToSecondary, duration: 12_000 }, { kind: 'dnsSlow', at: 9_000, duration: 11_000, extraMs: 30 }]);
    expect(result.exercised).toContain('noFalseFailover');
    expect(result.violations).toEqual([]);
  });

  it('holds for the real machine in the same scenarios', async () => {
    for (const faults of [[cutToSecondary], [cutToSecondary, { kind: 'dnsSlow' as const, at: 9_000, duration: 11_000, extraMs: 15 }]]) {
      const result = await runSimulation({ ...healthy, faults });
      expect(result.violations).toEqual([]);
      expect(result.trace.entries.some((entry) => entry.kind === 'emitted' && entry.eventId === 'TAKEOVER_STARTED')).toBe(false);
    }
  });
});
