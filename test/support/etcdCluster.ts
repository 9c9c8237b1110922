/**
 * A throwaway etcd cluster for tests: N members (default 3) as real `etcd` processes on 127.0.0.1, each with a
 * client and a peer port picked free from 19600-19999 (a range no other suite uses; never etcd's 2379/2380),
 * bootstrapped statically (`--initial-cluster`, a random `--initial-cluster-token`) in fresh temp data dirs, with
 * fast elections, and each member's log in a file in the temp dir (not in the test output). Members can be frozen
 * (SIGSTOP), thawed, killed and restarted with their data dir to exercise quorum loss and rejoin.
 *
 * Readiness is polled with a deadline through `etcdctl endpoint health` (a linearizable read per endpoint), never
 * a fixed sleep. Every started process is also killed when the test process exits, so a failing suite leaves no
 * etcd behind.
 */
import { spawn, spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/cli/agctlProcess.js';

/** The ports etcd clusters of the tests use (outside TEST_PORTS 18000-18999 and the inspector's 19000-19540). */
export const ETCD_TEST_PORTS = { from: 19600, to: 19999 } as const;

/**
 * Raft timing of the test clusters, in ms (etcd's defaults are 100/1000). Measured on a 2-core machine with both
 * cores busy (`yes >/dev/null` twice), 3 idle members for 20 s: 10/100 had a needless re-election in 1 of 2 runs,
 * 20/200 none in 5 runs but 70-110 "leader failed to send out heartbeat on time" warnings per run, 50/500 none and
 * 5 warnings. The election timeout should be at least 5x the heartbeat interval (etcd's rule of thumb).
 */
export const ETCD_TEST_TIMING = { heartbeatIntervalMs: 50, electionTimeoutMs: 500 } as const;

/** One member of a test cluster. */
export interface EtcdMember {
  /** `m1`, `m2`, ... (its `--name`). */
  readonly name: string;
  /** `http://127.0.0.1:<client port>`. */
  readonly clientUrl: string;
  /** `127.0.0.1:<client port>` (what `etcd_endpoints` and etcdctl's `--endpoints` take). */
  readonly endpoint: string;
  /** `http://127.0.0.1:<peer port>`. */
  readonly peerUrl: string;
  readonly dataDir: string;
  /** The file etcd's log goes to. */
  readonly logFile: string;
  /** The pid of the running process (of the latest one after {@link restart}); null while killed. */
  readonly pid: number | null;
  /**
   * Freezes the member (SIGSTOP): it answers nothing and takes no part in raft until {@link resume}. Resolves once
   * every thread of the process is stopped (read from /proc; at once where there is none): the signal only asks,
   * and on a busy machine a member can still answer for some milliseconds after it was sent.
   */
  pause(): Promise<void>;
  /** Lets a paused member run again (SIGCONT). */
  resume(): void;
  /** Kills the member at once (SIGKILL) and waits for it to exit. Its data dir stays for {@link restart}. */
  kill(): Promise<void>;
  /** Starts a killed member again with the same data dir, ports and `--initial-cluster-state existing`. */
  restart(): void;
  /** The member's log so far (for failure messages). */
  log(): string;
}

export interface EtcdCluster {
  /** `host:port` of every member's client URL, in member order. */
  readonly endpoints: string[];
  readonly members: EtcdMember[];
  /** The temp dir holding the data dirs and logs. */
  readonly dir: string;
  /**
   * Waits until at least a quorum of the members answers a linearizable read (through `etcdctl endpoint health`);
   * throws naming the unhealthy endpoints and the last etcdctl output after `deadlineMs`.
   */
  waitHealthy(deadlineMs: number): Promise<void>;
  /**
   * Waits until EVERY member answers a linearizable read (after a resume or restart: the member has caught up and
   * knows the current leader); throws naming the unhealthy members after `deadlineMs`.
   */
  waitAllHealthy(deadlineMs: number): Promise<void>;
  /** Resumes paused members, kills all members, waits for them to exit and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface EtcdClusterOptions {
  /** Number of members, 1..7; default 3. */
  readonly members?: number;
  /** How long to wait for the new cluster to be healthy; default 30 s. */
  readonly startTimeoutMs?: number;
  /** Raft timing; default {@link ETCD_TEST_TIMING}. */
  readonly timing?: { readonly heartbeatIntervalMs: number; readonly electionTimeoutMs: number };
}

/** Why etcd clusters cannot be started here (`etcd` or `etcdctl` missing), or null when they can. */
export function etcdUnavailableReason(): string | null {
  const missing = ['etcd', 'etcdctl'].filter((binary) => findBinary(binary) === null);
  return missing.length === 0 ? null : `${missing.join(' and ')} not installed: apt-get install etcd-server etcd-client`;
}

/** Every etcd process this test process started and has not seen exit: killed on exit. */
const running = new Set<ChildProcess>();
/** Temp dirs of clusters not stopped yet: removed on exit. */
const liveDirs = new Set<string>();
let exitHandlerInstalled = false;

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const child of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/**
 * Starts an etcd cluster of `members` members (default 3) and waits until all members answer.
 *
 * @example
 * const cluster = await startEtcdCluster({ members: 3 });
 * try {
 *   await cluster.members[2]!.pause();
 *   await cluster.waitHealthy(5_000);
 * } finally {
 *   await cluster.stop();
 * }
 */
export async function startEtcdCluster(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  const count = options.members ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > 7) throw new Error(`members: must be an integer 1..7, got ${count}`);
  const reason = etcdUnavailableReason();
  if (reason !== null) throw new Error(reason);
  installExitHandler();
  // A port found free may be taken by another suite before etcd binds it: then start again on other ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(count, options);
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= 3) throw error;
    }
  }
}

