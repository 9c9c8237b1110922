/**
 * The fault suite on real processes: the group's authority (a DNS server, the embedded `agctl dns-server` or BIND 9;
 * or with `coordination: 'etcd'` a three-member etcd cluster) and two `agctl start` processes (a on 127.0.0.2, b on
 * 127.0.0.3, via test/support/processes.ts and test/support/etcdGroup.ts; with etcd and `members: N` up to 7, c on
 * 127.0.0.4 and on), a checker polling every node and the
 * address the authority names (the A record, or the etcd address key) every 10 ms (checker.ts), and a seeded schedule
 * of faults (schedule.ts) run one at a time, each followed by a recovery gap; then the analysis (analysis.ts).
 * `npm run chaos` (run.ts) and test/integration/chaos.test.ts run it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lookupAddress } from '../../src/dns/primaryLocator.js';
import { machineMonotonicMs } from '../../src/api/logger.js';
import { mergedAnnouncements } from '../support/announcements.js';
import { startEtcdGroup, type EtcdTestGroup } from '../support/etcdGroup.js';
import { startCluster, type DnsKind, type TestDns, type TestNodePair, type TestNode, type TestTimers } from '../support/processes.js';
import { analyse, formatReport, formatViolations, type ChaosRecord, type ChaosReport, type Death, type FaultRecord, type PauseSpan } from './analysis.js';
import { Checker, rssKiB, type AddressReader } from './checker.js';
import { FaultSchedule, Random, describePlan, type ChaosCoordination, type FaultKind, type FaultPlan, type Side } from './schedule.js';

export interface ChaosOptions {
  readonly minutes: number;
  /** The group's authority (default `dns`): with `etcd`, a three-member etcd cluster and no DNS server. */
  readonly coordination?: ChaosCoordination;
  /** Node processes in the group (default 2): with `coordination: 'etcd'` up to 7 (a creates, the others join). */
  readonly members?: number;
  /** The DNS server with `coordination: 'dns'` (default `embedded`). */
  readonly dns?: DnsKind;
  readonly timers: TestTimers;
  readonly seed: number;
  /** Only these fault kinds (of the coordination's), for a shorter round; default all. */
  readonly kinds?: readonly FaultKind[];
  /** Run at least this many whole rounds of the schedule (every kind once per round), even past the time budget. */
  readonly minRounds?: number;
  /** Where the logs go (default: a new directory under the system temp dir). */
  readonly outDir?: string;
  /** Progress lines (default: none). */
  readonly progress?: (line: string) => void;
  /** Stops the run early (Ctrl-C): the fault in progress is recovered, then the analysis runs. */
  readonly signal?: AbortSignal;
}

export interface ChaosResult {
  readonly record: ChaosRecord;
  readonly report: ChaosReport;
  /** The table and the figures under it. */
  readonly text: string;
  /** The violations with the seed and log excerpts; empty when there is none. */
  readonly violationsText: string;
  readonly outDir: string;
  readonly wallMs: number;
  /** Set when the suite itself failed (an exception while injecting a fault): what ran is still analysed. */
  readonly failure?: string;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** A fault in progress: what it records as it goes. */
class FaultLog {
  readonly marks: { at: number; what: string }[] = [];
  readonly notes: string[] = [];
  readonly touches = new Set<string>();
  origin: number | null = null;
  failover: FaultRecord['failover'];

