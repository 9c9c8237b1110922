/**
 * Run by test/nodeContext.test.ts in a child process started with `--allow-natives-syntax`: a simulated healthy group
 * for a minute, checking after every event each node machine processes whether V8 keeps its context as a fast
 * object. Prints one JSON line: `{ checked, slow, control }` (`control`: whether the check sees a dictionary-mode
 * object built the way XState's assign builds one with too many fields; it must, or the check is blind).
 */
import { Actor } from 'xstate';
import { healthyScenario, runSimulation } from '../../src/testing/index.js';

const hasFastProperties = new Function('value', 'return %HasFastProperties(value)') as (value: object) => boolean;

const prototype = Actor.prototype as unknown as { _process(event: unknown): void; _snapshot?: { context?: unknown } };
const original = prototype._process;
let checked = 0;
let slow = 0;
prototype._process = function (this: typeof prototype, event: unknown) {
  original.call(this, event);
  const context = this._snapshot?.context;
  if (typeof context === 'object' && context !== null && 'lease' in context) {
    checked += 1;
    if (!hasFastProperties(context)) slow += 1;
  }
};

// The control: a 40-field object literal, copied as XState's assign copies a context.
const wideLiteral = new Function(`return { ${Array.from({ length: 40 }, (_, i) => `field${i}: ${i}`).join(', ')} };`) as () => object;
const control = !hasFastProperties(Object.assign({}, wideLiteral(), { field0: 1 }));

const result = await runSimulation(healthyScenario({ seed: 1, durationMs: 60_000, heartbeatS: 1 }), { trace: false });
process.stdout.write(`${JSON.stringify({ checked, slow, control, violations: result.violations.length })}\n`);
