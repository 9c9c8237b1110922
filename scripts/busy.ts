/**
 * `npm run test:busy -- [--minutes M] [--timings 0.05/0.05/0.15] [--hogs N] [--retain-mb R] [--nice P] [--log-dir D]`: no false failover on
 * a busy machine. Starts the embedded DNS server and two `agctl start` processes (a on 127.0.0.2 creates the group
 * and runs a workflow that allocates heavily, b on 127.0.0.3 joins), then N CPU-bound processes (default 2, each
 * `node -e 'for(;;){}'`), and watches the group for M minutes (default 10): every role change either node logs
 * (its NODE_ROLE_CHANGED events), and its role and epoch in `GET /state` twice a second. At the end it scrapes both
 * nodes' /metrics once (the window since the scrape at the start: the whole run) and prints takeovers, event loop
 * delay p50/p99/max and heartbeat send jitter p50/p99/max per node, and each node's peak RSS. Exits 1 if any
 * takeover or role change happened, 2 on a bad argument, 3 when the run itself failed (a node died, the group did not
 * form). `--nice P` gives the nodes and the DNS server the scheduling priority P (as systemd's `Nice=P`; below 0
 * needs root), the hogs keep 0. `--log-dir D` runs the nodes at log level debug with a probe that logs each GC
 * over 5 ms and each event loop stall over 40 ms, and writes every line each node printed during the watch to
 * D/a.jsonl and D/b.jsonl (with `received`, this script's wall time).
 *
 * The workflow (GC pressure): every 10 ms it builds a batch of 1000 small objects, strings and arrays (about 0.35 MB,
 * 35 MB/s) and keeps the newest batches in a ring of R MB (default 64), dropping the oldest, so that the young
 * generation is collected several times a second and the old generation, R MB of live objects that keep dying, is
 * marked and compacted again and again. The machine's load average is printed at the start, every minute and at the
 * end: the figures mean what they say only when nothing else runs beside the hogs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { cpus, loadavg, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseTimings } from '../test/chaos/suite.js';
import { startCluster, type TestNode } from '../test/support/processes.js';
import { peakRssMb, rssMb } from '../test/support/procStats.js';

let values: Record<string, string | boolean | undefined>;
try {
  values = parseArgs({
    args: process.argv.slice(2),
    options: {
      minutes: { type: 'string', default: '10' },
      timings: { type: 'string', default: '0.05/0.05/0.15' },
      hogs: { type: 'string', default: '2' },
      'retain-mb': { type: 'string', default: '64' },
      nice: { type: 'string' },
      'log-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
} catch (error) {
  console.error(`busy: ${(error as Error).message}`);
  process.exit(2);
}
if (values.help) {
  console.log(`Usage: npm run test:busy -- [options]

No false failover on a busy machine: the embedded DNS server, node a (creates the group, runs a workflow that
allocates about 35 MB/s) and node b (joins), N CPU-bound processes beside them; watches every role change and epoch.
Exits 0 with no takeover and no role change, 1 otherwise, 2 on a bad argument, 3 when the run itself failed.

  --minutes M        how long to watch (default 10)
  --timings H/C/A    heartbeat / standby check / allowed absence in seconds (default 0.05/0.05/0.15)
  --hogs N           CPU-bound processes, each \`node -e 'for(;;){}'\` (default 2)
  --retain-mb R      MB the workflow keeps live (default 64)
  --nice P           scheduling priority of the nodes and the DNS server, as systemd's Nice= (below 0 needs root)
  --log-dir D        nodes log at debug with a GC and event-loop-stall probe; each node's lines go to D/<node>.jsonl
  -h, --help         this text

The figures mean what they say only when nothing else runs beside the hogs: the load average is printed.`);
  process.exit(0);
}
let timers;
try {
  timers = parseTimings(String(values.timings));
} catch (error) {
  console.error(`busy: ${(error as Error).message}`);
  process.exit(2);
}
const minutes = Number(values.minutes);
const hogs = Number(values.hogs);
const retainMb = Number(values['retain-mb']);
const nice = values.nice === undefined ? null : Number(values.nice);
const logDir = typeof values['log-dir'] === 'string' ? values['log-dir'] : null;
if (!(minutes > 0) || !Number.isInteger(hogs) || hogs < 0 || !(retainMb >= 0) || (nice !== null && !(Number.isInteger(nice) && nice >= -20 && nice <= 19))) {
  console.error('busy: --minutes must be a number > 0, --hogs a whole number >= 0, --retain-mb a number >= 0, --nice a whole number from -20 to 19');
  process.exit(2);
}

/** The workflow module a runs: allocation in batches of small objects, a ring of live batches of `retainMb`. */
const WORKFLOW = `
const BATCH_OBJECTS = 1000; // an object, a string and an array each: about 350 bytes, 0.35 MB a batch
const RING = Math.max(1, Math.round((${retainMb} * 1024 * 1024) / (BATCH_OBJECTS * 350)));
const ring = new Array(RING);
let next = 0;
let batches = 0;
function batch() {
  const objects = new Array(BATCH_OBJECTS);
  for (let i = 0; i < BATCH_OBJECTS; i++) objects[i] = { id: batches * BATCH_OBJECTS + i, name: 'item-' + i + '-' + batches, tags: [i, i + 1, i + 2] };
  ring[next] = objects;
  next = (next + 1) % RING;
  batches += 1;
}
setInterval(batch, 10);
`;