/** A member could not bind its port (taken after it was found free). */
class PortTakenError extends Error {}

async function startOnce(count: number, options: EtcdClusterOptions): Promise<EtcdCluster> {
  const etcd = findBinary('etcd')!;
  const etcdctl = findBinary('etcdctl')!;
  const dir = await mkdtemp(join(tmpdir(), 'ag-etcd-'));
  liveDirs.add(dir);
  const ports = await distinctFreePorts(2 * count);
  const token = `ag-test-${randomBytes(8).toString('hex')}`;
  const specs = Array.from({ length: count }, (_, index) => {
    const name = `m${index + 1}`;
    const clientPort = ports[2 * index]!;
    const peerPort = ports[2 * index + 1]!;
    return {
      name,
      clientUrl: `http://127.0.0.1:${clientPort}`,
      endpoint: `127.0.0.1:${clientPort}`,
      peerUrl: `http://127.0.0.1:${peerPort}`,
      dataDir: join(dir, `${name}.etcd`),
      logFile: join(dir, `${name}.log`),
    };
  });
  const timing = options.timing ?? ETCD_TEST_TIMING;
  const initialCluster = specs.map((spec) => `${spec.name}=${spec.peerUrl}`).join(',');

  const members: (EtcdMember & { firstRunExited: Promise<string>; stopMember(): Promise<void> })[] = specs.map((spec) => {
    let child: ChildProcess | null = null;
    let exited: Promise<void> = Promise.resolve();
    let paused = false;
    const start = (state: 'new' | 'existing'): void => {
      const out = openSync(spec.logFile, 'a');
      try {
        const args = etcdArgs({ ...spec, initialCluster, token, state, timing });
        child = spawn(etcd, args, { stdio: ['ignore', out, out] });
      } finally {
        closeSync(out);
      }
      const started = child;
      running.add(started);
      exited = new Promise<void>((resolve) => {
        if (started.exitCode !== null || started.signalCode !== null) resolve();
        started.once('exit', () => resolve());
        started.once('error', () => resolve());
      }).then(() => {
        running.delete(started);
        if (child === started) child = null;
      });
    };
    const signal = (name: NodeJS.Signals): void => {
      if (child?.pid === undefined) throw new Error(`etcd member ${spec.name} is not running`);
      process.kill(child.pid, name);
    };
    start('new');
    const firstRunExited = exited.then(() => spec.name);
    return {
      firstRunExited,
      ...spec,
      get pid() {
        return child?.pid ?? null;
      },
      async pause() {
        signal('SIGSTOP');
        paused = true;
        await waitStopped(child!.pid!, spec.name);
      },
      resume() {
        signal('SIGCONT');
        paused = false;
      },
      async kill() {
        if (child !== null) {
          child.kill('SIGKILL');
          paused = false;
        }
        await exited;
      },
      restart() {
        if (child !== null) throw new Error(`etcd member ${spec.name} is still running (pid ${child.pid}); kill() it first`);
        start('existing');
      },
      log() {
        return existsSync(spec.logFile) ? readFileSync(spec.logFile, 'utf8') : '';
      },
      async stopMember() {
        if (child !== null) {
          if (paused) {
            child.kill('SIGCONT');
            paused = false;
          }
          child.kill('SIGKILL');
        }
        await exited;
      },
    };
  });

  let stopped = false;
  const cluster: EtcdCluster = {
    endpoints: specs.map((spec) => spec.endpoint),
    members,
    dir,
    waitHealthy: (deadlineMs) => waitQuorumHealthy(etcdctl, members, deadlineMs),
    waitAllHealthy: (deadlineMs) => waitAllHealthy(etcdctl, members, deadlineMs),
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(members.map((member) => member.stopMember()));
      await rm(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    },
  };
  let settled = false;
  try {
    const exitedEarly = Promise.race(members.map((member) => member.firstRunExited)).then((name) => {
      if (!settled) throw new Error(`etcd member ${name} exited while the cluster started`);
    });
    const healthy = waitAllHealthy(etcdctl, members, options.startTimeoutMs ?? 30_000, () => settled);
    exitedEarly.catch(() => undefined);
    healthy.catch(() => undefined);
    try {
      await Promise.race([healthy, exitedEarly]);
    } finally {
      settled = true;
    }
  } catch (error) {
    const logs = members.map((member) => `--- ${member.name} ---\n${member.log().slice(-2000)}`).join('\n');
    await cluster.stop();
    const message = `${(error as Error).message}\n${logs}`;
    throw /address already in use/.test(logs) ? new PortTakenError(message) : new Error(message);
  }
  return cluster;
}

