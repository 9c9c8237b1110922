/**
 * Real-process fixtures for the integration tests and benchmarks: a DNS server (the embedded one as an `agctl
 * dns-server` child, or BIND 9 through bind.ts), node processes (`agctl start`) with config files in a temp dir,
 * their API, and the group's records read over DNS. Ports come from 18000-18999 so that other suites do not clash.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHeartbeatRecord } from '../../src/dns/heartbeatRecord.js';
import { DnsUpdateClient } from '../../src/dns/dnsUpdateClient.js';
import type { Heartbeat } from '../../machines/heartbeat.js';
import { AgctlProcess, freePort, waitFor } from '../../src/cli/agctlProcess.js';
import { PEER_CUT_FILE_ENV } from '../../src/cli/startCommand.js';
import type { PeerPathCut } from '../../src/peer/httpPeerTransport.js';
import { startBind, type BindServer } from './bind.js';

export { AgctlProcess, waitFor };

/** The port range the networked-node suites use. */
export const TEST_PORTS = { from: 18000, to: 18999 } as const;

/** What a node's peer-cut file holds: a direction, then optionally the message types the cut is limited to (`out handover`). */
export type PeerCutFileContent = PeerPathCut | `${Exclude<PeerPathCut, 'none'>} ${string}`;

/** Which DNS server a cluster runs against. */
export type DnsKind = 'embedded' | 'bind';

export interface TestKey {
  readonly name: string;
  readonly algorithm: 'hmac-sha256';
  readonly secret: string;
}

/** A DNS server for a test: where it is, its zone and key, and how to stop it. */
export interface TestDns {
  readonly kind: DnsKind;
  readonly host: string;
  readonly port: number;
  readonly zone: string;
  readonly key: TestKey;
  /** The embedded server's process id (`agctl dns-server`); null for BIND. */
  readonly pid: number | null;
  /** Freezes the server process (SIGSTOP): it answers nothing, and what arrives queues in the kernel. */
  pause(): void;
  /** Lets it run again (SIGCONT). */
  resume(): void;
  /** Stops it (resuming it first if paused). */
  stop(): Promise<void>;
}

/** Starts the embedded server as a child process, or BIND, for `zone` with a fresh key; `extraArgs` go to `agctl dns-server`. */
export async function startTestDns(kind: DnsKind, dir: string, zone = 'example.test', extraArgs: readonly string[] = []): Promise<TestDns> {
  const key: TestKey = { name: `ag-key.${zone}`, algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };
  if (kind === 'bind') {
    const bind: BindServer = await startBind({ zone, keys: [key] });
    return { kind, host: bind.host, port: bind.port, zone, key, pid: null, pause: () => bind.pause(), resume: () => bind.resume(), stop: () => bind.stop() };
  }
  const port = await freePort(['127.0.0.1'], TEST_PORTS);
  const child = AgctlProcess.spawn('dns', ['dns-server', '--zone', zone, '--listen', `127.0.0.1:${port}`, '--tsig-name', key.name, '--tsig-secret', key.secret, '--data', join(dir, 'zone.json'), ...extraArgs]);
  await child.waitForLog((line) => line.msg === 'DNS server listening', 20_000);
  return {
    kind,
    host: '127.0.0.1',
    port,
    zone,
    key,
    pid: child.pid,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    stop: async () => {
      // A stopped process keeps SIGTERM pending until it runs again.
      await child.kill('SIGCONT');
      await child.kill('SIGTERM');
    },
  };
}

/** The group's records as the DNS server holds them now. */
export interface GroupRecordsNow {
  readonly address: string | null;
  readonly txt: string | null;
  readonly heartbeat: Heartbeat | null;
}

/** A node process of a test cluster, with its config and API. */
export class TestNode {
  process: AgctlProcess | null = null;
  /** Every process started for this node, oldest first (the last one is `process`). */
  readonly processes: AgctlProcess[] = [];

  constructor(
    readonly id: string,
    readonly address: string,
    readonly port: number,
    readonly configFile: string,
    readonly token: string,
    readonly env: Record<string, string>,
    /** The node's peer-path fault file (`AG_FAULT_PEER_CUT_FILE`); see {@link TestCluster.cutPeerPath}. */
    readonly peerCutFile: string | null = null,
  ) {}

  get url(): string {
    return `http://${this.address}:${this.port}`;
  }

