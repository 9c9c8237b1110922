/**
 * What node processes announced, and checks on it. The source is each node's stdout: the node logs every event it
 * emits (`msg` = the event id, `event` = the payload subscribers get) when it is emitted, before any subscriber
 * runs, and every log line carries `mono`, the machine's monotonic clock in ms with a fraction (src/api/logger.ts).
 * Both processes run on this machine, so their lines merge into one order exactly; pino's `time` (whole ms) could
 * not order two announcements made in the same millisecond. (The inspector's event log, src/http/inspector/
 * nodeEventLog.ts, records state-label changes rather than the emitted events, in a bounded ring, on a clock that
 * starts with each log: it cannot be merged across processes.)
 *
 * The test process reads the same clock with {@link machineMonotonicMs}, so its own actions (a request sent, an
 * answer received, a DNS server paused) place on the same time line.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineMonotonicMs } from '../../src/api/logger.js';
import { waitFor, type GroupRecordsNow, type TestCluster, type TestNode } from './processes.js';

export { machineMonotonicMs };

/** One event a node emitted, as its log line shows it. */
export interface Announcement {
  /** The node id. */
  readonly node: string;
  /** Which process of the node said it (0 = its first start): a role chain starts again with every process. */
  readonly run: number;
  /** The machine's monotonic clock when the node emitted it, ms (see {@link machineMonotonicMs}). */
  readonly mono: number;
  /** The wall clock, ms (pino's `time`), for people. */
  readonly time: number;
  readonly eventId: string;
  /** The payload subscribers got: `previous`, `new`, `reason`, `epoch`, `mode`, ... */
  readonly event: Readonly<Record<string, any>>;
}

/** Every event `node` emitted, in every process started for it, in emission order. */
export function announcementsOf(node: TestNode): Announcement[] {
  const found: Announcement[] = [];
  node.processes.forEach((process, run) => {
    for (const line of process.logs) {
      const event = line.event as Record<string, unknown> | undefined;
      if (typeof event !== 'object' || event === null || typeof event.eventId !== 'string' || line.msg !== event.eventId) continue;
      if (typeof line.mono !== 'number') {
        throw new Error(`${node.id} logged ${event.eventId} without a monotonic stamp (mono): is dist/ an old build? Run npm run build.`);
      }
      found.push({ node: node.id, run, mono: line.mono, time: Number(line.time), eventId: event.eventId, event });
    }
  });
  return found;
}

/** Both nodes' announcements merged into one time line (by `mono`; each node's own order is kept). */
export function mergedAnnouncements(nodes: readonly TestNode[]): Announcement[] {
  return nodes.flatMap((node) => announcementsOf(node)).sort((x, y) => x.mono - y.mono);
}

/** The announcements of `eventId` (optionally only those `where` accepts). */
export function only(stream: readonly Announcement[], eventId: string, where: (announcement: Announcement) => boolean = () => true): Announcement[] {
  return stream.filter((announcement) => announcement.eventId === eventId && where(announcement));
}

/** A span during which one node announced itself Primary: from its `→ primary` to its next `primary →` (or the end). */
export interface PrimaryTenure {
  readonly node: string;
  readonly run: number;
  readonly from: number;
  /** `Infinity` while the tenure has not ended in the record. */
  readonly to: number;
  readonly epoch: number;
}

/** The primary tenures in `stream`, as announced by NODE_ROLE_CHANGED. */
export function primaryTenures(stream: readonly Announcement[]): PrimaryTenure[] {
  const tenures: PrimaryTenure[] = [];
  const open = new Map<string, { from: number; epoch: number }>();
  for (const announcement of only(stream, 'NODE_ROLE_CHANGED')) {
    const key = `${announcement.node}#${announcement.run}`;
    const started = open.get(key);
    if (announcement.event.new === 'primary') {
      if (started === undefined) open.set(key, { from: announcement.mono, epoch: announcement.event.epoch });
    } else if (started !== undefined) {
      tenures.push({ node: announcement.node, run: announcement.run, from: started.from, to: announcement.mono, epoch: started.epoch });
      open.delete(key);
    }
  }
  for (const [key, started] of open) {
    const [node, run] = key.split('#');
    tenures.push({ node: node!, run: Number(run), from: started.from, to: Infinity, epoch: started.epoch });
  }
  return tenures.sort((x, y) => x.from - y.from);
}

/**
 * Rule (a): at no instant did two nodes announce `primary`. Tolerance 0: a tenure that starts before another node's
 * tenure ended overlaps, by however little. Returns one line per overlap, empty when there is none.
 */