/** The command line of one member (the same flags docs show for a loopback cluster). */
function etcdArgs(member: {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  initialCluster: string;
  token: string;
  state: 'new' | 'existing';
  timing: { readonly heartbeatIntervalMs: number; readonly electionTimeoutMs: number };
}): string[] {
  return [
    `--name=${member.name}`,
    `--data-dir=${member.dataDir}`,
    `--listen-client-urls=${member.clientUrl}`,
    `--advertise-client-urls=${member.clientUrl}`,
    `--listen-peer-urls=${member.peerUrl}`,
    `--initial-advertise-peer-urls=${member.peerUrl}`,
    `--initial-cluster=${member.initialCluster}`,
    `--initial-cluster-state=${member.state}`,
    `--initial-cluster-token=${member.token}`,
    `--heartbeat-interval=${member.timing.heartbeatIntervalMs}`,
    `--election-timeout=${member.timing.electionTimeoutMs}`,
    '--logger=zap',
    '--log-level=info',
  ];
}

/** One `etcdctl endpoint health` round over the given members: which answered a linearizable read. */
async function healthRound(etcdctl: string, members: readonly EtcdMember[], timeoutMs: number): Promise<{ healthy: Set<string>; output: string }> {
  const endpoints = members.map((member) => member.endpoint).join(',');
  const args = [`--endpoints=${endpoints}`, `--dial-timeout=${timeoutMs}ms`, `--command-timeout=${timeoutMs}ms`, 'endpoint', 'health', '-w', 'json'];
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
    execFile(etcdctl, args, { env: { ...process.env, ETCDCTL_API: '3' }, timeout: timeoutMs + 5_000 }, (_error, out, err) =>
      resolve({ stdout: String(out), stderr: String(err) }),
    );
  });
  const healthy = new Set<string>();
  try {
    for (const entry of JSON.parse(stdout) as { endpoint: string; health: boolean }[]) if (entry.health) healthy.add(entry.endpoint);
  } catch {
    // no JSON: nothing healthy this round
  }
  return { healthy, output: `${stdout}${stderr}`.trim().slice(-1500) };
}