  /** Starts `agctl start` with `flags` and waits until it listens. */
  async start(flags: readonly string[] = []): Promise<void> {
    this.process = AgctlProcess.spawn(this.id, ['start', '--config', this.configFile, ...flags], this.env);
    this.processes.push(this.process);
    await this.process.waitForLog((line) => line.msg === 'node listening', 30_000);
  }

  /** Calls the node's API; `token: null` sends none; gives up after `timeoutMs` (default 15 s). */
  async api(method: string, path: string, options: { body?: unknown; token?: string | null; headers?: Record<string, string>; rawBody?: string; timeoutMs?: number } = {}): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    const token = options.token === undefined ? this.token : options.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(options.timeoutMs ?? 15_000) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: response.status, body: parsed };
  }

  /** GET /ag/api/v1/state, or null when the node does not answer (within `timeoutMs`, default 15 s). */
  async state(timeoutMs?: number): Promise<Record<string, any> | null> {
    try {
      const { status, body } = await this.api('GET', '/ag/api/v1/state', timeoutMs === undefined ? {} : { timeoutMs });
      return status === 200 ? body : null;
    } catch {
      return null;
    }
  }

  /** Waits until the node's state satisfies `predicate`. */
  waitForState(what: string, predicate: (state: Record<string, any>) => boolean, deadlineMs = 15_000): Promise<Record<string, any>> {
    return waitFor(`${this.id}: ${what}`, async () => {
      const state = await this.state();
      return state !== null && predicate(state) ? state : undefined;
    }, deadlineMs, 20);
  }
}

/** What {@link runAgctl} resolves with: the exit code and stdout (as the log lines' messages), and stderr. */
export interface AgctlRun {
  readonly code: number | null;
  readonly lines: string[];
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `agctl <args>` to its exit; killed, and the test failed, if it has not exited within `deadlineMs`.
 *
 * @example
 * const { code, lines } = await runAgctl('status', ['status', '--config', cluster.a.configFile]);
 */
export async function runAgctl(name: string, args: readonly string[], options: { env?: Record<string, string>; deadlineMs?: number } = {}): Promise<AgctlRun> {
  const deadlineMs = options.deadlineMs ?? 30_000;
  const child = AgctlProcess.spawn(name, args, options.env);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), deadlineMs);
  });
  const exited = await Promise.race([child.exited(), deadline]).finally(() => clearTimeout(timer));
  if (exited === 'deadline') {
    await child.kill('SIGKILL');
    throw new Error(`agctl ${args.join(' ')} did not exit within ${deadlineMs} ms.\n${child.describe()}`);
  }
  const lines = child.logs.map((line) => String(line.msg));
  return { code: exited, lines, stdout: lines.join('\n'), stderr: child.stderr };
}

/**
 * Watches `node` for `durationMs` and returns every distinct role it reported (acting Primary counted apart): a
 * negative check ("no takeover") needs a window.
 *
 * @example
 * expect([...(await rolesDuring(cluster.b, 2_000))]).toEqual(['secondary']);
 */
export async function rolesDuring(node: TestNode, durationMs: number): Promise<Set<string>> {
  const roles = new Set<string>();
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    const state = await node.state();
    if (state !== null) roles.add(state.acting_primary ? 'acting-primary' : state.node_role);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return roles;
}

/** How long {@link roleRounds} waits for one node's answer: a paused node answers nothing (null in the round). */
const ROUND_TIMEOUT_MS = 1000;

/** One round of {@link roleRounds}: each node's role as it answered (`acting-primary` apart; null: no answer). */
export type RoleRound = Readonly<Record<string, string | null>>;

/**
 * Asks every node of `nodes` for its state at once, a round every 20 ms, until `until` holds for a round or
 * `durationMs` passed; returns every round (a node that does not answer within a second is null in its round). The safety check of a takeover: no round may hold two
 * `acting-primary`.
 *
 * @example
 * const rounds = await roleRounds([group.a, group.b], 10_000, (round) => round.b === 'acting-primary');
 * expect(rounds.filter((round) => actingIn(round) > 1)).toEqual([]);
 */
