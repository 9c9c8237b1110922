/**
 * The fault suite on real processes (test/chaos/, `npm run chaos`), short: about two minutes over the embedded DNS
 * server with a fixed seed and the fast timers (0.1/0.1/0.5 s). At least one whole round of the schedule runs, so every
 * fault kind is injected: kill -9 of either node and restart, SIGSTOP of the Primary for 1.5 and 3 failover periods,
 * of the Secondary and of the DNS server (also as a takeover begins), one-way and two-way cuts of the peer path,
 * manual failovers on either node with and without a fault, and both nodes restarted. It must end with no safety
 * violation: never two nodes certainly acting as Primary, never two announcing primary (tolerance 0 on the shared
 * monotonic clock), unbroken NODE_ROLE_CHANGED chains, no crash. The table is printed; the nodes' logs are kept
 * under the directory it names (the system temp dir, ag-chaos/).
 *
 * Then one round of a part of the etcd schedule (`coordination: etcd` on a three-member etcd cluster, under a minute
 * of wall time): kill -9 and a 1.5 A pause of the Primary, and the etcd faults (a member paused, a majority paused,
 * a member killed, a majority paused as a takeover begins), with the same rules. Skipped where etcd is not installed
 * (CI must have it).
 */
import { expect, it } from 'vitest';
import { FAULT_KINDS, type FaultKind } from '../chaos/schedule.js';
import { runChaos } from '../chaos/suite.js';
import { etcdUnavailableReason } from '../support/etcdCluster.js';

const SEED = 20_261_129;
const etcdMissing = etcdUnavailableReason();
if (etcdMissing !== null && process.env.CI) throw new Error(`The etcd fault suite must run in CI: ${etcdMissing}`);

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

/** The kinds of the short etcd round: the takeovers by absence, and every fault of the etcd cluster. */
const ETCD_KINDS: readonly FaultKind[] = ['kill-primary', 'pause-primary-1.5x', 'pause-etcd-member', 'pause-etcd-quorum', 'kill-etcd-member', 'pause-etcd-at-takeover'];

it.skipIf(etcdMissing !== null)(
  `a short fault suite on etcd (three members, seed 20261129): the etcd faults and takeovers, no safety violation${etcdMissing === null ? '' : ` (skipped: ${etcdMissing})`}`,
  async () => {
    const result = await runChaos({ minutes: 0, minRounds: 1, coordination: 'etcd', kinds: ETCD_KINDS, timers: { heartbeat: 0.1, check: 0.1, absence: 0.5 }, seed: SEED });
    console.info(`${result.text}\n\nlogs: ${result.outDir} (wall ${(result.wallMs / 1000).toFixed(0)} s)`);
    expect(result.failure, 'the suite ran to its end').toBeUndefined();
    expect([...result.report.kindsInjected].sort(), 'every kind of the round was injected').toEqual([...ETCD_KINDS].sort());
    expect(result.report.violations.map((violation) => `[${violation.kind}] ${violation.text}`), result.violationsText).toEqual([]);
  },
  10 * 60_000,
);