async function waitHealthyCount(
  etcdctl: string,
  members: readonly EtcdMember[],
  needed: number,
  deadlineMs: number,
  what: string,
  cancelled: () => boolean = () => false,
): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  let last = { healthy: new Set<string>(), output: '' };
  for (;;) {
    if (cancelled()) throw new Error(`etcd cluster: waiting for ${what} cancelled`);
    const remaining = deadline - performance.now();
    last = await healthRound(etcdctl, members, Math.max(100, Math.min(1_000, Math.round(remaining))));
    if (last.healthy.size >= needed) return;
    if (performance.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const unhealthy = members.filter((member) => !last.healthy.has(member.endpoint)).map((member) => `${member.name} (${member.endpoint})`);
  throw new Error(`etcd cluster: ${what} not reached within ${deadlineMs} ms; unhealthy: ${unhealthy.join(', ')}; etcdctl: ${last.output}`);
}

function waitQuorumHealthy(etcdctl: string, members: readonly EtcdMember[], deadlineMs: number): Promise<void> {
  const quorum = Math.floor(members.length / 2) + 1;
  return waitHealthyCount(etcdctl, members, quorum, deadlineMs, `a quorum (${quorum} of ${members.length}) answering linearizable reads`);
}

function waitAllHealthy(etcdctl: string, members: readonly EtcdMember[], deadlineMs: number, cancelled?: () => boolean): Promise<void> {
  return waitHealthyCount(etcdctl, members, members.length, deadlineMs, `all ${members.length} members answering linearizable reads`, cancelled);
}

/** Resolves once every thread of `pid` is in state T (stopped); throws after 5 s. Without /proc it returns at once. */
async function waitStopped(pid: number, name: string): Promise<void> {
  const tasks = `/proc/${pid}/task`;
  if (!existsSync(tasks)) return;
  const deadline = performance.now() + 5_000;
  for (;;) {
    let allStopped = true;
    try {
      for (const task of readdirSync(tasks)) {
        const stat = readFileSync(join(tasks, task, 'stat'), 'utf8');
        // The state follows the parenthesised command name, which may itself contain parentheses.
        if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'T') allStopped = false;
      }
    } catch {
      return; // the process is gone: nothing answers either
    }
    if (allStopped) return;
    if (performance.now() >= deadline) throw new Error(`etcd member ${name} (pid ${pid}) not stopped 5 s after SIGSTOP`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** `count` distinct free ports on 127.0.0.1 from {@link ETCD_TEST_PORTS}. */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let attempt = 0; ports.size < count; attempt++) {
    if (attempt > 100 * count) throw new Error(`No ${count} free ports in ${ETCD_TEST_PORTS.from}-${ETCD_TEST_PORTS.to} on 127.0.0.1.`);
    ports.add(await freePort(['127.0.0.1'], ETCD_TEST_PORTS));
  }
  return [...ports];
}

/** The path of `binary` on PATH or in /usr/bin, /usr/local/bin; null when missing. */
function findBinary(binary: string): string | null {
  for (const directory of ['/usr/bin', '/usr/local/bin']) if (existsSync(join(directory, binary))) return join(directory, binary);
  const which = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const found = which.stdout.trim();
  return which.status === 0 && found !== '' ? found : null;
}
