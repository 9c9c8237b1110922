/**
 * The node machine's context stays a fast V8 object. XState's `assign` builds each new context with
 * `Object.assign({}, context, changes)`; past about 19 fields V8 makes such an object a dictionary, and every step
 * and every read of the context got several times slower (the simulator ran at half its speed). So the context keeps
 * few top-level fields, grouped by rule, and rules change a group through `patchContext`.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergePatches, patchContext } from '../machines/contextPatch.js';
import type { NodeContext, NodeContextPatch } from '../machines/nodeMachine.types.js';
import { initialContext } from '../machines/nodeRules.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const timers = { heartbeatIntervalMs: 1000, checkIntervalMs: 1000, absenceMs: 3000, leaseMs: 2000, leaseBoundMs: 2200 };

describe('the node context', () => {
  it('stays a fast object through every step of a simulated group (V8 says so), and the check is not blind', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', join(ROOT, 'test/support/fastContextProbe.ts')], {
      cwd: ROOT,
      timeout: 120_000,
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { checked: number; slow: number; control: boolean; violations: number };
    expect(result.control, 'a 40-field object built by Object.assign is seen as slow').toBe(true);
    expect(result.violations).toBe(0);
    expect(result.checked, 'node machine steps checked').toBeGreaterThan(200);
    expect(result.slow, `steps whose context V8 keeps as a dictionary, of ${result.checked}`).toBe(0);
  }, 150_000);

  it('patches a group fact by fact: a fact the patch does not name keeps its value', () => {
    const context = initialContext({ nodeId: 'a', address: '127.0.0.2', timers, inGroup: true, epoch: 3 });
    const patched = { ...context, ...patchContext(context, { epoch: 4, lease: { ownSeq: 7 } }) } as NodeContext;
    expect(patched.epoch).toBe(4);
    expect(patched.lease).toEqual({ ...context.lease, ownSeq: 7 });
    expect(patched.progress).toBe(context.progress);
  });

  it('merges two patches as applying one after the other (fast-check, fixed seed)', () => {
    const seq = fc.option(fc.nat({ max: 100 }), { nil: undefined });
    const patch = fc.record(
      { epoch: fc.nat({ max: 9 }), reason: fc.string(), lease: fc.record({ ownSeq: fc.nat({ max: 9 }), leaseExpiresAt: fc.option(fc.nat()) }, { requiredKeys: [] }), progress: fc.record({ lastProgressAt: fc.option(fc.nat()) }, { requiredKeys: [] }), failover: fc.record({ offerRetries: seq }, { requiredKeys: [] }) },
      { requiredKeys: [] },
    ) as fc.Arbitrary<NodeContextPatch>;
    const base = initialContext({ nodeId: 'a', address: '127.0.0.2', timers, inGroup: true });
    const apply = (context: NodeContext, change: NodeContextPatch): NodeContext => ({ ...context, ...patchContext(context, change) }) as NodeContext;
    fc.assert(
      fc.property(patch, patch, (first, second) => {
        expect(apply(base, mergePatches(first, second))).toEqual(apply(apply(base, first), second));
      }),
      { seed: 14, numRuns: 300 },
    );
  });
});
