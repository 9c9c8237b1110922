/**
 * `GET /ag/api/v1/state` throughput against a real node process on loopback, 32 concurrent keep-alive
 * connections. The load comes from `wrk` (Debian's package, written in C, so it leaves the server most of the two
 * cores) when it is installed, else from a keep-alive client in this process. Each run lasts 3 s after a 1 s
 * warm-up. The server's own CPU use is read from /proc, to tell the server's capacity from the client's (both
 * share this machine's cores).
 *
 *     npm run bench -- http
 */
import { readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { startCluster } from '../test/support/processes.js';
import { printTable, summarize } from './stats.js';

const RUNS = Number(process.env.AG_BENCH_RUNS ?? 5);
const CONNECTIONS = 32;
const RUN_MS = 3000;

const cluster = await startCluster('embedded', { heartbeat: 1, check: 1, absence: 5 }, { form: true });
const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
const headers = { authorization: `Bearer ${cluster.a.token}` };

function get(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: cluster.a.address, port: cluster.a.port, path: '/ag/api/v1/state', agent, headers }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** CPU seconds (user + system) the server process has used. */
function serverCpuSeconds(): number {
  const fields = readFileSync(`/proc/${cluster.a.process!.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const WRK = spawnSync('wrk', ['--version']).error === undefined;

/** One run of wrk: requests per second and non-2xx answers, parsed from its report. */
async function loadWithWrk(durationMs: number): Promise<{ perSecond: number; failures: number; serverCores: number }> {
  const cpuBefore = serverCpuSeconds();
  const started = performance.now();
  const url = `http://${cluster.a.address}:${cluster.a.port}/ag/api/v1/state`;
  const child = spawn('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${durationMs / 1000}s`, '-H', `authorization: Bearer ${cluster.a.token}`, url]);
  let report = '';
  child.stdout.on('data', (chunk: Buffer) => (report += chunk.toString()));
  await new Promise((resolve) => child.on('close', resolve));
  const seconds = (performance.now() - started) / 1000;
  const perSecond = Number(/Requests\/sec:\s+([\d.]+)/.exec(report)?.[1] ?? Number.NaN);
  const failures = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(report)?.[1] ?? 0) + (/Socket errors:(.*)/.exec(report)?.[1]?.match(/\d+/g) ?? []).reduce((sum, count) => sum + Number(count), 0);
  return { perSecond, failures, serverCores: (serverCpuSeconds() - cpuBefore) / seconds };
}

async function load(durationMs: number): Promise<{ perSecond: number; failures: number; serverCores: number }> {
  if (WRK) return loadWithWrk(durationMs);
  const end = performance.now() + durationMs;
  const cpuBefore = serverCpuSeconds();
  let done = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        if ((await get()) === 200) done += 1;
        else failures += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: done / seconds, failures, serverCores: (serverCpuSeconds() - cpuBefore) / seconds };
}

try {
  await load(1000);
  const rates: number[] = [];
  const perServerCore: number[] = [];
  let failures = 0;
  for (let run = 0; run < RUNS; run++) {
    const result = await load(RUN_MS);
    rates.push(result.perSecond);
    perServerCore.push(result.perSecond / result.serverCores);
    failures += result.failures;
  }
  const summary = summarize(rates);
  const capacity = summarize(perServerCore);
  printTable(`HTTP API on loopback (real node process, load from ${WRK ? 'wrk' : 'a keep-alive client in the bench process'})`, [
    {
      figure: `GET /ag/api/v1/state, ${CONNECTIONS} connections`,
      median: `${summary.median.toFixed(0)} req/s`,
      spread: `${summary.min.toFixed(0)} .. ${summary.max.toFixed(0)} (n=${summary.n}, ${failures} non-200)`,
      target: '>= 10000 req/s',
      ok: summary.median >= 10_000 && failures === 0,
    },
    {
      // The client shares the machine's cores with the server: this is what one fully busy server core answers.
      figure: 'same, per core of server CPU (req/s / server cores busy)',
      median: `${capacity.median.toFixed(0)} req/s`,
      spread: `${capacity.min.toFixed(0)} .. ${capacity.max.toFixed(0)} (n=${capacity.n})`,
      target: '-',
      ok: null,
    },
  ]);
} finally {
  agent.destroy();
  await cluster.stop();
}
