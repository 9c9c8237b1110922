/**
 * The fault suite on real processes (test/chaos/, `npm run chaos`), short: about two minutes over the embedded DNS
 * server with a fixed seed and the fast timers (0.1/0.1/0.5 s). At least one whole round of the schedule runs, so every
 * fault kind is injected: kill -9 of either node and restart, SIGSTOP of the Primary for 1.5 and 3 failover periods,
 * of the Secondary and of the DNS server (also as a takeover begins), one-way and two-way cuts of the peer path,
 * manual failovers on either node with and without a fault, and both nodes restarted. It must end with no safety
 * violation: never two nodes certainly acting as Primary, never two announcing primary (tolerance 0 on the shared
 * monotonic clock), unbroken NODE_ROLE_CHANGED chains, no crash. The table is printed; the nodes' logs are kept
 * under the directory it names (the system temp dir, ag-chaos/).
 */
import { expect, it } from 'vitest';
import { FAULT_KINDS } from '../chaos/schedule.js';
import { runChaos } from '../chaos/suite.js';

const SEED = 20_261_129;

it(
  'a short fault suite on real processes (embedded DNS, seed 20261129): every fault kind injected, no safety violation',
  async () => {
    const result = await runChaos({ minutes: 1.75, minRounds: 1, dns: 'embedded', timers: { heartbeat: 0.1, check: 0.1, absence: 0.5 }, seed: SEED });
    console.info(`${result.text}\n\nlogs: ${result.outDir} (wall ${(result.wallMs / 1000).toFixed(0)} s)`);
    expect(result.failure, 'the suite ran to its end').toBeUndefined();
    expect(result.report.kindsInjected, 'every fault kind was injected').toEqual(FAULT_KINDS);
    expect(result.report.violations.map((violation) => `[${violation.kind}] ${violation.text}`), result.violationsText).toEqual([]);
  },
  15 * 60_000,
);