  mark(what: string): number {
    const at = machineMonotonicMs();
    this.marks.push({ at, what });
    return at;
  }
}

/** The group under test as the runner sees it: the two nodes, the authority's address, and what the authority's faults act on. */
interface ChaosGroup extends TestNodePair {
  readonly coordination: ChaosCoordination;
  /** How the report names the authority: `embedded`, `bind`, `etcd`. */
  readonly label: string;
  readonly readAddress: AddressReader;
  /** The DNS server (coordination dns). */
  readonly dns: TestDns | null;
  /** The etcd group (coordination etcd): its cluster's members and the reader of its keys. */
  readonly etcd: EtcdTestGroup | null;
  stop(): Promise<void>;
}

/** Checks `members` against the coordination: 2 to 7 on etcd, 2 on DNS (a DNS group has two members). */
export function checkMembers(coordination: ChaosCoordination, members: number): void {
  if (coordination === 'dns' && members !== 2) throw new Error(`members must be 2 with coordination dns (got ${members}): a DNS group has two members; use coordination etcd for 3 to 7`);
  if (!Number.isInteger(members) || members < 2 || members > 7) throw new Error(`members must be a whole number from 2 to 7 (got ${members})`);
}

async function startChaosGroup(options: ChaosOptions): Promise<ChaosGroup> {
  checkMembers(options.coordination ?? 'dns', options.members ?? 2);
  if (options.coordination === 'etcd') {
    const group = await startEtcdGroup(options.timers, { form: true, members: options.members ?? 2 });
    return { ...group, coordination: 'etcd', label: 'etcd', readAddress: (timeoutMs) => group.keys.read(timeoutMs).then((records) => records.address), dns: null, etcd: group };
  }
  const cluster = await startCluster(options.dns ?? 'embedded', options.timers, { form: true });
  const server = { host: cluster.dns.host, port: cluster.dns.port };
  return { ...cluster, coordination: 'dns', label: cluster.dns.kind, readAddress: (timeoutMs) => lookupAddress(server, cluster.groupFqdn, timeoutMs), etcd: null };
}

class Runner {
  readonly faults: FaultRecord[] = [];
  readonly pauses: PauseSpan[] = [];
  readonly deaths: Death[] = [];
  readonly notes: string[] = [];
  readonly checker: Checker;
  readonly absenceMs: number;

  constructor(
    readonly cluster: ChaosGroup,
    readonly options: ChaosOptions,
    readonly schedule: FaultSchedule,
  ) {
    // A linearizable etcd read may wait out a leader election (200 ms with the test clusters' timing).
    this.checker = new Checker(cluster, cluster.readAddress, 10, 1000, cluster.coordination === 'etcd' ? 300 : 100);
    this.absenceMs = options.timers.absence * 1000;
  }

  /** Every node, in id order (a, b, and c ... with `members` above 2). */
  get nodes(): readonly TestNode[] {
    return this.cluster.nodes;
  }

  /**
   * Who is Primary now: the node acting, else the one that says primary, else a; the Secondary a fault acts on is
   * the other node of two, or with more nodes one of the others drawn from `pick` (seeded by the plan, so that the
   * schedule of a seed stays what it is).
   */
  async roles(pick?: Random): Promise<{ primary: TestNode; secondary: TestNode; known: boolean }> {
    const states = await Promise.all(this.nodes.map((node) => node.state()));
    const index = states.findIndex((state) => state?.acting_primary === true);
    const found = index >= 0 ? index : states.findIndex((state) => state?.node_role === 'primary');
    const primary = found >= 0 ? this.nodes[found]! : this.cluster.a;
    const others = this.nodes.filter((node) => node !== primary);
    const secondary = others.length === 1 || pick === undefined ? others[0]! : pick.pick(others);
    return { primary, secondary, known: found >= 0 };
  }

  /** Whether the group is healthy: one acting Primary, the authority names it, every other node a Secondary with direct heartbeats at its epoch, all connected to the authority. */
  async healthy(): Promise<boolean> {
    const states = await Promise.all(this.nodes.map((node) => node.state()));
    if (states.some((state) => state === null)) return false;
    const acting = states.flatMap((state, index) => (state!.acting_primary === true ? [index] : []));
    if (acting.length !== 1) return false;
    const p = states[acting[0]!]!;
    const primary = this.nodes[acting[0]!]!;
    const secondaries = states.filter((state) => state !== p).map((state) => state!);
    if (!secondaries.every((s) => s.node_role === 'secondary' && s.heartbeat_method === 'direct' && p.epoch === s.epoch)) return false;
    if (!states.every((state) => state!.node_dns_connection_state === 'connected')) return false;
    const address = await this.cluster.readAddress(this.cluster.coordination === 'etcd' ? 500 : 200).catch(() => null);
    return address === primary.address;
  }

  /** Waits (every 20 ms) until the group is healthy; the instant it was, or null at the deadline. */
  async waitHealthy(deadlineMs: number): Promise<number | null> {
    const deadline = performance.now() + deadlineMs;
    while (performance.now() < deadline) {
      if (await this.healthy()) return machineMonotonicMs();
      await sleep(20);
    }
    return null;
  }