export function overlappingTenures(stream: readonly Announcement[], origin: number): string[] {
  const tenures = primaryTenures(stream);
  const issues: string[] = [];
  for (let i = 0; i < tenures.length; i++) {
    for (let j = i + 1; j < tenures.length; j++) {
      const x = tenures[i]!;
      const y = tenures[j]!;
      if (x.node === y.node || !(x.from < y.to && y.from < x.to)) continue;
      const by = Math.min(x.to, y.to) - Math.max(x.from, y.from);
      issues.push(`both primary: ${x.node} (epoch ${x.epoch}, ${span(x, origin)}) and ${y.node} (epoch ${y.epoch}, ${span(y, origin)}) overlap by ${by === Infinity ? 'the rest of the record' : `${by.toFixed(3)} ms`}`);
    }
  }
  return issues;
}

/**
 * Rule (a), the step-down's side: a node that lost its lease announces that it is no longer primary before its peer
 * acts on it. Between a node's LEASE_LOST in a primary tenure and its next `primary →` (or the end of the record, or
 * `endOf(node, run)`: when that process died, if known), the other node must not start a takeover nor announce
 * `→ primary`. A LEASE_LOST outside a tenure has nothing to step down from (`chainIssues` reports it). Returns one
 * line per breach.
 */
export function stepDownIssues(stream: readonly Announcement[], origin: number, endOf?: (node: string, run: number) => number): string[] {
  const issues: string[] = [];
  stream.forEach((lost, index) => {
    if (lost.eventId !== 'LEASE_LOST') return;
    const later = stream.slice(index + 1);
    const sameProcess = (announcement: Announcement) => announcement.node === lost.node && announcement.run === lost.run;
    const stepDown = later.find((announcement) => sameProcess(announcement) && announcement.eventId === 'NODE_ROLE_CHANGED' && announcement.event.previous === 'primary');
    const died = endOf?.(lost.node, lost.run) ?? Infinity;
    const stepDownAt = Math.min(stepDown?.mono ?? Infinity, died);
    const before = stream.slice(0, index).reverse().find((announcement) => sameProcess(announcement) && announcement.eventId === 'NODE_ROLE_CHANGED');
    // The step-down may be announced just before the lease is dropped, in the same transition.
    if (before !== undefined && before.event.previous === 'primary' && lost.mono - before.mono < 1) return;
    if (before === undefined || before.event.new !== 'primary') return;
    const acted = later.find(
      (announcement) =>
        announcement.node !== lost.node &&
        announcement.mono < stepDownAt &&
        (announcement.eventId === 'TAKEOVER_STARTED' || (announcement.eventId === 'NODE_ROLE_CHANGED' && announcement.event.new === 'primary')),
    );
    if (acted === undefined) return;
    issues.push(
      `${lost.node} lost its lease at ${offset(lost.mono, origin)} (${lost.event.reason}) but ${stepDown === undefined || stepDown.mono > died ? 'never announced stepping down' : `announced stepping down only at ${offset(stepDown.mono, origin)}`}, ` +
        `while ${acted.node} ${acted.eventId === 'TAKEOVER_STARTED' ? 'started a takeover' : 'announced primary'} at ${offset(acted.mono, origin)}`,
    );
  });
  return issues;
}

function span(tenure: PrimaryTenure, origin: number): string {
  return `${offset(tenure.from, origin)} .. ${tenure.to === Infinity ? 'end' : offset(tenure.to, origin)}`;
}

/**
 * Rule (b), within each process of each node: every NODE_ROLE_CHANGED and DNS_CONNECTION_STATE_CHANGED starts
 * from what the one before announced (`previous` = the last `new`; null before the first role) and changes
 * something; a LEASE_LOST comes only inside a primary tenure (or with the announcement that ends it), once per
 * tenure; every TAKEOVER_STARTED is followed by `→ primary` or TAKEOVER_ABANDONED before the next one.
 */