export async function roleRounds(nodes: readonly TestNode[], durationMs: number, until: (round: RoleRound) => boolean = () => false): Promise<RoleRound[]> {
  const rounds: RoleRound[] = [];
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    const states = await Promise.all(nodes.map((node) => node.state(ROUND_TIMEOUT_MS)));
    const round: RoleRound = Object.fromEntries(nodes.map((node, index) => [node.id, states[index] === null ? null : states[index]!.acting_primary ? 'acting-primary' : String(states[index]!.node_role)]));
    rounds.push(round);
    if (until(round)) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return rounds;
}

/** How many nodes of a {@link roleRounds} round acted as Primary. */
export function actingIn(round: RoleRound): number {
  return Object.values(round).filter((role) => role === 'acting-primary').length;
}

/** Timers of a test group, seconds. */
export interface TestTimers {
  readonly heartbeat: number;
  readonly check: number;
  readonly absence: number;
}

/**
 * The node processes of a test group (a on 127.0.0.2, b on 127.0.0.3, c on 127.0.0.4 ..., one port), whatever
 * authority they share: two by default, more with `members` (coordination etcd only).
 */
export interface TestNodePair {
  readonly a: TestNode;
  readonly b: TestNode;
  /** Every node in id order: [a, b], or [a, b, c, ...] with `members` above 2. */
  readonly nodes: readonly TestNode[];
  readonly peerSecret: string;
  /**
   * Cuts the peer path as seen from each node named (`a: 'out'`: nothing a says reaches b, while b's messages reach a
   * and are processed; `a: 'out handover'`: only a's answers to handover messages are lost); `none` heals that node's side. The nodes read their file at every peer message, so the cut
   * holds from the moment this resolves. See docs/operations.md, "Fault drill".
   */
  cutPeerPath(cuts: Partial<Record<string, PeerCutFileContent>>): Promise<void>;
  /** Heals every cut. */
  healPeerPath(): Promise<void>;
}

/** Two nodes (a on 127.0.0.2, b on 127.0.0.3) over one DNS server, in a temp dir. */
export interface TestCluster extends TestNodePair {
  readonly dir: string;
  readonly dns: TestDns;
  readonly groupFqdn: string;
  /** Reads A and TXT from the DNS server (TSIG-signed queries, no cache). */
  records(): Promise<GroupRecordsNow>;
  /** Kills every process and removes the temp dir. */
  stop(): Promise<void>;
}

/** What {@link writeNodePair} writes into both configs, and what into one node's only. */
export interface NodePairOptions {
  /** Settings of both nodes: the group name and how they reach the authority (`dns_server`, `coordination`, `etcd_endpoints`, ...). */
  readonly common: Record<string, unknown>;
  /** Settings of one node only (a's TSIG key: b gets it from a when it joins). */
  readonly nodeSettings?: Partial<Record<'a' | 'b', Record<string, unknown>>>;
  /** Environment of both node processes. */
  readonly nodeEnv?: Record<string, string>;
  /** How many nodes (default 2, at most 7): a, b, c ... on 127.0.0.2, .3, .4 ... (more than 2 needs coordination etcd). */
  readonly members?: number;
}

/**
 * Writes the configs of a (127.0.0.2) and b (127.0.0.3) into `dir`, with the group's timers, a fresh API token and
 * peer secret, one free port, and each node's peer-cut file; starts nothing. The authority-specific settings come in
 * `options.common` (startCluster: DNS; test/support/etcdGroup.ts: etcd).
 *
 * @example
 * const pair = await writeNodePair(dir, timers, { common: { group_fqdn: 'app.example.test', dns_server: '127.0.0.1:5353' } });
 * await formGroup(pair);
 */