  async kill(log: FaultLog, node: TestNode): Promise<void> {
    const process = node.process;
    if (process === null || process.exitCode !== undefined) return;
    this.checker.expectExit(node);
    const at = log.mark(`kill -9 ${node.id}`);
    this.deaths.push({ node: node.id, run: node.processes.indexOf(process), at });
    log.touches.add(node.id);
    await process.kill('SIGKILL');
  }

  /** SIGTERM: the node stops cleanly (a Primary hands over first); kill -9 if it has not exited within 10 s + 4 A. */
  async terminate(log: FaultLog, node: TestNode): Promise<void> {
    const process = node.process;
    if (process === null || process.exitCode !== undefined) return;
    this.checker.expectExit(node);
    log.mark(`SIGTERM ${node.id}`);
    log.touches.add(node.id);
    void process.kill('SIGTERM');
    const exited = await Promise.race([process.exited().then(() => true), sleep(10_000 + 4 * this.absenceMs).then(() => false)]);
    if (!exited) {
      log.notes.push(`${node.id} did not exit within ${10_000 + 4 * this.absenceMs} ms of SIGTERM: killed`);
      await process.kill('SIGKILL');
    }
    this.deaths.push({ node: node.id, run: node.processes.indexOf(process), at: log.mark(`${node.id} exited (${process.exitCode})`) });
  }

  async start(log: FaultLog, node: TestNode): Promise<void> {
    log.mark(`start ${node.id}`);
    log.touches.add(node.id);
    try {
      await node.start();
      log.mark(`${node.id} listening`);
    } catch (error) {
      const note = `${node.id} did not start: ${(error as Error).message.split('\n')[0]}`;
      log.notes.push(note);
      this.notes.push(note);
    }
    this.checker.watch(node);
  }

  pause(log: FaultLog, node: TestNode): () => void {
    const process = node.process;
    if (process === null || process.exitCode !== undefined) {
      log.notes.push(`${node.id} was not running: not paused`);
      return () => undefined;
    }
    const run = node.processes.indexOf(process);
    log.touches.add(node.id);
    const from = log.mark(`SIGSTOP ${node.id}`);
    void process.kill('SIGSTOP');
    return () => {
      void process.kill('SIGCONT');
      this.pauses.push({ node: node.id, run, from, to: log.mark(`SIGCONT ${node.id}`) });
    };
  }

  pauseDns(log: FaultLog): () => void {
    log.touches.add('dns');
    const from = log.mark('SIGSTOP DNS server');
    this.cluster.dns!.pause();
    return () => {
      this.cluster.dns!.resume();
      this.pauses.push({ node: 'dns', run: 0, from, to: log.mark('SIGCONT DNS server') });
    };
  }

  /**
   * The etcd members a fault acts on, as indexes: `leader`/`follower` one member by its raft role now; `majority` as
   * many as take the quorum away (two of three), with the leader among them or not. When no member names a leader
   * (an election under way), the first members are taken and a note says so.
   */
  async etcdMembers(log: FaultLog, which: 'leader' | 'follower' | 'majority', withLeader = false): Promise<number[]> {
    const members = this.cluster.etcd!.etcd.members;
    const count = which === 'majority' ? Math.ceil(members.length / 2) : 1;
    let leader: number;
    try {
      leader = await this.cluster.etcd!.keys.leader(2000);
    } catch (error) {
      log.notes.push(`no etcd leader known (${(error as Error).message}): members taken in order`);
      return members.slice(0, count).map((_, index) => index);
    }
    const followers = members.map((_, index) => index).filter((index) => index !== leader);
    if (which === 'leader') return [leader];
    if (which === 'follower') return [followers[0]!];
    return withLeader ? [leader, ...followers].slice(0, count) : followers.slice(0, count);
  }

  /** SIGSTOP of the etcd members at `indexes`, at once; the resume lets them all run again. */
  pauseEtcd(log: FaultLog, indexes: readonly number[]): () => void {
    const members = indexes.map((index) => this.cluster.etcd!.etcd.members[index]!);
    log.touches.add('etcd');
    const from = log.mark(`SIGSTOP etcd ${members.map((member) => member.name).join(', ')}`);
    for (const member of members) member.pause();
    return () => {
      for (const member of members) member.resume();
      const to = log.mark(`SIGCONT etcd ${members.map((member) => member.name).join(', ')}`);
      for (const member of members) this.pauses.push({ node: `etcd ${member.name}`, run: 0, from, to });
    };
  }