export function chainIssues(stream: readonly Announcement[], origin: number): string[] {
  const issues: string[] = [];
  const byRun = new Map<string, Announcement[]>();
  for (const announcement of stream) {
    const key = `${announcement.node}#${announcement.run}`;
    byRun.set(key, [...(byRun.get(key) ?? []), announcement]);
  }
  for (const [key, announcements] of byRun) {
    let role: string | null | undefined = undefined;
    let dns: string | undefined = undefined;
    let tenureLost = false;
    let lastEndedPrimaryAt: number | null = null;
    let takeover: Announcement | null = null;
    const say = (announcement: Announcement, what: string) => issues.push(`${key} at ${offset(announcement.mono, origin)}: ${what}`);
    for (const announcement of announcements) {
      const { event } = announcement;
      switch (announcement.eventId) {
        case 'NODE_ROLE_CHANGED': {
          const expected = role === undefined ? null : role;
          if (event.previous !== expected) say(announcement, `NODE_ROLE_CHANGED ${event.previous} → ${event.new}, but the last role announced was ${expected}`);
          if (event.previous === event.new) say(announcement, `NODE_ROLE_CHANGED ${event.previous} → ${event.new} changes nothing`);
          if (event.previous === 'primary') lastEndedPrimaryAt = announcement.mono;
          if (event.new === 'primary') {
            tenureLost = false;
            takeover = null;
          }
          role = event.new;
          break;
        }
        case 'DNS_CONNECTION_STATE_CHANGED':
          if (dns !== undefined && event.previous !== dns) say(announcement, `DNS_CONNECTION_STATE_CHANGED ${event.previous} → ${event.new}, but the last state announced was ${dns}`);
          if (event.previous === event.new) say(announcement, `DNS_CONNECTION_STATE_CHANGED ${event.previous} → ${event.new} changes nothing`);
          dns = event.new;
          break;
        case 'LEASE_LOST': {
          // The step-down may be announced just before or just after the lease is dropped, in the same transition.
          const inTenure = role === 'primary';
          const justEnded = lastEndedPrimaryAt !== null && announcement.mono - lastEndedPrimaryAt < 1;
          if (!inTenure && !justEnded) say(announcement, `LEASE_LOST (${event.reason}) while the role announced was ${role}`);
          else if (tenureLost) say(announcement, `a second LEASE_LOST (${event.reason}) in one primary tenure: the lease came back unannounced`);
          tenureLost = true;
          break;
        }
        case 'TAKEOVER_STARTED':
          if (takeover !== null) say(announcement, 'TAKEOVER_STARTED while an earlier takeover neither succeeded nor was abandoned');
          if (role === 'primary') say(announcement, 'TAKEOVER_STARTED while announced primary');
          takeover = announcement;
          break;
        case 'TAKEOVER_ABANDONED':
          if (takeover === null) say(announcement, `TAKEOVER_ABANDONED (${event.reason}) without a takeover started`);
          takeover = null;
          break;
      }
    }
  }
  return issues;
}

