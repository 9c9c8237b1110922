/**
 * The node itself: event delivery latency (role change in the statechart to the subscriber callback, in process).
 * An idle node's footprint is bench/idle.bench.ts.
 *
 *     npm run bench -- node
 */
import { EventId } from '../src/api/constants.js';
import { createNode } from '../src/node/createNode.js';
import { inMemoryPorts } from '../src/node/inMemoryPorts.js';
import { silentLogger } from '../src/api/logger.js';
import { ms, printTable, quantile, summarize, type BenchRow } from './stats.js';

const RUNS = Number(process.env.AG_BENCH_RUNS ?? 5);
const CYCLES = 500;
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

printTable('Node: event delivery', rows);
