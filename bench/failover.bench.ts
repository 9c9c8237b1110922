/**
 * Failover time with real processes on loopback: from kill -9 of the Primary's process to the group FQDN
 * answering the Secondary's address (queried over DNS every 2 ms), over the embedded DNS server. Each run kills the
 * current Primary, measures, and restarts the killed node as Secondary for the next run.
 *
 *     npm run bench -- failover
 */
import { lookupAddress } from '../src/dns/primaryLocator.js';
import { startCluster, waitFor, type TestCluster, type TestTimers } from '../test/support/processes.js';
import { ms, printTable, summarize, type BenchRow } from './stats.js';

const RUNS = Number(process.env.AG_BENCH_RUNS ?? 5);

async function failoverTimes(timers: TestTimers): Promise<number[]> {
  const cluster: TestCluster = await startCluster('embedded', timers, { form: true });
  const server = { host: cluster.dns.host, port: cluster.dns.port };
  const times: number[] = [];
  try {
    let [primary, secondary] = [cluster.a, cluster.b];
    for (let run = 0; run < RUNS; run++) {
      await secondary.waitForState('Secondary with direct heartbeats', (s) => s.node_role === 'secondary' && s.heartbeat_method === 'direct', 20_000);
      // Kill at a random phase of the heartbeat cycle, as a real crash would.
      await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * timers.heartbeat * 1000));
      const killedAt = performance.now();
      await primary.process!.kill('SIGKILL');
      await waitFor('the FQDN to answer the Secondary', () => lookupAddress(server, cluster.groupFqdn, 200).then((address) => address === secondary.address, () => false), 20_000, 2);
      times.push(performance.now() - killedAt);
      await primary.start();
      [primary, secondary] = [secondary, primary];
    }
  } finally {
    await cluster.stop();
  }
  return times;
}

const rows: BenchRow[] = [];
const fast = { heartbeat: 0.1, check: 0.1, absence: 0.5 };
const fastTimes = summarize(await failoverTimes(fast));
const limit = fast.absence * 1000 + 150;
rows.push({
  figure: 'failover kill -9 -> FQDN answers Secondary (0.1/0.1/0.5 s)',
  median: ms(fastTimes.median),
  spread: `${ms(fastTimes.min)} .. ${ms(fastTimes.max)} (n=${fastTimes.n})`,
  target: `<= ${limit} ms`,
  ok: fastTimes.median <= limit,
});
const scaled = { heartbeat: 0.2, check: 0.3, absence: 0.6 };
const ratios = summarize((await failoverTimes(scaled)).map((time) => time / (scaled.absence * 1000)));
rows.push({
  figure: 'failover / absence, product defaults / 100 (0.2/0.3/0.6 s)',
  median: ratios.median.toFixed(3),
  spread: `${ratios.min.toFixed(3)} .. ${ratios.max.toFixed(3)} (n=${ratios.n})`,
  target: '<= 1.25',
  ok: ratios.median <= 1.25,
});
printTable('Failover with real processes (embedded DNS server, loopback)', rows);
