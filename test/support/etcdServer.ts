/**
 * A throwaway single-member etcd for tests: `etcd` in a fresh temp data directory, on 127.0.0.1 and free high ports,
 * with fast elections. Ready when it answers a linearizable read.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/cli/agctlProcess.js';

/** Where tests look for free ports (both the client and the peer port). */
const PORTS = { from: 19000, to: 19499 };

/** The path of `name` (`etcd`, `etcdctl`), or null when it is not installed. `AG_ETCD` names another etcd binary. */
export function findEtcdBinary(name: 'etcd' | 'etcdctl'): string | null {
  const configured = name === 'etcd' ? process.env.AG_ETCD : process.env.AG_ETCDCTL;
  if (configured !== undefined) return existsSync(configured) ? configured : null;
  for (const candidate of [`/usr/bin/${name}`, `/usr/local/bin/${name}`]) if (existsSync(candidate)) return candidate;
  const which = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const found = which.stdout.trim();
  return which.status === 0 && found !== '' ? found : null;
}

/** Why the etcd tests cannot run here, or null when they can. */
export function etcdUnavailableReason(): string | null {
  const missing = (['etcd', 'etcdctl'] as const).filter((name) => findEtcdBinary(name) === null);
  return missing.length === 0 ? null : `${missing.join(' and ')} not installed: apt-get install etcd-server etcd-client (etcd 3.4+)`;
}

export interface EtcdServer {
  /** `127.0.0.1:<port>`, the client endpoint. */
  readonly endpoint: string;
  readonly dir: string;
  /** Everything etcd logged, for failure messages. */
  log(): string;
  /** Runs `etcdctl` against this member (e.g. `['user', 'add', 'root:pw']`); rejects with its output when it fails. */
  etcdctl(args: readonly string[], options?: { user?: string }): Promise<string>;
  /** Freezes etcd (SIGSTOP): it answers nothing until {@link resume}; connections stay open. */
  pause(): void;
  /** Lets a paused etcd run again (SIGCONT). */
  resume(): void;
  /** Kills etcd and removes its data directory. */
  stop(): Promise<void>;
}

export interface EtcdServerOptions {
  /** How long to wait for the first answer (default 15 s). */
  readonly startTimeoutMs?: number;
}

function runEtcdctl(endpoint: string, args: readonly string[], user: string | undefined, timeoutMs: number): Promise<{ code: number; out: string }> {
  const etcdctl = findEtcdBinary('etcdctl');
  if (etcdctl === null) throw new Error(etcdUnavailableReason() ?? 'etcdctl missing');
  const flags = [`--endpoints=${endpoint}`, `--dial-timeout=${timeoutMs}ms`, `--command-timeout=${timeoutMs}ms`, ...(user === undefined ? [] : [`--user=${user}`])];
  return new Promise((resolve) => {
    const child = spawn(etcdctl, [...flags, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', (error) => resolve({ code: -1, out: `${out}${error.message}` }));
    child.once('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

/**
 * Starts one etcd member and resolves once it answers a linearizable `etcdctl get`. Rejects (with etcd's log) if it
 * exits or does not answer before the deadline.
 *
 * @example
 * const etcd = await startEtcd();
 * afterAll(() => etcd.stop());
 */
export async function startEtcd(options: EtcdServerOptions = {}): Promise<EtcdServer> {
  const etcd = findEtcdBinary('etcd');
  if (etcd === null) throw new Error(etcdUnavailableReason() ?? 'etcd missing');
  const host = '127.0.0.1';
  const dir = await mkdtemp(join(tmpdir(), 'ag-etcd-'));
  const clientPort = await freePort([host], PORTS);
  let peerPort = await freePort([host], PORTS);
  while (peerPort === clientPort) peerPort = await freePort([host], PORTS);
  const endpoint = `${host}:${clientPort}`;
  const peerUrl = `http://${host}:${peerPort}`;
  const args = [
    '--name', 'ag-test',
    '--data-dir', join(dir, 'data'),
    '--listen-client-urls', `http://${endpoint}`,
    '--advertise-client-urls', `http://${endpoint}`,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `ag-test=${peerUrl}`,
    '--initial-cluster-state', 'new',
    '--heartbeat-interval', '10',
    '--election-timeout', '100',
    '--logger', 'zap',
    '--log-outputs', 'stderr',
  ];
  let logged = '';
  const child: ChildProcess = spawn(etcd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (chunk: Buffer) => {
    logged += chunk.toString();
    if (logged.length > 200_000) logged = logged.slice(-100_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const stop = async () => {
    if (!exited) {
      // A stopped process keeps SIGTERM pending until it runs again.
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exit;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const signal = (name: NodeJS.Signals) => {
    if (!exited) child.kill(name);
  };
  const server: EtcdServer = {
    endpoint,
    dir,
    log: () => logged,
    async etcdctl(ctlArgs, ctlOptions = {}) {
      const { code, out } = await runEtcdctl(endpoint, ctlArgs, ctlOptions.user, 5000);
      if (code !== 0) throw new Error(`etcdctl ${ctlArgs.join(' ')} failed (${code}): ${out}`);
      return out;
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    stop,
  };
  const deadline = performance.now() + (options.startTimeoutMs ?? 15_000);
  while (!exited && performance.now() < deadline) {
    const { code } = await runEtcdctl(endpoint, ['get', '--consistency=l', 'ag-ready-probe'], undefined, 500);
    if (code === 0) return server;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`etcd did not answer on ${endpoint} before the deadline${exited ? ' (etcd exited)' : ''}:\n${logged.slice(-4000)}`);
}
