/**
 * leaseLostOnlyInTenure: a node tells LEASE_LOST only of a lease it announced, after its NODE_ROLE_CHANGED to primary
 * and before its step-down. A forced taker that waits out the old Primary's lease has role secondary: when its own
 * lease runs out during that wait it gives up the takeover (TAKEOVER_ABANDONED), it does not "lose" a tenure it
 * never announced (docs/design.md rule 6 and section 3).
 */
import { describe, expect, it } from 'vitest';
import { enqueueActions } from 'xstate';
import { nodeMachine, type NodeMachine } from '../machines/nodeMachine.js';
import { stepDown } from '../machines/nodeRules.js';
import { patchContext } from '../machines/contextPatch.js';
import { EventId } from '../src/api/constants.js';
import { healthyScenario, runSimulation, type Scenario } from '../src/testing/index.js';

// Heartbeat 1 s, failover period 3 s (lease 2.25 s). From 9 s the peer path is cut both ways; at 10 s a failover is
// asked on b: its step-down request goes unanswered, so it takes over by force (its update is answered at ~10.15 s)
// and waits out a's lease, from the progress it saw at its fresh read. Its own lease runs from the update's send
// time, a little shorter, and DNS is cut for b from 10.16 s, so no heartbeat of b's is confirmed: its lease runs out
// ~45 ms before the wait ends.
const healthy = healthyScenario({ seed: 7, durationMs: 30_000, heartbeatS: 1 });
const leaseRunsOutWhileWaiting: Scenario = {
  ...healthy,
  faults: [
    { kind: 'partition', from: 'b', to: 'a', at: 9_000, duration: 12_000 },
    { kind: 'partition', from: 'a', to: 'b', at: 9_000, duration: 12_000 },
    { kind: 'dnsCut', node: 'b', at: 10_160, duration: 6_000 },
  ],
  workload: [{ kind: 'failover', node: 'b', at: 10_000 }],
};

/** The machine before the fix: every lost lease said LEASE_LOST, announced or not. */
function leaseLostWithoutTenure(): NodeMachine {
  return nodeMachine.provide({
    actions: {
      loseLease: enqueueActions(({ context, enqueue }, params: { reason: string }) => {
        enqueue.assign(patchContext(context, { ...stepDown(context), reason: params.reason }));
        enqueue.emit({ type: EventId.LEASE_LOST, reason: params.reason, epoch: context.epoch });
      }),
    },
  }) as NodeMachine;
}

function emitted(result: Awaited<ReturnType<typeof runSimulation>>, node: string): string[] {
  return (result.trace.entries as readonly { kind: string; node?: string; eventId?: string }[]).flatMap((entry) =>
    entry.kind === 'emitted' && entry.node === node && entry.eventId !== undefined ? [entry.eventId] : [],
  );
}

describe('leaseLostOnlyInTenure', () => {
  it('holds for the real machine: a forced taker whose lease runs out while it waits abandons the takeover', async () => {
    const result = await runSimulation(leaseRunsOutWhileWaiting, { trace: true });
    expect(result.violations).toEqual([]);
    expect(result.exercised).toContain('leaseLostOnlyInTenure');
    const b = emitted(result, 'b');
    const started = b.indexOf(EventId.TAKEOVER_STARTED);
    expect(started).toBeGreaterThanOrEqual(0);
    expect(b.slice(started, started + 3)).toContain(EventId.TAKEOVER_ABANDONED);
    expect(b.slice(0, b.indexOf(EventId.TAKEOVER_ABANDONED))).not.toContain(EventId.LEASE_LOST);
  });

  it('catches a taker that tells LEASE_LOST for a lease it never announced (the machine before the fix)', async () => {
    const result = await runSimulation(leaseRunsOutWhileWaiting, { variant: { name: 'leaseLostWithoutTenure', breaks: 'rule 8', expected: 'leaseLostOnlyInTenure', machine: leaseLostWithoutTenure } });
    expect(result.violations.map((violation) => violation.property)).toEqual(['leaseLostOnlyInTenure']);
    expect(result.violations[0]!.message).toMatch(/^b emitted LEASE_LOST \(lease expired, epoch 2\) outside a tenure: its last NODE_ROLE_CHANGED said secondary/);
  });
});
