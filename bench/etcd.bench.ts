/**
 * etcd or DNS as the group authority, in one run on this machine:
 *
 * 1. Failover after `kill -9` of the Primary, with the etcd authority (a 3-member etcd cluster on 127.0.0.1) beside
 *    the DNS authority (the embedded DNS server, `agctl dns-server`), at the same timers: heartbeat/check/absence
 *    0.1/0.1/0.5 s and 0.05/0.05/0.15 s. Each authority has its own two-node group (`agctl start` on 127.0.0.2 and
 *    127.0.0.3, its own port); both groups run side by side and the runs alternate, DNS then etcd, so both see the
 *    same machine. Each kill comes 1 s after the group is ready plus a seeded random part of one heartbeat interval
 *    (a random phase). Failover is the time from the kill to the first answer of the authority naming the survivor:
 *    for DNS a UDP query loop every 2 ms, for etcd a loop of linearizable reads (the client the nodes use) started
 *    every 2 ms. The killed node is restarted and joins as Secondary; a takeover before the kill is counted and the
 *    run repeated.
 * 2. A heartbeat write's round trip: the Primary's compare-and-swap of the heartbeat value (it expects the value it
 *    wrote last), sequential, in alternating runs of 200 against each authority (after a warm-up of 50), through the
 *    clients a node uses (the RFC 2136 + TSIG client; the etcd client, one transaction per write).
 *
 * The etcd cluster and the DNS server are the ones `agctl demo` starts (src/cli/demoAuthority.ts,
 * src/cli/etcdDemoAuthority.ts). Needs etcd and etcdctl (`apt-get install etcd-server etcd-client`); without them it
 * prints "skipped: <reason>" and exits 0 (1 under CI).
 *
 *     npm run bench -- etcd [--runs 7] [--seed 1]
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgctlProcess } from '../src/cli/agctlProcess.js';
import { DEMO_ZONE, startDnsDemoAuthority, type DemoAuthority, type DemoAuthorityContext, type DnsDemoAuthority } from '../src/cli/demoAuthority.js';
import { etcdUnavailableReason, findEtcdBinary } from '../src/cli/etcdCluster.js';
import { startEtcdDemoAuthority, type EtcdDemoAuthority } from '../src/cli/etcdDemoAuthority.js';
import { Timeline } from '../src/cli/timeline.js';
import { pollAuthorityAddress } from './internal/authorityAddressPoll.js';
import { parseBenchOptions, type BenchOptions } from './internal/benchOptions.js';
import { pollDnsAddress } from './internal/dnsAddressPoll.js';
import { printGrid } from './internal/grid.js';
import { LocalPair, type PairTimers } from './internal/localPair.js';
import { TakeoverBeforeKill, type AuthorityWatch } from './internal/measureFailover.js';
import { seededRandom } from './internal/seededRandom.js';
import { ms, quantile, summarize } from './stats.js';

const TIMER_SETS: readonly PairTimers[] = [
  { heartbeat: 0.1, check: 0.1, absence: 0.5 },
  { heartbeat: 0.05, check: 0.05, absence: 0.15 },
];
/** Every run waits this long once the group is ready, then a random part of one heartbeat interval (the kill phase). */
const SETTLE_MS = 1000;
/** Milliseconds between the starts of two queries (DNS) or reads (etcd) of the watch. */
const POLL_EVERY_MS = 2;
const WRITES_PER_RUN = 200;
const WARMUP_WRITES = 50;
/** Attempts of one run when the authority names the Secondary before the kill (a busy machine's false takeovers). */
const MAX_ATTEMPTS = 5;

let options: BenchOptions;
try {
  options = parseBenchOptions(process.argv.slice(2), 'etcd');
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
const unavailable = etcdUnavailableReason();
if (unavailable !== null) {
  console.log(`skipped: ${unavailable}`);
  process.exit(process.env.CI ? 1 : 0);
}

const random = seededRandom(options.seed);
const dir = await mkdtemp(join(tmpdir(), 'ag-etcd-bench-'));
const children: AgctlProcess[] = [];
const context: DemoAuthorityContext = {
  dir,
  timeline: new Timeline({ echo: false }),
  groupFqdn: `g0.${DEMO_ZONE}`,
  spawn: (name, args) => {
    const child = AgctlProcess.spawn(name, args);
    children.push(child);
    return child;
  },
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => process.exit(130));

const etcdVersion = spawnSync(findEtcdBinary('etcd')!, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim() ?? 'etcd';
const loadAtStart = loadavg()[0]!;
console.log(`${options.runs} runs per figure, seed ${options.seed}; ${etcdVersion}, 3 members; load average ${loadAtStart.toFixed(1)} at the start`);

let dns: DnsDemoAuthority | null = null;
let etcd: EtcdDemoAuthority | null = null;

/** The watch of one authority: a UDP query loop (DNS) or a read loop (etcd) for the group's address. */
function watchOf(authority: DnsDemoAuthority | EtcdDemoAuthority, fqdn: string): (address: string, deadlineMs: number) => AuthorityWatch[] {
  return (address, deadlineMs) => [
    authority.kind === 'dns'
      ? pollDnsAddress({ server: authority.server, fqdn, expected: address, everyMs: POLL_EVERY_MS, recursion: false, deadlineMs })
      : pollAuthorityAddress({ authority: authority.client, fqdn, expected: address, everyMs: POLL_EVERY_MS, deadlineMs }),
  ];
}

let unprovokedTakeovers = 0;
/** One measured failover; a takeover before the kill is counted and the run repeated (at most {@link MAX_ATTEMPTS} attempts). */
async function oneFailover(pair: LocalPair, beforeKillMs: () => number, watch: (address: string, deadlineMs: number) => AuthorityWatch[], label: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      const [seen] = await pair.failover(beforeKillMs(), watch);
      return seen!;
    } catch (error) {
      if (!(error instanceof TakeoverBeforeKill) || attempt === MAX_ATTEMPTS) throw error;
      unprovokedTakeovers += 1;
      console.log(`  (${label}: ${error.message} The run is repeated.)`);
    }
  }
}