  /**
   * What pauses the authority for `plan`, resolved now so that the pause itself is synchronous (it may be taken
   * inside a log callback, as a takeover begins): the DNS server, or a majority of the etcd members.
   */
  async authorityPauser(log: FaultLog, plan: FaultPlan): Promise<() => () => void> {
    if (this.cluster.coordination !== 'etcd') return () => this.pauseDns(log);
    const indexes = await this.etcdMembers(log, 'majority', plan.etcdWithLeader === true);
    return () => this.pauseEtcd(log, indexes);
  }

  /** Resumes whatever of the authority may be paused (after the suite itself failed). */
  resumeAuthority(): void {
    this.cluster.dns?.resume();
    for (const member of this.cluster.etcd?.etcd.members ?? []) if (member.pid !== null) member.resume();
  }

  async cut(log: FaultLog, node: TestNode, direction: 'out' | 'in' | 'both'): Promise<() => Promise<void>> {
    log.touches.add('peer');
    await this.cluster.cutPeerPath({ [node.id]: direction });
    log.mark(`peer path cut on ${node.id}: ${direction}`);
    return async () => {
      await this.cluster.healPeerPath();
      log.mark('peer path healed');
    };
  }

  /** PUT /failover on `node`; its answer is recorded on the fault. */
  async failover(log: FaultLog, node: TestNode): Promise<void> {
    log.touches.add('operator');
    const sentAt = log.mark(`PUT /failover to ${node.id}`);
    log.origin ??= sentAt;
    let status: number | null = null;
    let body: unknown = null;
    try {
      const response = await fetch(`${node.url}/ag/api/v1/failover`, { method: 'PUT', headers: { authorization: `Bearer ${node.token}` }, signal: AbortSignal.timeout(15_000 + 10 * this.absenceMs) });
      status = response.status;
      const text = await response.text();
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    } catch (error) {
      body = `no answer: ${(error as Error).message}`;
    }
    const answeredAt = log.mark(`failover answer from ${node.id}: ${status ?? '-'} ${typeof body === 'string' ? body : JSON.stringify(body)}`.slice(0, 200));
    log.failover = { node: node.id, sentAt, answeredAt, status, body };
  }

  /** Starts a node whose process is not running (a start that failed before): no fault runs on half a group. */
  async ensureRunning(log: FaultLog): Promise<void> {
    for (const node of this.nodes) {
      if (node.process === null || node.process.exitCode !== undefined) {
        log.notes.push(`${node.id} was not running before the fault: started`);
        await this.start(log, node);
      }
    }
  }

