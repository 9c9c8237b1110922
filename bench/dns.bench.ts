/**
 * A signed compare-and-swap UPDATE round trip on loopback (the Primary's heartbeat write: TXT must hold the last
 * value, replace it), against BIND 9 and against the embedded server run as `agctl dns-server` in its own process
 * with a data file, as deployed. Runs alternate between the two servers; each run is 1,000 sequential updates.
 *
 *     npm run bench -- dns
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DnsUpdateClient } from '../src/dns/dnsUpdateClient.js';
import type { TsigKey } from '../src/dns/tsig.js';
import { buildQueryMessage } from '../src/dns/updateMessage.js';
import { RRType } from '../src/dns/wireFormat.js';
import { bindUnavailableReason, freePort, startBind } from '../test/support/bind.js';
import { rawExchange } from '../test/support/dnsWire.js';
import { ms, printTable, quantile, summarize, type BenchRow } from './stats.js';

const ZONE = 'bench.test';
const NAME = `app.${ZONE}`;
const KEY: TsigKey = { name: 'bench-key', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };
const RUNS = 5;
const UPDATES_PER_RUN = 1000;
const WARMUP = 100;

interface Target {
  readonly label: string;
  readonly port: number;
  readonly stop: () => Promise<void>;
  value: string | null;
}

async function startEmbedded(): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), 'ag-bench-dns-'));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/support/dnsServerCli.ts', '--zone', ZONE, '--listen', `127.0.0.1:${port}`, '--tsig-name', KEY.name, '--tsig-secret', KEY.secret, ...(process.env.AG_BENCH_NO_DATA ? [] : ['--data', join(dir, 'zone.json')])],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, AG_LOG_LEVEL: 'warn' } },
  );
  let running = true;
  const exited = new Promise<void>((resolve) => child.once('exit', () => ((running = false), resolve())));
  // Ready when it answers; the deadline is generous because tsx compiles on start, slowly on a busy machine.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await rawExchange({ host: '127.0.0.1', port }, buildQueryMessage({ id: 1, name: ZONE, type: RRType.SOA }));
      break;
    } catch (error) {
      if (!running) throw new Error('the embedded server exited before answering (its log is above)');
      if (Date.now() > deadline) throw error;
    }
  }
  return {
    label: 'embedded',
    port,
    value: null,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One run: `count` heartbeat compare-and-swaps in sequence; the latency of each in ms. */
async function run(target: Target, count: number): Promise<number[]> {
  const dns = new DnsUpdateClient({ server: { host: '127.0.0.1', port: target.port }, zone: ZONE, tsig: KEY, timeoutMs: 2000, retries: 0 });
  const samples: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const next = `ag1 node=bench epoch=1 seq=${i} sent=${new Date().toISOString()} ${randomBytes(4).toString('hex')}`;
      const started = performance.now();
      await dns.compareAndSwap(NAME, { txt: target.value }, { txt: next }, { ttl: 30 });
      samples.push(performance.now() - started);
      target.value = next;
    }
  } finally {
    dns.close();
  }
  return samples;
}

const missing = bindUnavailableReason();
if (missing !== null) {
  console.log(`skipped: ${missing}`);
  process.exit(process.env.CI ? 1 : 0);
}
const bind = await startBind({ zone: ZONE, keys: [KEY] });
const targets: Target[] = [{ label: 'BIND 9', port: bind.port, stop: bind.stop, value: null }, await startEmbedded()];
const samples = new Map<string, number[]>(targets.map((target) => [target.label, []]));
const runMedians = new Map<string, number[]>(targets.map((target) => [target.label, []]));
try {
  for (const target of targets) await run(target, WARMUP);
  for (let r = 0; r < RUNS; r++) {
    for (const target of targets) {
      const values = await run(target, UPDATES_PER_RUN);
      samples.get(target.label)!.push(...values);
      runMedians.get(target.label)!.push(quantile(values, 0.5));
    }
  }
} finally {
  for (const target of targets) await target.stop();
}

const rows: BenchRow[] = [];
const figures = new Map<string, ReturnType<typeof summarize>>();
for (const target of targets) {
  const all = summarize(samples.get(target.label)!);
  figures.set(target.label, all);
  const medians = runMedians.get(target.label)!;
  rows.push({
    figure: `${target.label}: signed CAS update, median (n=${all.n})`,
    median: ms(all.median),
    spread: `run medians ${ms(Math.min(...medians))}..${ms(Math.max(...medians))}`,
    target: '-',
    ok: null,
  });
  rows.push({ figure: `${target.label}: signed CAS update, p99`, median: ms(all.p99), spread: `max ${ms(all.max)}`, target: '-', ok: null });
}
const bindFigures = figures.get('BIND 9')!;
const embeddedFigures = figures.get('embedded')!;
const medianRatio = embeddedFigures.median / bindFigures.median;
const p99Ratio = embeddedFigures.p99 / bindFigures.p99;
rows.push({ figure: 'embedded / BIND, median', median: `${medianRatio.toFixed(2)}x`, spread: '-', target: '<= 2x', ok: medianRatio <= 2 });
rows.push({ figure: 'embedded / BIND, p99', median: `${p99Ratio.toFixed(2)}x`, spread: '-', target: '<= 2x', ok: p99Ratio <= 2 });
printTable(`DNS: signed compare-and-swap round trip on loopback (${RUNS} runs x ${UPDATES_PER_RUN} updates per server)`, rows);