const started = performance.now();
const load = () => loadavg().map((value) => value.toFixed(1)).join(' ');
const log = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
log(`busy: ${nice === null ? '' : `nodes and DNS server at nice ${nice}, `}timers ${timers.heartbeat}/${timers.check}/${timers.absence} s (heartbeat/standby check/allowed absence), ${hogs} CPU hog(s), a workflow keeping ${retainMb} MB live, ${minutes} min, on ${cpus().length} CPU(s), load average ${load()}`);

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // The watch ends early; the figures so far are printed and every process started here is stopped.
    if (interrupted) process.exit(130);
    interrupted = true;
  });
}
/**
 * With --log-dir, preloaded into each node (`--require`): a line for every garbage collection over 5 ms and every
 * event loop stall over 40 ms (a 10 ms interval that ran late), with wall times, beside the node's own log lines.
 */
const PROBE = `
const { PerformanceObserver, performance } = require('node:perf_hooks');
const wall = (t) => Math.round(performance.timeOrigin + t);
const line = (fields) => process.stdout.write(JSON.stringify({ msg: 'probe', ...fields }) + '\\n');
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (entry.duration >= 5) line({ probe: 'gc', start: wall(entry.startTime), ms: +entry.duration.toFixed(1), kind: entry.detail?.kind });
}).observe({ entryTypes: ['gc'] });
let last = performance.now();
setInterval(() => {
  const now = performance.now();
  if (now - last > 50) line({ probe: 'stall', start: wall(last + 10), ms: +(now - last - 10).toFixed(1) });
  last = now;
}, 10).unref();
`;
const probeFile = join(tmpdir(), `busy-probe-${process.pid}.cjs`);
if (logDir !== null) await writeFile(probeFile, PROBE);
// With --log-dir the nodes log at debug with the probe above; every line is kept for the files.
const cluster = await startCluster('embedded', timers, logDir === null ? {} : { nodeEnv: { AG_LOG_LEVEL: 'debug', NODE_OPTIONS: `--require ${probeFile}` } });
const received: Record<string, string[]> = { a: [], b: [] };
const hogProcesses: ChildProcess[] = [];
let exitCode = 0;
try {
  const workflow = join(cluster.dir, 'allocating-workflow.mjs');
  await writeFile(workflow, WORKFLOW);
  renice(cluster.dns.pid!);
  await cluster.a.start(['--create-group', '--workflow', workflow]);
  renice(cluster.a.process!.pid);
  await cluster.a.waitForState('acting Primary', (state) => state.acting_primary === true, 120_000);
  await cluster.b.start(['--join']);
  renice(cluster.b.process!.pid);
  await cluster.b.waitForState('Secondary with direct heartbeats', (state) => state.node_role === 'secondary' && state.heartbeat_method === 'direct', 120_000);

  const nodes = [cluster.a, cluster.b];
  const scrape = async (node: TestNode) => String((await node.api('GET', '/metrics', { token: null })).body);
  // Every role change from here on, before anything else is awaited (a loaded machine makes each await long).
  const roleChanges: string[] = [];
  const stops = nodes.map((node) =>
    node.process!.onLog((line) => {
      if (logDir !== null) received[node.id]!.push(JSON.stringify({ received: Date.now(), ...line }));
      if (line.msg !== 'NODE_ROLE_CHANGED') return;
      const event = line.event as { previous?: string; new?: string; reason?: string; epoch?: number };
      const text = `${node.id}: ${event.previous} -> ${event.new} (epoch ${event.epoch ?? '?'}): ${event.reason ?? ''}`;
      roleChanges.push(text);
      log(`ROLE CHANGE ${text}`);
    }),
  );
  // The window of the figures starts now: this scrape starts the event loop sampling and resets the jitter's.
  await Promise.all(nodes.map(scrape));
  const initial = await Promise.all(nodes.map((node) => node.state()));
  const epoch0 = Math.max(...initial.map((state) => Number(state?.epoch ?? 0)));
  log(`group formed: a is ${initial[0]?.node_role} (epoch ${initial[0]?.epoch}), b is ${initial[1]?.node_role}; starting the hogs, watching`);
  for (let hog = 0; hog < hogs; hog++) hogProcesses.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));

  let maxEpoch = epoch0;
  const rolesSeen = new Set<string>();
  const deadline = performance.now() + minutes * 60_000;
  let nextReport = performance.now() + 60_000;
  while (performance.now() < deadline && !interrupted) {
    const states = await Promise.all(nodes.map((node) => node.state()));
    states.forEach((state, index) => {
      if (state === null) return;
      rolesSeen.add(`${nodes[index]!.id}:${state.node_role}`);
      maxEpoch = Math.max(maxEpoch, Number(state.epoch ?? 0));
    });
    for (const node of nodes) if (node.process!.exitCode !== undefined) throw new Error(`${node.id} exited (${node.process!.exitCode}):\n${node.process!.describe()}`);
    if (performance.now() >= nextReport) {
      nextReport += 60_000;
      log(`${roleChanges.length} role change(s), epoch ${maxEpoch}; load ${load()}; RSS a ${rssMb(cluster.a.process!.pid).toFixed(0)} MB, b ${rssMb(cluster.b.process!.pid).toFixed(0)} MB`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  for (const stop of stops) stop();
  if (logDir !== null) {
    await mkdir(logDir, { recursive: true });
    for (const node of nodes) await writeFile(join(logDir, `${node.id}.jsonl`), received[node.id]!.map((line) => `${line}\n`).join(''));
    log(`logs of the watch written to ${logDir}/a.jsonl and b.jsonl (each line with \`received\`, this script's wall time)`);
  }

  const figures = await Promise.all(nodes.map(async (node) => ({ node, text: await scrape(node), peak: peakRssMb(node.process!.pid) })));
  const takeovers = maxEpoch - epoch0;
  console.log(`\n## Busy machine: ${minutes} min at ${timers.heartbeat}/${timers.check}/${timers.absence} s, ${hogs} CPU hog(s), ${retainMb} MB live in a's workflow, nodes at nice ${nice ?? 0}\n`);
  console.log(`load average at the end: ${load()}`);
  console.log(`takeovers (epoch rises): ${takeovers}; role changes logged: ${roleChanges.length}; roles seen: ${[...rolesSeen].sort().join(', ')}`);
  for (const change of roleChanges) console.log(`  ${change}`);
  console.log('');
  console.log('node  event loop delay p50 / p99 / max    heartbeat send jitter p50 / p99 / max    peak RSS');
  for (const { node, text, peak } of figures) {
    const loop = delayFigures(text, 'ag_event_loop_delay_seconds');
    const jitter = delayFigures(text, 'ag_heartbeat_send_jitter_seconds');
    console.log(`${node.id.padEnd(4)}  ${loop.padEnd(34)}  ${jitter.padEnd(39)}  ${peak.toFixed(1)} MB`);
  }
  if (takeovers > 0 || roleChanges.length > 0) exitCode = 1;
} catch (error) {
  console.error(`busy: ${(error as Error).message}`);
  exitCode = 3;
} finally {
  for (const hog of hogProcesses) hog.kill('SIGKILL');
  await cluster.stop();
}
process.exit(exitCode);

/**
 * With `--nice`, gives process `pid` that priority as systemd's Nice= gives a service: every thread (Linux's nice is
 * per thread; threads started later inherit it from the thread that starts them).
 */
function renice(pid: number): void {
  if (nice === null) return;
  for (const task of readdirSync(`/proc/${pid}/task`)) setPriority(Number(task), nice);
}

/** `p50 / p99 / max` of the gauges `name{quantile}` and `name`'s max, in ms. */
function delayFigures(text: string, name: string): string {
  const value = (prefix: string) => Number(text.split('\n').find((line) => line.startsWith(prefix))?.slice(prefix.length).trim() ?? Number.NaN);
  const ms = (seconds: number) => `${(seconds * 1000).toFixed(1)} ms`;
  return [value(`${name}{quantile="0.5"}`), value(`${name}{quantile="0.99"}`), value(name.replace(/_seconds$/, '_max_seconds'))].map(ms).join(' / ');
}