  async runFault(plan: FaultPlan): Promise<void> {
    const log = new FaultLog();
    await this.ensureRunning(log);
    // With more than two nodes, which Secondary a fault acts on is drawn from the seed and the fault's index.
    const pick = this.nodes.length > 2 ? new Random((this.options.seed ^ Math.imul(plan.index + 1, 0x9e3779b1)) >>> 0) : undefined;
    const { primary, secondary, known } = await this.roles(pick);
    if (!known) log.notes.push('no node acted or said primary when the fault began');
    const bySide = (side: Side) => (side === 'primary' ? primary : secondary);
    const start = log.mark(`#${plan.index} ${describePlan(plan)} (Primary ${known ? primary.id : 'unknown'})`);
    const hold = (ms: number) => sleep(ms);
    switch (plan.kind) {
      case 'kill-primary':
      case 'kill-secondary': {
        const victim = plan.kind === 'kill-primary' ? primary : secondary;
        await this.kill(log, victim);
        log.origin = log.marks.at(-1)!.at;
        await hold(plan.holdMs);
        await this.start(log, victim);
        break;
      }
      case 'pause-primary-1.5x':
      case 'pause-primary-3x':
      case 'pause-secondary': {
        const resume = this.pause(log, plan.kind === 'pause-secondary' ? secondary : primary);
        log.origin = log.marks.at(-1)!.at;
        await hold(plan.holdMs);
        resume();
        break;
      }
      case 'pause-dns': {
        const resume = this.pauseDns(log);
        await hold(plan.holdMs);
        resume();
        break;
      }
      case 'pause-etcd-member': {
        const resume = this.pauseEtcd(log, await this.etcdMembers(log, plan.etcdMember!));
        await hold(plan.holdMs);
        resume();
        break;
      }
      case 'pause-etcd-quorum': {
        const resume = this.pauseEtcd(log, await this.etcdMembers(log, 'majority', plan.etcdWithLeader === true));
        await hold(plan.holdMs);
        resume();
        break;
      }
      case 'kill-etcd-member': {
        const member = this.cluster.etcd!.etcd.members[(await this.etcdMembers(log, plan.etcdMember!))[0]!]!;
        log.touches.add('etcd');
        log.mark(`kill -9 etcd ${member.name}`);
        await member.kill();
        await hold(plan.holdMs);
        member.restart();
        log.mark(`restart etcd ${member.name}`);
        break;
      }
      case 'pause-etcd-at-takeover':
      case 'pause-dns-at-takeover': {
        const pauseAuthority = await this.authorityPauser(log, plan);
        let resume: (() => void) | null = null;
        let stopWatching = () => {};
        const trigger = plan.dnsPause!;
        const takeoverSeen = new Promise<void>((resolve) => {
          // Any Secondary may take over (with more than two nodes, the first in priority order that can).
          const watched = this.nodes.filter((node) => node !== primary && node.process !== null);
          if (trigger.trigger !== 'takeover-started' || watched.length === 0) return resolve();
          const stops = watched.map((node) =>
            node.process!.onLog((line) => {
              if (line.msg === 'TAKEOVER_STARTED' && resume === null) {
                // At once, inside the callback: the compare-and-swap may still be on its way.
                resume = pauseAuthority();
                resolve();
              }
            }),
          );
          stopWatching = () => stops.forEach((stop) => stop());
        });
        await this.kill(log, primary);
        log.origin = log.marks.at(-1)!.at;
        if (trigger.trigger === 'after-kill') {
          await hold(trigger.delayMs);
          resume = pauseAuthority();
        } else {
          await Promise.race([takeoverSeen, hold(4 * this.absenceMs)]);
          stopWatching();
          if (resume === null) {
            log.notes.push(`no TAKEOVER_STARTED within ${4 * this.absenceMs} ms of the kill: the authority paused then`);
            resume = pauseAuthority();
          }
        }
        await hold(plan.holdMs);
        (resume as () => void)();
        await hold(plan.restartDelayMs!);
        await this.start(log, primary);
        break;
      }
      case 'cut-out':
      case 'cut-in':
      case 'cut-both': {
        const heal = await this.cut(log, bySide(plan.cutSide!), plan.kind.slice(4) as 'out' | 'in' | 'both');
        await hold(plan.holdMs);
        await heal();
        break;
      }
      case 'failover':
        await this.failover(log, bySide(plan.failoverOn!));
        break;
      case 'failover-during-fault': {
        let recover: () => Promise<void>;
        const under = plan.under!;
        if (under.startsWith('cut-')) recover = await this.cut(log, bySide(plan.cutSide!), under.slice(4) as 'out' | 'in' | 'both');
        else if (under === 'pause-dns' || under === 'pause-etcd-quorum') {
          const resume = (await this.authorityPauser(log, plan))();
          recover = async () => resume();
        } else {
          const resume = this.pause(log, under === 'pause-secondary' ? secondary : primary);
          recover = async () => resume();
        }
        const faultStarted = machineMonotonicMs();
        await hold(plan.failoverDelayMs!);
        const request = this.failover(log, bySide(plan.failoverOn!));
        await hold(faultStarted + plan.holdMs - machineMonotonicMs());
        await recover();
        await request;
        break;
      }
      case 'restart-both': {
        const { signal, first, staggerMs } = plan.restart!;
        const stop = (node: TestNode) => (signal === 'SIGKILL' ? this.kill(log, node) : this.terminate(log, node));
        // Every node (both of two; all of them with more).
        await Promise.all(this.nodes.map(stop));
        log.origin = log.marks.find((mark) => mark.what.startsWith('kill') || mark.what.startsWith('SIGTERM'))?.at ?? null;
        await hold(plan.holdMs);
        const firstNode = bySide(first);
        const starting = this.start(log, firstNode);
        await hold(staggerMs);
        await Promise.all([starting, ...this.nodes.filter((node) => node !== firstNode).map((node) => this.start(log, node))]);
        break;
      }
    }
    const end = machineMonotonicMs();
    const recoveredAt = await this.waitHealthy(this.schedule.bounds.recoveryDeadlineMs);
    if (recoveredAt === null) log.mark(`not healthy within ${this.schedule.bounds.recoveryDeadlineMs} ms`);
    else log.mark('healthy again');
    this.faults.push({
      plan,
      start,
      origin: log.origin ?? start,
      end,
      recoveredAt,
      primaryAtStart: known ? primary.id : null,
      secondaryAtStart: known ? secondary.id : null,
      touches: [...log.touches],
      marks: log.marks,
      ...(log.failover === undefined ? {} : { failover: log.failover }),
      notes: log.notes,
    });
    for (const note of log.notes) this.notes.push(`#${plan.index} ${plan.kind}: ${note}`);
    const failover = log.failover === undefined ? '' : `, failover ${log.failover.status ?? 'no answer'}`;
    this.options.progress?.(
      `#${plan.index} ${describePlan(plan)}: ${recoveredAt === null ? 'NOT healthy by the deadline' : `healthy ${Math.round(recoveredAt - end)} ms after the fault ended`}${failover}`,
    );
  }
}

/** Saves both nodes' logs (all processes, merged by mono), the faults and the report under `dir`. */
function saveLogs(dir: string, cluster: ChaosGroup, record: ChaosRecord, text: string, violationsText: string): void {
  mkdirSync(dir, { recursive: true });
  const lines = cluster.nodes.flatMap((node) => node.processes.flatMap((process, run) => process.logs.map((line) => ({ key: `${node.id}#${run}`, line }))));
  lines.sort((x, y) => Number(x.line.mono ?? 0) - Number(y.line.mono ?? 0));
  writeFileSync(join(dir, 'nodes.log'), lines.map(({ key, line }) => `${key} ${JSON.stringify(line)}`).join('\n') + '\n');
  writeFileSync(join(dir, 'faults.json'), JSON.stringify({ seed: record.seed, coordination: record.coordination ?? 'dns', dns: record.dns, timers: record.timers, startedAt: record.startedAt, faults: record.faults, pauses: record.pauses, deaths: record.deaths, exits: record.exits, notes: record.notes }, null, 1));
  writeFileSync(join(dir, 'report.txt'), `${text}\n${violationsText === '' ? '' : `\n${violationsText}\n`}`);
  if (violationsText !== '') {
    writeFileSync(join(dir, 'state-polls.jsonl'), record.samples.map((sample) => JSON.stringify(sample)).join('\n') + '\n');
    writeFileSync(join(dir, 'dns-polls.jsonl'), record.dnsSamples.map((sample) => JSON.stringify(sample)).join('\n') + '\n');
  }
}

/** Runs the suite: forms the group, runs faults until the time budget (and `minRounds`) is spent, then analyses. */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const wallStart = performance.now();
  const progress = options.progress ?? (() => undefined);
  const coordination = options.coordination ?? 'dns';
  const authority = coordination === 'etcd' ? 'etcd' : (options.dns ?? 'embedded');
  const outDir = options.outDir ?? join(tmpdir(), 'ag-chaos', `${new Date().toISOString().replace(/[:.]/g, '-')}-${authority}-seed${options.seed}`);
  const schedule = new FaultSchedule(options.seed, options.timers, coordination, options.kinds);
  const members = options.members ?? 2;
  checkMembers(coordination, members);
  progress(`forming the group of ${members} nodes ${coordination === 'etcd' ? 'on a three-member etcd cluster' : `over the ${authority} DNS server`} (timers ${options.timers.heartbeat}/${options.timers.check}/${options.timers.absence} s, seed ${options.seed}) ...`);
  const cluster = await startChaosGroup(options);
  const runner = new Runner(cluster, options, schedule);
  const startedAt = machineMonotonicMs();
  runner.checker.start();
  let record: ChaosRecord;
  let failure: string | undefined;
  try {
    const formed = await runner.waitHealthy(schedule.bounds.recoveryDeadlineMs);
    if (formed === null) runner.notes.push('the group was not healthy after forming');
    const budgetEnd = performance.now() + options.minutes * 60_000;
    const minRounds = options.minRounds ?? 0;
    for (;;) {
      if (options.signal?.aborted === true) break;
      const roundsDone = schedule.roundComplete ? schedule.round + 1 : schedule.round;
      if (performance.now() >= budgetEnd && roundsDone >= minRounds) break;
      const plan = schedule.next();
      await runner.runFault(plan);
      await sleep(plan.gapMs, options.signal);
    }
    // The quiet tail: convergence is measured from the end of the last fault; watch a while once converged.
    progress('quiet tail: waiting for the group to converge ...');
    const converged = await runner.waitHealthy(schedule.bounds.recoveryDeadlineMs);
    await sleep(Math.max(5 * runner.absenceMs, 2000));
    if (converged === null) runner.notes.push('the group was not healthy at the end of the quiet tail');
  } catch (error) {
    // The suite itself failed (not the group): say so, and still analyse what ran.
    failure = (error as Error).stack ?? String(error);
    runner.notes.push(`the suite failed: ${(error as Error).message}`);
    for (const node of cluster.nodes) if (node.process !== null) void node.process.kill('SIGCONT');
    runner.resumeAuthority();
    await cluster.healPeerPath().catch(() => undefined);
  } finally {
    await runner.checker.stop();
  }
  const endedAt = machineMonotonicMs();
  const rss: Record<string, number | null> = {};
  for (const node of cluster.nodes) rss[node.id] = await rssKiB(node.process?.pid);
  if (cluster.dns !== null && cluster.dns.pid !== null) rss.dns = await rssKiB(cluster.dns.pid);
  for (const member of cluster.etcd?.etcd.members ?? []) rss[`etcd ${member.name}`] = await rssKiB(member.pid);
  const notes = [...runner.notes];
  for (const node of cluster.nodes) if (node.process === null || node.process.exitCode !== undefined) notes.push(`${node.id} was not running at the end`);
  if (cluster.dns !== null && cluster.dns.pid !== null && rss.dns === null) notes.push('the embedded DNS server was not running at the end');
  for (const member of cluster.etcd?.etcd.members ?? []) if (member.pid === null) notes.push(`etcd member ${member.name} was not running at the end`);
  const logs = cluster.nodes.flatMap((node) => node.processes.map((process, run) => ({ node: node.id, run, lines: process.logs })));
  record = {
    seed: options.seed,
    coordination,
    dns: authority,
    kinds: schedule.kinds,
    timers: options.timers,
    startedAt,
    endedAt,
    faults: runner.faults,
    pauses: runner.pauses,
    deaths: runner.deaths,
    samples: runner.checker.samples,
    dnsSamples: runner.checker.dnsSamples,
    exits: [...runner.checker.exits],
    logs,
    announcements: mergedAnnouncements([...cluster.nodes]),
    addresses: Object.fromEntries(cluster.nodes.map((node) => [node.id, node.address])),
    rssKiB: rss,
    notes,
  };
  // The exits after this point are the suite's own stop.
  for (const node of cluster.nodes) runner.checker.expectExit(node);
  const report = analyse(record);
  const text = formatReport(record, report);
  const violationsText = formatViolations(record, report);
  try {
    saveLogs(outDir, cluster, record, text, violationsText);
  } finally {
    await cluster.stop();
  }
  return { record, report, text, violationsText, outDir, wallMs: performance.now() - wallStart, ...(failure === undefined ? {} : { failure }) };
}

/** Parses `--timings 0.1/0.1/0.5` (heartbeat/check/failover period, seconds). */
export function parseTimings(text: string): TestTimers {
  const parts = text.split('/').map(Number);
  if (parts.length !== 3 || parts.some((part) => !Number.isFinite(part) || part <= 0)) throw new Error(`--timings must be heartbeat/check/absence in seconds, like 0.1/0.1/0.5 (got ${text})`);
  return { heartbeat: parts[0]!, check: parts[1]!, absence: parts[2]! };
}

export type { FaultKind };