const timersLabel = (timers: PairTimers) => `${timers.heartbeat}/${timers.check}/${timers.absence} s`;
const failoverRows: string[][] = [];
try {
  dns = await startDnsDemoAuthority({}, context);
  etcd = await startEtcdDemoAuthority(context);
  const authorities = [dns, etcd] as const;
  for (const [index, timers] of TIMER_SETS.entries()) {
    // A fresh group name per timer set: the records of the previous group stay at the authority.
    const fqdn = `g${index + 1}.${DEMO_ZONE}`;
    const pairs = new Map<DemoAuthority, LocalPair>();
    const times = new Map<DemoAuthority, number[]>(authorities.map((authority) => [authority, []]));
    try {
      for (const authority of authorities) pairs.set(authority, await LocalPair.start(authority, fqdn, timers));
      for (let run = 1; run <= options.runs; run++) {
        for (const authority of authorities) {
          const phase = () => SETTLE_MS + random() * timers.heartbeat * 1000;
          times.get(authority)!.push(await oneFailover(pairs.get(authority)!, phase, watchOf(authority, fqdn), authority.label));
        }
        console.log(`  ${timersLabel(timers)}, run ${run}: ${authorities.map((authority) => `${authority.label} ${ms(times.get(authority)!.at(-1)!)}`).join(', ')}`);
      }
    } finally {
      for (const pair of pairs.values()) await pair.stop();
    }
    const absenceMs = timers.absence * 1000;
    const dnsMedian = quantile(times.get(dns)!, 0.5);
    for (const authority of authorities) {
      const values = times.get(authority)!;
      const summary = summarize(values);
      failoverRows.push([
        timersLabel(timers),
        authority.label,
        ms(summary.median),
        `${ms(quantile(values, 0.1))} .. ${ms(quantile(values, 0.9))}`,
        `${ms(summary.min)} .. ${ms(summary.max)}`,
        (summary.median / absenceMs).toFixed(2),
        (summary.max / absenceMs).toFixed(2),
        authority === dns ? '-' : (summary.median / dnsMedian).toFixed(2),
      ]);
    }
  }

  // The heartbeat write: one compare-and-swap expecting the value written last, as the Primary's.
  const fqdn = `hb.${DEMO_ZONE}`;
  const last = new Map<DemoAuthority, string | null>(authorities.map((authority) => [authority, null]));
  const samples = new Map<DemoAuthority, number[]>(authorities.map((authority) => [authority, []]));
  const runMedians = new Map<DemoAuthority, number[]>(authorities.map((authority) => [authority, []]));
  const writes = async (authority: DemoAuthority, count: number): Promise<number[]> => {
    const values: number[] = [];
    for (let i = 0; i < count; i++) {
      const next = `ag1 node=bench epoch=1 seq=${i} sent=${new Date().toISOString()} ${randomBytes(4).toString('hex')}`;
      const started = performance.now();
      await authority.client.compareAndSwap(fqdn, { txt: last.get(authority)! }, { txt: next }, { ttl: 30 });
      values.push(performance.now() - started);
      last.set(authority, next);
    }
    return values;
  };
  for (const authority of authorities) await writes(authority, WARMUP_WRITES);
  for (let run = 0; run < options.runs; run++) {
    for (const authority of authorities) {
      const values = await writes(authority, WRITES_PER_RUN);
      samples.get(authority)!.push(...values);
      runMedians.get(authority)!.push(quantile(values, 0.5));
    }
  }
  const writeRows = authorities.map((authority) => {
    const all = summarize(samples.get(authority)!);
    const medians = runMedians.get(authority)!;
    return [authority === dns ? 'DNS (embedded server, RFC 2136 + TSIG)' : 'etcd (3 members, one transaction)', ms(all.median), ms(all.p99), `${ms(Math.min(...medians))} .. ${ms(Math.max(...medians))}`, `${ms(all.min)} .. ${ms(all.max)}`, String(all.n)];
  });

  printGrid(
    `Failover after kill -9: etcd authority beside DNS authority (first answer naming the survivor), n=${options.runs} each`,
    ['timers h/c/a', 'authority', 'median', 'p10 .. p90', 'min .. max', 'median / absence', 'max / absence', 'etcd / DNS (median)'],
    failoverRows,
  );
  printGrid(
    `A heartbeat write's round trip (compare-and-swap of the heartbeat value), ${options.runs} runs of ${WRITES_PER_RUN}`,
    ['authority', 'median', 'p99', 'run medians', 'min .. max', 'n'],
    writeRows,
  );
  console.log(`\nTakeovers without a failure (the authority named the Secondary before the kill; run repeated): ${unprovokedTakeovers}.`);
  console.log(`Load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end.`);
} finally {
  await dns?.close();
  await etcd?.close();
  await Promise.all(children.map((child) => child.kill('SIGTERM')));
  await rm(dir, { recursive: true, force: true });
}