export async function writeNodePair(dir: string, timers: TestTimers, options: NodePairOptions): Promise<TestNodePair> {
  const members = options.members ?? 2;
  if (!Number.isInteger(members) || members < 2 || members > 7) throw new Error(`members must be a whole number from 2 to 7 (got ${members})`);
  const ids = 'abcdefg'.slice(0, members).split('');
  const addressOf = (index: number) => `127.0.0.${index + 2}`;
  const port = await freePort(ids.map((_, index) => addressOf(index)), TEST_PORTS);
  const token = randomBytes(18).toString('base64url');
  const peerSecret = randomBytes(18).toString('base64url');
  const common = {
    external_port: port,
    api_token: token,
    peer_secret: peerSecret,
    health_report_interval: timers.heartbeat,
    health_check_interval: timers.check,
    allowed_absence_interval: timers.absence,
    ...options.common,
  };
  const write = async (id: string, address: string) => {
    const file = join(dir, `${id}.json`);
    const peerCutFile = join(dir, `peer-cut-${id}`);
    await writeFile(file, JSON.stringify({ node_id: id, external_ipv4_address: address, data_dir: join(dir, id), ...common, ...options.nodeSettings?.[id as 'a' | 'b'] }));
    return new TestNode(id, address, port, file, token, { ...options.nodeEnv, [PEER_CUT_FILE_ENV]: peerCutFile }, peerCutFile);
  };
  const nodes: TestNode[] = [];
  for (const [index, id] of ids.entries()) nodes.push(await write(id, addressOf(index)));
  const [a, b] = nodes as [TestNode, TestNode];
  return {
    a,
    b,
    nodes,
    peerSecret,
    async cutPeerPath(cuts) {
      for (const node of nodes) {
        const cut = cuts[node.id];
        if (cut === undefined) continue;
        if (cut === 'none') {
          await rm(node.peerCutFile!, { force: true });
        } else {
          // Atomically: a file caught half-written (empty) would mean `both` for a moment.
          await writeFile(`${node.peerCutFile!}.next`, cut);
          await rename(`${node.peerCutFile!}.next`, node.peerCutFile!);
        }
      }
    },
    async healPeerPath() {
      await Promise.all(nodes.map((node) => unlink(node.peerCutFile!).catch(() => undefined)));
    },
  };
}

/**
 * Forms the group: a starts with `--create-group` and becomes acting Primary, then b (and c ..., when `nodes` holds
 * more) starts with `--join`, one after the other, each waited for until it receives direct heartbeats.
 *
 * @example
 * await formGroup(pair);
 */
export async function formGroup(pair: Pick<TestNodePair, 'a' | 'b'> & { readonly nodes?: readonly TestNode[] }): Promise<void> {
  await pair.a.start(['--create-group']);
  await pair.a.waitForState('acting Primary', (state) => state.acting_primary === true);
  for (const node of (pair.nodes ?? [pair.a, pair.b]).slice(1)) {
    await node.start(['--join']);
    await node.waitForState('Secondary with direct heartbeats', (state) => state.node_role === 'secondary' && state.heartbeat_method === 'direct');
  }
}

/**
 * Starts a DNS server and writes two node configs; `form` also starts a with `--create-group` and b with `--join`
 * and waits until b receives direct heartbeats. Only a's config holds the TSIG key: b gets it from a when it joins.
 * (Groups on etcd: test/support/etcdGroup.ts.)
 *
 * @example
 * const cluster = await startCluster('embedded', { heartbeat: 0.1, check: 0.1, absence: 0.5 }, { form: true });
 * afterAll(() => cluster.stop());
 */
export async function startCluster(
  kind: DnsKind,
  timers: TestTimers,
  options: { form?: boolean; nodeEnv?: Record<string, string>; dnsArgs?: readonly string[]; nodeSettings?: Partial<Record<'a' | 'b', Record<string, unknown>>> } = {},
): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'ag-it-'));
  const dns = await startTestDns(kind, dir, undefined, options.dnsArgs);
  const groupFqdn = `app.${dns.zone}`;
  const pair = await writeNodePair(dir, timers, {
    common: { group_fqdn: groupFqdn, dns_server: `${dns.host}:${dns.port}` },
    nodeSettings: { a: { tsig_name: dns.key.name, tsig_secret: dns.key.secret, tsig_algorithm: dns.key.algorithm, ...options.nodeSettings?.a }, b: { ...options.nodeSettings?.b } },
    ...(options.nodeEnv === undefined ? {} : { nodeEnv: options.nodeEnv }),
  });
  const { a, b } = pair;
  const reader = new DnsUpdateClient({ server: { host: dns.host, port: dns.port }, tsig: dns.key, timeoutMs: 500, retries: 2 });
  const cluster: TestCluster = {
    ...pair,
    dir,
    dns,
    groupFqdn,
    async records() {
      const records = await reader.read(groupFqdn);
      return { ...records, heartbeat: records.txt === null ? null : parseHeartbeatRecord(records.txt) };
    },
    async stop() {
      reader.close();
      await Promise.all(pair.nodes.map((node) => node.process?.kill('SIGKILL')));
      await dns.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  if (options.form === true) {
    try {
      await formGroup(cluster);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }
  return cluster;
}