/** The stream as lines for a failure message: `+12.345 ms  b  NODE_ROLE_CHANGED secondary → primary (reason) epoch 2`. */
export function timeline(stream: readonly Announcement[], origin: number, marks: readonly { at: number; what: string }[] = []): string {
  const rows = [
    ...stream.map((announcement) => ({ at: announcement.mono, text: `${announcement.node}${announcement.run > 0 ? `#${announcement.run}` : ''}  ${describe(announcement)}` })),
    ...marks.map((mark) => ({ at: mark.at, text: `--  ${mark.what}` })),
  ].sort((x, y) => x.at - y.at);
  return rows.map((row) => `${offset(row.at, origin).padStart(12)}  ${row.text}`).join('\n');
}

function describe(announcement: Announcement): string {
  const { event } = announcement;
  const parts: string[] = [announcement.eventId];
  if ('previous' in event || 'new' in event) parts.push(`${event.previous} → ${event.new}`);
  if (event.mode !== undefined) parts.push(`mode ${event.mode}`);
  if (event.reason !== undefined) parts.push(`(${event.reason})`);
  if (event.epoch !== undefined) parts.push(`epoch ${event.epoch}`);
  return parts.join(' ');
}

function offset(at: number, origin: number): string {
  const ms = at - origin;
  return `${ms >= 0 ? '+' : ''}${ms.toFixed(3)} ms`;
}

/** What both nodes and the DNS server say now. */
export interface GroupNow {
  readonly states: Record<string, Record<string, any> | null>;
  readonly records: GroupRecordsNow;
}

/** Reads both nodes' GET /state and the records. */
export async function groupNow(cluster: TestCluster): Promise<GroupNow> {
  const [a, b, records] = await Promise.all([cluster.a.state(), cluster.b.state(), cluster.records()]);
  return { states: { a, b }, records };
}

/**
 * Rule (b) at the end: each node's last announced role and DNS connection state are what GET /state says; exactly
 * one node says primary and acts, and the A record and the TXT holder name it, at the epoch both nodes know.
 * Returns the issues, empty when everything agrees.
 */
export function finalStateIssues(cluster: TestCluster, stream: readonly Announcement[], now: GroupNow): string[] {
  const issues: string[] = [];
  const primaries: TestNode[] = [];
  for (const node of [cluster.a, cluster.b]) {
    const state = now.states[node.id];
    if (state == null) {
      issues.push(`${node.id}: GET /state did not answer`);
      continue;
    }
    const run = node.processes.length - 1;
    const own = stream.filter((announcement) => announcement.node === node.id && announcement.run === run);
    const role = only(own, 'NODE_ROLE_CHANGED').at(-1)?.event.new;
    const dns = only(own, 'DNS_CONNECTION_STATE_CHANGED').at(-1)?.event.new;
    if (role !== state.node_role) issues.push(`${node.id}: last announced role ${role}, GET /state says ${state.node_role}`);
    if (dns !== state.node_dns_connection_state) issues.push(`${node.id}: last announced DNS connection state ${dns}, GET /state says ${state.node_dns_connection_state}`);
    if (state.node_role === 'primary') primaries.push(node);
    if (state.acting_primary === true && state.node_role !== 'primary') issues.push(`${node.id}: acting_primary without the primary role`);
  }
  if (primaries.length !== 1) {
    issues.push(`${primaries.length} nodes say primary (${primaries.map((node) => node.id).join(', ') || 'none'})`);
    return issues;
  }
  const primary = primaries[0]!;
  const state = now.states[primary.id]!;
  if (state.acting_primary !== true) issues.push(`${primary.id} says primary but does not act (lease_remaining_ms ${state.lease_remaining_ms})`);
  if (now.records.address !== primary.address) issues.push(`the A record names ${now.records.address}, the primary is ${primary.id} (${primary.address})`);
  if (now.records.heartbeat?.holder !== primary.id) issues.push(`the TXT holder is ${now.records.heartbeat?.holder}, the primary is ${primary.id}`);
  const epochs = new Set([now.states.a?.epoch, now.states.b?.epoch, now.records.heartbeat?.epoch]);
  if (epochs.size !== 1) issues.push(`the epochs disagree: a ${now.states.a?.epoch}, b ${now.states.b?.epoch}, TXT ${now.records.heartbeat?.epoch}`);
  return issues;
}

/**
 * Waits until the final state agrees with the announcements (a group may still be settling when the scenario ends)
 * and returns the issues of the last look: empty when it agreed before the deadline.
 */
export async function settledFinalStateIssues(cluster: TestCluster, deadlineMs: number): Promise<string[]> {
  let last: string[] = [];
  try {
    await waitFor('the final state to agree with the announcements', async () => {
      const now = await groupNow(cluster);
      last = finalStateIssues(cluster, mergedAnnouncements([cluster.a, cluster.b]), now);
      return last.length === 0;
    }, deadlineMs, 20);
  } catch {
    // `last` says what did not agree.
  }
  return last;
}

/**
 * Writes every log line of both nodes (all their processes) to one file under the system temp dir, for a failed
 * scenario, and returns its path. The cluster's own temp dir is removed when it stops; this file stays.
 */
export function saveNodeLogs(cluster: TestCluster, label: string): string {
  const dir = join(tmpdir(), 'ag-announcements-failures');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${label.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 80)}.log`);
  const lines = [cluster.a, cluster.b].flatMap((node) => node.processes.flatMap((process, run) => process.logs.map((line) => ({ node: node.id, run, line }))));
  lines.sort((x, y) => Number(x.line.mono ?? 0) - Number(y.line.mono ?? 0));
  writeFileSync(file, lines.map(({ node, run, line }) => `${node}#${run} ${JSON.stringify(line)}`).join('\n') + '\n');
  return file;
}

/** One look at a node's GET /state during a scenario. */
export interface StateSample {
  readonly node: string;
  /** When the answer arrived, on the machine's monotonic clock. */
  readonly at: number;
  readonly state: Record<string, any> | null;
}

/**
 * Polls GET /state of every node in `nodes` every `intervalMs` (each node on its own loop) until `stop` is called;
 * `stop` resolves with every sample, in order.
 */
export function pollStates(nodes: readonly TestNode[], intervalMs = 20): { stop(): Promise<StateSample[]> } {
  const samples: StateSample[] = [];
  let running = true;
  const loops = nodes.map(async (node) => {
    while (running) {
      const state = await node.state();
      samples.push({ node: node.id, at: machineMonotonicMs(), state });
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return samples.sort((x, y) => x.at - y.at);
    },
  };
}
