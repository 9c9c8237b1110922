/**
 * The footprint of an idle two-node group at a 1 s heartbeat: CPU (utime + stime from /proc/<pid>/stat over
 * windows of 60 s) and RSS (/proc/<pid>/status) of the Primary's and the Secondary's `agctl start` process, as
 * medians over several windows measured side by side. Nothing scrapes the nodes meanwhile (an operator's Prometheus
 * would add its own cost per scrape).
 *
 *     npm run bench -- idle                           # 5 windows of 60 s
 *     AG_IDLE_WINDOWS=3 AG_IDLE_WINDOW_S=30 npm run bench -- idle
 */
import { agctlInvocation } from '../src/cli/agctlProcess.js';
import { startCluster } from '../test/support/processes.js';
import { cpuSeconds, rssMb } from '../test/support/procStats.js';
import { printTable, summarize, type BenchRow } from './stats.js';

const WINDOWS = Number(process.env.AG_IDLE_WINDOWS ?? 5);
/** CPU ticks are 10 ms: a 60 s window resolves 0.017 % of a core. */
const WINDOW_MS = Number(process.env.AG_IDLE_WINDOW_S ?? 60) * 1000;
/** Start-up work (imports, JIT, the first GCs, forming the group) is not idle cost. */
const WARM_UP_MS = 15_000;
const TARGET = { cpuPercent: 0.5, rssMb: 60 } as const;

// Through tsx (dist/ older than the sources) a node carries the compiler too: not what users run.
if (agctlInvocation().args.includes('tsx')) console.log('warning: dist/ is older than the sources, so agctl runs through tsx and the figures are too high; npm run bench builds first');
const cluster = await startCluster('embedded', { heartbeat: 1, check: 1, absence: 5 }, { form: true });
const rows: BenchRow[] = [];
try {
  await new Promise((resolve) => setTimeout(resolve, WARM_UP_MS));
  const nodes = [
    { role: 'Primary', pid: cluster.a.process!.pid!, cpu: [] as number[], rss: [] as number[] },
    { role: 'Secondary', pid: cluster.b.process!.pid!, cpu: [] as number[], rss: [] as number[] },
  ];
  for (let window = 0; window < WINDOWS; window++) {
    const at = performance.now();
    const before = nodes.map((node) => cpuSeconds(node.pid));
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    const seconds = (performance.now() - at) / 1000;
    nodes.forEach((node, index) => {
      node.cpu.push(((cpuSeconds(node.pid) - before[index]!) / seconds) * 100);
      node.rss.push(rssMb(node.pid));
    });
  }
  const roles = [await cluster.a.state(), await cluster.b.state()].map((state) => state?.node_role);
  if (roles[0] !== 'primary' || roles[1] !== 'secondary') throw new Error(`the group changed while idle: a is ${roles[0]}, b is ${roles[1]}`);
  for (const node of nodes) {
    const cpu = summarize(node.cpu);
    const rss = summarize(node.rss);
    rows.push({ figure: `idle ${node.role}, 1 s heartbeat: CPU`, median: `${cpu.median.toFixed(2)} %`, spread: `${cpu.min.toFixed(2)} .. ${cpu.max.toFixed(2)} (n=${cpu.n}, ${WINDOW_MS / 1000} s each)`, target: `< ${TARGET.cpuPercent} % of a core`, ok: cpu.median < TARGET.cpuPercent });
    rows.push({ figure: `idle ${node.role}, 1 s heartbeat: RSS`, median: `${rss.median.toFixed(1)} MB`, spread: `${rss.min.toFixed(1)} .. ${rss.max.toFixed(1)} (n=${rss.n})`, target: `< ${TARGET.rssMb} MB`, ok: rss.median < TARGET.rssMb });
  }
} finally {
  await cluster.stop();
}
printTable('Idle node: CPU and memory', rows);
