/**
 * The node itself: event delivery latency (role change in the statechart to the subscriber callback, in process)
 * and the footprint of an idle node process with a 1 s heartbeat (RSS and CPU from /proc, Primary and Secondary).
 *
 *     npm run bench -- node
 */
import { readFileSync } from 'node:fs';
import { EventId } from '../src/api/constants.js';
import { createNode } from '../src/node/createNode.js';
import { inMemoryPorts } from '../src/node/inMemoryPorts.js';
import { silentLogger } from '../src/node/logger.js';
import { startCluster } from '../test/support/processes.js';
import { ms, printTable, quantile, summarize, type BenchRow } from './stats.js';

const RUNS = Number(process.env.AG_BENCH_RUNS ?? 5);
const CYCLES = 500;
/** CPU is read from /proc in ticks of 10 ms: a 10 s window resolves 0.1 % of a core. */
const CPU_WINDOW_MS = 10_000;
const rows: BenchRow[] = [];

/** One run: CYCLES create/leave cycles, each two role changes; the delay from the transition to the callback. */
async function eventDelays(): Promise<number[]> {
  let changedAt = 0;
  const node = createNode(
    { node_id: 'a', external_ipv4_address: '127.0.0.2', group_fqdn: 'app.bench.test', health_report_interval: 1, health_check_interval: 1, allowed_absence_interval: 5 },
    {
      ...inMemoryPorts(),
      logger: silentLogger(),
      // The inspection event of the snapshot is delivered inside the transition: the role changed right then.
      inspect: (event) => {
        if (event.type !== '@xstate.snapshot') return;
        const role = (event.snapshot as unknown as { context?: { role?: unknown } }).context?.role;
        if (role !== undefined && role !== lastRole) {
          lastRole = role;
          changedAt = performance.now();
        }
      },
    },
  );
  let lastRole: unknown = null;
  const delays: number[] = [];
  node.subscribe(EventId.NODE_ROLE_CHANGED, () => {
    delays.push(performance.now() - changedAt);
  });
  await node.start();
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    await node.createGroup();
    await node.leaveGroup();
  }
  await node.stop({ handOver: false });
  return delays.slice(10);
}

const p99s: number[] = [];
for (let run = 0; run < RUNS; run++) p99s.push(quantile(await eventDelays(), 0.99));
const events = summarize(p99s);
rows.push({ figure: `event delivery p99, role change -> callback (${CYCLES * 2} changes/run)`, median: ms(events.median), spread: `${ms(events.min)} .. ${ms(events.max)} (n=${events.n})`, target: '< 1 ms', ok: events.median < 1 });

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}
function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D+/g, '')) / 1024;
}

const cluster = await startCluster('embedded', { heartbeat: 1, check: 1, absence: 5 }, { form: true });
try {
  await new Promise((resolve) => setTimeout(resolve, 3000)); // warm-up: JIT and first GCs
  for (const node of [cluster.a, cluster.b]) {
    const pid = node.process!.pid;
    const rss: number[] = [];
    const cpu: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const start = { cpu: cpuSeconds(pid), at: performance.now() };
      await new Promise((resolve) => setTimeout(resolve, CPU_WINDOW_MS));
      cpu.push(((cpuSeconds(pid) - start.cpu) / ((performance.now() - start.at) / 1000)) * 100);
      rss.push(rssMb(pid));
    }
    const role = node === cluster.a ? 'Primary' : 'Secondary';
    const r = summarize(rss);
    const c = summarize(cpu);
    rows.push({ figure: `idle ${role} process, 1 s heartbeat: RSS`, median: `${r.median.toFixed(1)} MB`, spread: `${r.min.toFixed(1)} .. ${r.max.toFixed(1)} (n=${r.n})`, target: '< 80 MB', ok: r.median < 80 });
    rows.push({ figure: `idle ${role} process, 1 s heartbeat: CPU`, median: `${c.median.toFixed(2)} %`, spread: `${c.min.toFixed(2)} .. ${c.max.toFixed(2)} (n=${c.n}, ${CPU_WINDOW_MS / 1000} s each)`, target: '< 1 % of a core', ok: c.median < 1 });
  }
} finally {
  await cluster.stop();
}
printTable('Node: event delivery and idle footprint', rows);
