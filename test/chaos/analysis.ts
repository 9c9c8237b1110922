/**
 * The fault suite's analysis: from what the checker recorded (GET /state polls, DNS polls, process exits), what the
 * runner did (faults, pauses, kills) and what the nodes logged (their event streams, on the machine's monotonic
 * clock), the safety violations and the figures, as one table per fault kind. The rules, as printed with the table:
 *
 * - two ACTING: an acting poll of node X, sent at s and answered at r with `lease_remaining_ms` L, proves that X acts
 *   from r (it acted at some instant in [s, r] and its lease never shrinks) until the earliest of s + L − 0.5 ms (the
 *   lease runs at least that long: the node rounds L to whole ms), X's first LEASE_LOST or step-down after s (the
 *   lease given up early, at the first line of the step that announced it), X's kill, or X being paused
 *   (SIGSTOP: a stopped process acts on nothing). An overlap counts only where such a proven span of a overlaps one
 *   of b: both certainly acted at once. Anything less certain (a poll whose span ends before the other's begins) is
 *   not counted.
 * - two ANNOUNCED: from each process's NODE_ROLE_CHANGED events, a tenure runs from its `→ primary` to its next
 *   `primary →` (or the process's death); tolerance 0 on the `mono` clock. The events one statechart step emits are
 *   one instant (nothing can observe the node between them): a tenure starts and ends at the first event line logged
 *   with the same `step`. A paused node counts for nothing from its SIGSTOP until it runs again: its first log line
 *   after SIGCONT (its overdue timers run first), or SIGCONT + A if it logs nothing.
 * - broken chain: per process, NODE_ROLE_CHANGED starts at `previous: null` and each `previous` is the last `new`,
 *   never the same role twice in a row (test/support/announcements.ts `chainIssues`, which also checks the DNS
 *   state chain, where LEASE_LOST may come and that takeovers end; and `stepDownIssues`: a node that lost its lease
 *   says so before its peer acts, a step's events at its first line, a process's death ending it). Both lists count
 *   as violations.
 * - crash: a node process that exited without the suite stopping it.
 */
import { chainIssues, stepDownIssues, timeline, type Announcement } from '../support/announcements.js';
import type { TestTimers } from '../support/processes.js';
import type { DnsSample, ProcessExit, StateSample } from './checker.js';
import { FAULT_KINDS, describePlan, type ChaosCoordination, type FaultKind, type FaultPlan } from './schedule.js';

/** One fault as it ran. All instants on the machine's monotonic clock, ms. */
export interface FaultRecord {
  readonly plan: FaultPlan;
  /** The first action. */
  readonly start: number;
  /** The action that could move the Primary role (the kill, the SIGSTOP, the failover request): failover times count from it. */
  readonly origin: number;
  /** When the last recovery action (restart, SIGCONT, heal, the failover's answer) was done. */
  readonly end: number;
  /** When the group was seen healthy again, null if not by the recovery deadline. */
  readonly recoveredAt: number | null;
  readonly primaryAtStart: string | null;
  readonly secondaryAtStart: string | null;
  /** What it disturbed: node ids, `peer` (the direct path), `dns`, `etcd` (members of the etcd cluster), `operator` (a manual failover). */
  readonly touches: readonly string[];
  readonly marks: readonly { readonly at: number; readonly what: string }[];
  readonly failover?: { readonly node: string; readonly sentAt: number; readonly answeredAt: number; readonly status: number | null; readonly body: unknown };
  readonly notes: readonly string[];
}

/** A SIGSTOP..SIGCONT of a node process, of the DNS server (`node: 'dns'`) or of an etcd member (`node: 'etcd m1'`). */
export interface PauseSpan {
  readonly node: string;
  readonly run: number;
  readonly from: number;
  readonly to: number;
}

/** A node process the suite killed (kill -9) or stopped (SIGTERM: `at` is when it exited). */
export interface Death {
  readonly node: string;
  readonly run: number;
  readonly at: number;
}

export interface NodeRunLog {
  readonly node: string;
  readonly run: number;
  readonly lines: readonly Record<string, unknown>[];
}

/** Everything a run recorded. */
export interface ChaosRecord {
  readonly seed: number;
  /** The group's authority (absent: dns). */
  readonly coordination?: ChaosCoordination;
  /** The authority as the report names it: the DNS server (`embedded`, `bind`), or `etcd`. */
  readonly dns: string;
  /** The fault kinds of the run's schedule, in the table's order (absent: the DNS kinds). */
  readonly kinds?: readonly FaultKind[];
  readonly timers: TestTimers;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly faults: readonly FaultRecord[];
  readonly pauses: readonly PauseSpan[];
  readonly deaths: readonly Death[];
  readonly samples: readonly StateSample[];
  /** The polls of the address the authority names (the A record; with etcd, the address key). */
  readonly dnsSamples: readonly DnsSample[];
  readonly exits: readonly ProcessExit[];
  readonly logs: readonly NodeRunLog[];
  readonly announcements: readonly Announcement[];
  readonly addresses: Readonly<Record<string, string>>;
  /** RSS in KiB at the end, per node (and `dns` for the embedded server). */
  readonly rssKiB: Readonly<Record<string, number | null>>;
  /** Other things the runner noticed (a node that did not start, the DNS server gone). */
  readonly notes: readonly string[];
}

export type ViolationKind = 'two acting' | 'two announced' | 'broken chain' | 'announcement rule' | 'crash';

export interface Violation {
  readonly kind: ViolationKind;
  readonly at: number;
  readonly text: string;
}

export interface KindRow {
  readonly kind: string;
  readonly injected: number;
  readonly twoActing: number;
  readonly twoAnnounced: number;
  readonly brokenChains: number;
  readonly otherRules: number;
  readonly absenceTakeovers: number;
  readonly healthyTakeovers: number;
  readonly crashes: number;
  readonly errorLines: number;
  readonly notRecovered: number;
  readonly failoverTimes: readonly number[];
}

export interface ChaosReport {
  readonly rows: readonly KindRow[];
  readonly violations: readonly Violation[];
  /** From the end of the last fault to a converged group that stayed so to the end; null if it never did. */
  readonly convergenceMs: number | null;
  readonly quietFrom: number | null;
  readonly healthyTakeovers: readonly string[];
  readonly errorLines: readonly string[];
  readonly kindsInjected: readonly FaultKind[];
  /** How long each node was proven to act (the union of its proven acting spans), ms: what the two-acting rule had to work with. */
  readonly provenActingMs: Readonly<Record<string, number>>;
}

const isEventLine = (line: Record<string, unknown>) => {
  const event = line.event as Record<string, unknown> | undefined;
  return typeof event === 'object' && event !== null && typeof event.eventId === 'string' && line.msg === event.eventId;
};
const mono = (line: Record<string, unknown>) => Number(line.mono);

/**
 * The mono of the first event line of the statechart step that logged the event line at `index`: a node logs every
 * event with the number of the step that emitted it (`step`, src/node/createNode.ts), and a step's events are logged
 * one after the other in one synchronous run, so nothing can observe the node between them.
 */
function stepStart(lines: readonly Record<string, unknown>[], index: number): number {
  const step = lines[index]!.step;
  let i = index;
  if (typeof step === 'number') while (i > 0 && isEventLine(lines[i - 1]!) && lines[i - 1]!.step === step) i -= 1;
  return mono(lines[i]!);
}

interface Span {
  readonly from: number;
  readonly to: number;
  readonly what: string;
}

/** Where spans of `x` and spans of `y` overlap (strictly), with what made each. */
function overlaps(x: readonly Span[], y: readonly Span[]): { from: number; to: number; x: Span; y: Span }[] {
  const xs = [...x].sort((p, q) => p.from - q.from);
  const ys = [...y].sort((p, q) => p.from - q.from);
  const found: { from: number; to: number; x: Span; y: Span }[] = [];
  let j0 = 0;
  for (const a of xs) {
    while (j0 < ys.length && ys[j0]!.to <= a.from) j0++;
    for (let j = j0; j < ys.length && ys[j]!.from < a.to; j++) {
      const b = ys[j]!;
      const from = Math.max(a.from, b.from);
      const to = Math.min(a.to, b.to);
      if (from < to) found.push({ from, to, x: a, y: b });
    }
  }
  return found;
}

/** Joins overlapping findings into intervals, keeping the first finding's description. */
function joinFindings(found: readonly { from: number; to: number; x: Span; y: Span }[]): { from: number; to: number; x: Span; y: Span }[] {
  const sorted = [...found].sort((p, q) => p.from - q.from);
  const joined: { from: number; to: number; x: Span; y: Span }[] = [];
  for (const item of sorted) {
    const last = joined.at(-1);
    if (last !== undefined && item.from <= last.to) joined[joined.length - 1] = { ...last, to: Math.max(last.to, item.to) };
    else joined.push({ ...item });
  }
  return joined;
}

/** When each node stopped acting or announcing for good in a run: its kill, or its unexpected exit. */
function deathOf(record: ChaosRecord, node: string, run: number): number {
  const killed = record.deaths.find((death) => death.node === node && death.run === run)?.at;
  const exited = record.exits.find((exit) => exit.node === node && exit.run === run)?.at;
  const candidates = [killed, exited].filter((at): at is number => at !== undefined);
  return candidates.length === 0 ? Infinity : Math.min(...candidates);
}

/** Proven acting spans of `node` (see the file comment). */
function actingSpans(record: ChaosRecord, node: string): Span[] {
  const stepDowns: number[] = [];
  for (const log of record.logs.filter((entry) => entry.node === node)) {
    log.lines.forEach((line, index) => {
      if (!isEventLine(line)) return;
      const event = line.event as Record<string, unknown>;
      if (line.msg === 'LEASE_LOST' || (line.msg === 'NODE_ROLE_CHANGED' && event.previous === 'primary')) stepDowns.push(stepStart(log.lines, index));
    });
  }
  stepDowns.sort((p, q) => p - q);
  const pauseStarts = record.pauses.filter((pause) => pause.node === node).map((pause) => pause.from).sort((p, q) => p - q);
  const deaths = [...record.deaths.filter((death) => death.node === node).map((death) => death.at), ...record.exits.filter((exit) => exit.node === node && !exit.expected).map((exit) => exit.at)].sort((p, q) => p - q);
  const firstAfter = (sorted: readonly number[], at: number) => sorted.find((value) => value > at) ?? Infinity;
  const spans: Span[] = [];
  for (const sample of record.samples) {
    if (sample.node !== node || sample.state?.acting_primary !== true || sample.state.lease_remaining_ms === null) continue;
    const leaseEnd = sample.sentAt + sample.state.lease_remaining_ms - 0.5;
    const to = Math.min(leaseEnd, firstAfter(stepDowns, sample.sentAt), firstAfter(pauseStarts, sample.sentAt), firstAfter(deaths, sample.sentAt));
    if (to > sample.at) {
      spans.push({ from: sample.at, to, what: `${node}: poll sent ${fmt(sample.sentAt, record.startedAt)}, answered ${fmt(sample.at, record.startedAt)}: acting, epoch ${sample.state.epoch}, lease_remaining_ms ${sample.state.lease_remaining_ms}` });
    }
  }
  return spans;
}

/** Announced primary tenures of `node`, less the times it was paused. */
function tenureSpans(record: ChaosRecord, node: string): Span[] {
  const absenceMs = record.timers.absence * 1000;
  const spans: Span[] = [];
  for (const log of record.logs.filter((entry) => entry.node === node)) {
    const raw: Span[] = [];
    let open: { from: number; epoch: unknown } | null = null;
    log.lines.forEach((line, index) => {
      if (!isEventLine(line) || line.msg !== 'NODE_ROLE_CHANGED') return;
      const event = line.event as Record<string, unknown>;
      if (event.new === 'primary' && open === null) open = { from: stepStart(log.lines, index), epoch: event.epoch };
      else if (event.previous === 'primary' && open !== null) {
        raw.push({ from: open.from, to: stepStart(log.lines, index), what: `${node}#${log.run} announced primary (epoch ${String(open.epoch)})` });
        open = null;
      }
    });
    if (open !== null) {
      const lastLine = log.lines.length === 0 ? -Infinity : mono(log.lines.at(-1)!);
      const death = deathOf(record, node, log.run);
      const to = death === Infinity ? record.endedAt : Math.max(death, lastLine);
      raw.push({ from: (open as { from: number }).from, to, what: `${node}#${log.run} announced primary (epoch ${String((open as { epoch: unknown }).epoch)}) until ${death === Infinity ? 'the end' : 'its process died'}` });
    }
    // Cut out the paused times: SIGSTOP until the first line after SIGCONT (at most SIGCONT + A).
    const suspensions = record.pauses
      .filter((pause) => pause.node === node && pause.run === log.run)
      .map((pause) => {
        const firstLine = log.lines.find((line) => mono(line) > pause.to);
        return { from: pause.from, to: Math.min(firstLine === undefined ? Infinity : mono(firstLine), pause.to + absenceMs) };
      });
    for (const span of raw) spans.push(...subtract(span, suspensions));
  }
  return spans;
}

function unionLength(spans: readonly Span[]): number {
  let total = 0;
  let reach = -Infinity;
  for (const span of [...spans].sort((p, q) => p.from - q.from)) {
    const from = Math.max(span.from, reach);
    if (span.to > from) total += span.to - from;
    reach = Math.max(reach, span.to);
  }
  return total;
}

function subtract(span: Span, holes: readonly { from: number; to: number }[]): Span[] {
  let pieces: Span[] = [span];
  for (const hole of holes) {
    pieces = pieces.flatMap((piece) => {
      if (hole.to <= piece.from || hole.from >= piece.to) return [piece];
      const left = hole.from > piece.from ? [{ ...piece, to: hole.from }] : [];
      const right = hole.to < piece.to ? [{ ...piece, from: hole.to }] : [];
      return [...left, ...right];
    });
  }
  return pieces;
}

/** The nearest-rank quantile of `values`. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function fmt(at: number, origin: number): string {
  return `+${((at - origin) / 1000).toFixed(3)} s`;
}

/** The fault whose window (its start to the next fault's start) holds `at`; -1 before the first fault. */
function faultAt(record: ChaosRecord, at: number): number {
  let found = -1;
  for (let i = 0; i < record.faults.length; i++) if (record.faults[i]!.start <= at) found = i;
  return found;
}

/** The A record's address at `at`: the newest answered DNS sample before it. */
function addressAt(record: ChaosRecord, at: number): string | null {
  let found: string | null = null;
  for (const sample of record.dnsSamples) {
    if (sample.at > at) break;
    if (sample.address !== null) found = sample.address;
  }
  return found;
}

/** The node ids of a run, in order: the keys of its addresses (a, b; and c ... with more members). */
function nodeIds(record: ChaosRecord): string[] {
  return Object.keys(record.addresses).sort();
}

export function analyse(record: ChaosRecord): ChaosReport {
  const origin = record.startedAt;
  const violations: Violation[] = [];
  const byFault = new Map<number, { twoActing: number; twoAnnounced: number; brokenChains: number; otherRules: number; absenceTakeovers: number; healthyTakeovers: number; crashes: number; errorLines: number; failoverTimes: number[] }>();
  const bucket = (at: number) => {
    const index = faultAt(record, at);
    let entry = byFault.get(index);
    if (entry === undefined) {
      entry = { twoActing: 0, twoAnnounced: 0, brokenChains: 0, otherRules: 0, absenceTakeovers: 0, healthyTakeovers: 0, crashes: 0, errorLines: 0, failoverTimes: [] };
      byFault.set(index, entry);
    }
    return entry;
  };

  // Two acting: over every pair of nodes (two of two, or two of N with more members).
  const ids = nodeIds(record);
  const pairs = ids.flatMap((x, i) => ids.slice(i + 1).map((y) => [x, y] as const));
  const both = (x: string, y: string) => (ids.length === 2 ? 'both nodes' : `${x} and ${y}`);
  const acting = Object.fromEntries(ids.map((id) => [id, actingSpans(record, id)]));
  const provenActingMs = Object.fromEntries(ids.map((id) => [id, unionLength(acting[id]!)]));
  for (const [x, y] of pairs) {
    for (const found of joinFindings(overlaps(acting[x]!, acting[y]!))) {
      bucket(found.from).twoActing += 1;
      violations.push({ kind: 'two acting', at: found.from, text: `${both(x, y)} certainly acted as Primary from ${fmt(found.from, origin)} for ${(found.to - found.from).toFixed(3)} ms: ${found.x.what}; ${found.y.what}` });
    }
  }
  // Two announced.
  const tenures = Object.fromEntries(ids.map((id) => [id, tenureSpans(record, id)]));
  for (const [x, y] of pairs) {
    for (const found of joinFindings(overlaps(tenures[x]!, tenures[y]!))) {
      bucket(found.from).twoAnnounced += 1;
      violations.push({ kind: 'two announced', at: found.from, text: `${both(x, y)} announced primary from ${fmt(found.from, origin)} for ${(found.to - found.from).toFixed(3)} ms: ${found.x.what}; ${found.y.what}` });
    }
  }
  // Chains and the other announcement rules (their messages carry the instant as "+x ms" from `origin`).
  const stream = record.announcements;
  const instantOf = (text: string) => {
    const match = /at \+?(-?[\d.]+) ms/.exec(text);
    return match === null ? origin : origin + Number(match[1]);
  };
  for (const issue of chainIssues(stream, origin)) {
    const at = instantOf(issue);
    const roleChain = issue.includes('NODE_ROLE_CHANGED');
    if (roleChain) bucket(at).brokenChains += 1;
    else bucket(at).otherRules += 1;
    violations.push({ kind: roleChain ? 'broken chain' : 'announcement rule', at, text: issue });
  }
  // Rule (a) with the instants the two-announced rule uses: a step's events at its first line, a process's death
  // ending what it announced (a node killed in the middle of a step never logs the rest of it).
  const stepped = record.logs
    .flatMap((log) =>
      log.lines.flatMap((line, index): Announcement[] =>
        isEventLine(line) ? [{ node: log.node, run: log.run, mono: stepStart(log.lines, index), time: Number(line.time), eventId: String(line.msg), event: line.event as Record<string, any> }] : [],
      ),
    )
    .sort((x, y) => x.mono - y.mono);
  for (const issue of stepDownIssues(stepped, origin, (node, run) => deathOf(record, node, run))) {
    const at = instantOf(issue);
    bucket(at).otherRules += 1;
    violations.push({ kind: 'announcement rule', at, text: issue });
  }
  // Crashes.
  for (const exit of record.exits.filter((entry) => !entry.expected)) {
    bucket(exit.at).crashes += 1;
    violations.push({ kind: 'crash', at: exit.at, text: `${exit.node}#${exit.run} (pid ${exit.pid}) exited with ${exit.code} at ${fmt(exit.at, origin)} without being stopped:\n${exit.last}` });
  }
  // Error-level lines.
  const errorLines: string[] = [];
  for (const log of record.logs) {
    for (const line of log.lines) {
      if (typeof line.level === 'number' && line.level >= 50) {
        bucket(mono(line)).errorLines += 1;
        errorLines.push(`${log.node}#${log.run} ${fmt(mono(line), origin)} ${JSON.stringify(line)}`);
      }
    }
  }

  // Takeovers for absence, and those while the Primary was healthy.
  const absenceMs = record.timers.absence * 1000;
  const healthyTakeovers: string[] = [];
  for (const takeover of stream.filter((announcement) => announcement.eventId === 'TAKEOVER_STARTED' && announcement.event.mode === 'absence')) {
    bucket(takeover.mono).absenceTakeovers += 1;
    const from = takeover.mono - absenceMs;
    // The other node that acted at every poll of the failover period before the takeover (of two, the other one).
    const pollsOf = (node: string) => record.samples.filter((sample) => sample.node === node && sample.at >= from && sample.sentAt <= takeover.mono);
    const other = ids.find((id) => id !== takeover.node && pollsOf(id).length > 0 && pollsOf(id).every((sample) => sample.state?.acting_primary === true));
    if (other === undefined) continue;
    const disturbed = record.faults.some((fault) => fault.start <= takeover.mono && fault.end >= from && fault.touches.some((what) => what === other || what === 'peer' || what === 'dns' || what === 'etcd' || what === 'operator'));
    if (disturbed) continue;
    const polls = pollsOf(other);
    bucket(takeover.mono).healthyTakeovers += 1;
    healthyTakeovers.push(`${takeover.node} started a takeover for absence (epoch ${takeover.event.epoch}) at ${fmt(takeover.mono, origin)} while ${other} acted at all ${polls.length} polls of the failover period before it and no fault touched ${other}, the peer path or the authority`);
  }

  // Failover times: from the fault's origin to the first DNS answer naming another node, within its window.
  record.faults.forEach((fault, index) => {
    const until = record.faults[index + 1]?.start ?? record.endedAt;
    const before = addressAt(record, fault.origin);
    if (before === null) return;
    const changed = record.dnsSamples.find((sample) => sample.sentAt >= fault.origin && sample.at < until && sample.address !== null && sample.address !== before);
    if (changed !== undefined) bucket(fault.start).failoverTimes.push(changed.at - fault.origin);
  });

  // Convergence after the last fault.
  const last = record.faults.at(-1);
  const quietFrom = last?.end ?? null;
  let convergenceMs: number | null = null;
  if (quietFrom !== null) {
    type Item = { at: number; source: string; state?: StateSample['state']; address?: string | null };
    const items: Item[] = [
      ...record.samples.filter((sample) => sample.at >= quietFrom).map((sample) => ({ at: sample.at, source: sample.node, state: sample.state })),
      ...record.dnsSamples.filter((sample) => sample.at >= quietFrom).map((sample) => ({ at: sample.at, source: 'dns', address: sample.address })),
    ].sort((p, q) => p.at - q.at);
    const now = new Map<string, StateSample['state']>();
    let dns: string | null | undefined;
    let since: number | null = null;
    for (const item of items) {
      if (item.source === 'dns') dns = item.address ?? null;
      else now.set(item.source, item.state ?? null);
      let good = false;
      const states = ids.map((id) => now.get(id));
      if (states.every((state) => state !== undefined && state !== null)) {
        const acting = ids.filter((id) => now.get(id)!.acting_primary);
        if (acting.length === 1) {
          const primary = now.get(acting[0]!)!;
          const secondaries = ids.filter((id) => id !== acting[0]).map((id) => now.get(id)!);
          good = secondaries.every((secondary) => secondary.node_role === 'secondary' && secondary.heartbeat_method === 'direct' && secondary.epoch === primary.epoch) && dns === record.addresses[acting[0]!];
        }
      }
      if (good && since === null) since = item.at;
      if (!good) since = null;
    }
    convergenceMs = since === null ? null : since - quietFrom;
  }

  // The table.
  const rows: KindRow[] = [];
  const runKinds = record.kinds ?? FAULT_KINDS;
  const kinds: string[] = [...(byFault.has(-1) ? ['(formation)'] : []), ...runKinds];
  for (const kind of kinds) {
    const indexes = kind === '(formation)' ? [-1] : record.faults.flatMap((fault, index) => (fault.plan.kind === kind ? [index] : []));
    const entries = indexes.map((index) => byFault.get(index)).filter((entry) => entry !== undefined);
    const sum = (key: 'twoActing' | 'twoAnnounced' | 'brokenChains' | 'otherRules' | 'absenceTakeovers' | 'healthyTakeovers' | 'crashes' | 'errorLines') => entries.reduce((total, entry) => total + entry[key], 0);
    rows.push({
      kind,
      injected: kind === '(formation)' ? 0 : indexes.length,
      twoActing: sum('twoActing'),
      twoAnnounced: sum('twoAnnounced'),
      brokenChains: sum('brokenChains'),
      otherRules: sum('otherRules'),
      absenceTakeovers: sum('absenceTakeovers'),
      healthyTakeovers: sum('healthyTakeovers'),
      crashes: sum('crashes'),
      errorLines: sum('errorLines'),
      notRecovered: kind === '(formation)' ? 0 : indexes.filter((index) => record.faults[index]!.recoveredAt === null).length,
      failoverTimes: entries.flatMap((entry) => entry.failoverTimes),
    });
  }
  const kindsInjected = runKinds.filter((kind) => record.faults.some((fault) => fault.plan.kind === kind));
  return { rows, violations: violations.sort((p, q) => p.at - q.at), convergenceMs, quietFrom, healthyTakeovers, errorLines, kindsInjected, provenActingMs };
}

function table(header: readonly string[], body: readonly (readonly string[])[], rightAligned: ReadonlySet<number>): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...body.map((line) => line[column]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, column) => (rightAligned.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join('\n');
}

const msText = (value: number) => (Number.isNaN(value) ? '-' : `${Math.round(value)}`);

/** The report as text: the table per fault kind, the figures under it, the rules, and the violations. */
export function formatReport(record: ChaosRecord, report: ChaosReport): string {
  const etcd = record.coordination === 'etcd';
  const ids = nodeIds(record);
  /** Where the address the analysis follows lives: the A record, or the etcd address key. */
  const where = etcd ? 'etcd' : 'DNS';
  const header = ['fault kind', 'n', '2 acting', '2 announced', 'chain', 'other rules', 'crashes', 'error lines', 'absence takeovers', 'healthy takeovers', `${where} changes`, 'failover ms median', 'p90', 'max', 'not recovered'];
  const row = (r: KindRow) => [
    r.kind,
    String(r.injected),
    String(r.twoActing),
    String(r.twoAnnounced),
    String(r.brokenChains),
    String(r.otherRules),
    String(r.crashes),
    String(r.errorLines),
    String(r.absenceTakeovers),
    String(r.healthyTakeovers),
    String(r.failoverTimes.length),
    msText(quantile(r.failoverTimes, 0.5)),
    msText(quantile(r.failoverTimes, 0.9)),
    msText(r.failoverTimes.length === 0 ? Number.NaN : Math.max(...r.failoverTimes)),
    String(r.notRecovered),
  ];
  const all = report.rows.reduce<KindRow>(
    (total, r) => ({
      kind: 'all',
      injected: total.injected + r.injected,
      twoActing: total.twoActing + r.twoActing,
      twoAnnounced: total.twoAnnounced + r.twoAnnounced,
      brokenChains: total.brokenChains + r.brokenChains,
      otherRules: total.otherRules + r.otherRules,
      absenceTakeovers: total.absenceTakeovers + r.absenceTakeovers,
      healthyTakeovers: total.healthyTakeovers + r.healthyTakeovers,
      crashes: total.crashes + r.crashes,
      errorLines: total.errorLines + r.errorLines,
      notRecovered: total.notRecovered + r.notRecovered,
      failoverTimes: [...total.failoverTimes, ...r.failoverTimes],
    }),
    { kind: 'all', injected: 0, twoActing: 0, twoAnnounced: 0, brokenChains: 0, otherRules: 0, absenceTakeovers: 0, healthyTakeovers: 0, crashes: 0, errorLines: 0, notRecovered: 0, failoverTimes: [] },
  );
  const { timers } = record;
  const wallS = (record.endedAt - record.startedAt) / 1000;
  const kib = (value: number | null | undefined) => (value === null || value === undefined ? 'gone' : `${(value / 1024).toFixed(1)} MiB`);
  const polls = (node: string) => record.samples.filter((sample) => sample.node === node);
  const answered = (node: string) => polls(node).filter((sample) => sample.state !== null).length;
  const lines = [
    `Fault suite: ${etcd ? 'etcd (no DNS server)' : `DNS ${record.dns}`}, timers ${timers.heartbeat}/${timers.check}/${timers.absence} s (heartbeat/check/failover period A), seed ${record.seed}, ${wallS.toFixed(0)} s, ${record.faults.length} faults`,
    `nodes: ${ids.length}; polls: ${ids.map((id) => `${id} ${polls(id).length} (${answered(id)} answered)`).join(', ')}, ${where} ${record.dnsSamples.length} (${record.dnsSamples.filter((sample) => sample.address !== null).length} answered); events logged: ${record.announcements.length}`,
    '',
    table(header, [...report.rows.map(row), row(all)], new Set(header.map((_, index) => index).filter((index) => index > 0))),
    '',
    `converged after the last fault: ${report.convergenceMs === null ? (report.quietFrom === null ? 'no fault ran' : 'NOT converged by the end') : `${Math.round(report.convergenceMs)} ms`} (one acting Primary, ${etcd ? 'the etcd address key' : 'DNS'} names it, every other node a Secondary with direct heartbeats at its epoch, to the end)`,
    `manual failovers: ${failoverAnswers(record)}`,
    `failovers (${where} address changes): ${all.failoverTimes.length}, median ${msText(quantile(all.failoverTimes, 0.5))} ms, p90 ${msText(quantile(all.failoverTimes, 0.9))} ms, max ${msText(all.failoverTimes.length === 0 ? Number.NaN : Math.max(...all.failoverTimes))} ms`,
    `proven acting time (what the 2-acting rule had to work with): ${ids.map((id) => `${id} ${((report.provenActingMs[id] ?? 0) / 1000).toFixed(1)} s`).join(', ')}, of ${wallS.toFixed(0)} s`,
    `memory (RSS) at the end: ${ids.map((id) => `${id} ${kib(record.rssKiB[id])}`).join(', ')}${'dns' in record.rssKiB ? `, embedded DNS server ${kib(record.rssKiB.dns)}` : ''}${Object.keys(record.rssKiB)
      .filter((key) => key.startsWith('etcd '))
      .map((key) => `, ${key} ${kib(record.rssKiB[key])}`)
      .join('')}`,
    `safety violations: ${report.violations.length}`,
    '',
    'How to read it: a row per fault kind; each count belongs to the fault in whose window (its start to the next fault\'s start) it happened.',
    '  2 acting: two nodes certainly acted as Primary at once (every pair is checked). An acting poll (sent at s, answered at r, lease_remaining_ms L) proves acting',
    '    from r until the earliest of s + L - 0.5 ms, the node\'s next LEASE_LOST or step-down, its kill or SIGSTOP; only overlaps of such',
    '    proven spans count, so a poll that might have been answered before the other node began does not.',
    '  2 announced: two nodes\' NODE_ROLE_CHANGED tenures as primary overlap on the shared mono clock, tolerance 0 (the events of one',
    '    statechart step, logged with the same step number, are one instant; a paused node counts again from its first log line after',
    '    SIGCONT, at most A after it).',
    '  chain: a NODE_ROLE_CHANGED whose previous is not the last new (null first after each start), or that repeats a role.',
    '  other rules: the rest of test/support/announcements.ts (DNS state chain, LEASE_LOST placement, takeovers that end, step-down before the peer acts).',
    '  crashes: node processes that exited without the suite stopping them. error lines: log lines at level error or fatal.',
    '  absence takeovers: TAKEOVER_STARTED mode absence; healthy: the other node acted at every poll of the failover period before it and',
    `    no fault touched it, the peer path or ${where} in that period (a false failover).`,
    `  ${where} changes / failover ms: faults after which ${etcd ? 'the etcd address key' : 'the A record'} named the other node, and the time from the fault's action (the kill,`,
    `    the SIGSTOP, the failover request) to the first ${etcd ? 'linearizable read' : 'DNS answer'} naming it (polled every 10 ms).`,
    '  not recovered: faults after which the group was not healthy again by the recovery deadline (liveness, not safety).',
  ];
  if (report.healthyTakeovers.length > 0) lines.push('', 'Takeovers while the Primary was healthy:', ...report.healthyTakeovers.map((text) => `  ${text}`));
  if (report.errorLines.length > 0) lines.push('', `Error-level log lines (${report.errorLines.length}, first 10):`, ...report.errorLines.slice(0, 10).map((text) => `  ${text.slice(0, 400)}`));
  if (record.notes.length > 0) lines.push('', 'Notes:', ...record.notes.map((text) => `  ${text}`));
  const notRecovered = record.faults.filter((fault) => fault.recoveredAt === null);
  if (notRecovered.length > 0) lines.push('', 'Faults the group did not recover from by the deadline:', ...notRecovered.map((fault) => `  #${fault.plan.index} at ${fmt(fault.start, record.startedAt)}: ${describePlan(fault.plan)}`));
  return lines.join('\n');
}

/** The answers to the manual failovers, per kind: `failover: 200 ×3, 409 ×1`. */
function failoverAnswers(record: ChaosRecord): string {
  const parts: string[] = [];
  for (const kind of ['failover', 'failover-during-fault'] as const) {
    const counts = new Map<string, number>();
    for (const fault of record.faults) {
      if (fault.plan.kind !== kind || fault.failover === undefined) continue;
      const key = `${fault.failover.status ?? 'no answer'}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    if (counts.size > 0) parts.push(`${kind}: ${[...counts].sort().map(([status, n]) => `${status} ×${n}`).join(', ')}`);
  }
  return parts.length === 0 ? 'none' : parts.join('; ');
}

/** The violations with the seed and an excerpt of the timeline and of both nodes' logs around each (at most `limit`). */
export function formatViolations(record: ChaosRecord, report: ChaosReport, limit = 5): string {
  if (report.violations.length === 0) return '';
  const marks = record.faults.flatMap((fault) => fault.marks.map((mark) => ({ at: mark.at, what: `#${fault.plan.index} ${mark.what}` })));
  const parts = [`SAFETY VIOLATIONS: ${report.violations.length} (seed ${record.seed}; replay the schedule: npm run chaos -- --seed ${record.seed} ${record.coordination === 'etcd' ? `--coordination etcd${nodeIds(record).length > 2 ? ` --members ${nodeIds(record).length}` : ''}` : `--dns ${record.dns}`} --timings ${record.timers.heartbeat}/${record.timers.check}/${record.timers.absence})`];
  for (const violation of report.violations.slice(0, limit)) {
    const fault = faultAt(record, violation.at);
    const from = violation.at - 3000;
    const to = violation.at + 1000;
    const stream = record.announcements.filter((announcement) => announcement.mono >= from && announcement.mono <= to);
    const rawLines = record.logs
      .flatMap((log) => log.lines.filter((line) => mono(line) >= violation.at - 500 && mono(line) <= violation.at + 300).map((line) => ({ at: mono(line), text: `${log.node}#${log.run} ${JSON.stringify(line).slice(0, 300)}` })))
      .sort((p, q) => p.at - q.at);
    parts.push(
      '',
      `[${violation.kind}] ${violation.text}`,
      `during fault ${fault < 0 ? '(formation)' : `#${fault} ${describePlan(record.faults[fault]!.plan)}`}`,
      `timeline (ms from the violation):`,
      timeline(stream, violation.at, marks.filter((mark) => mark.at >= from && mark.at <= to)),
      `log lines of both nodes around it:`,
      ...rawLines.map((line) => `  ${(line.at - violation.at).toFixed(3).padStart(10)}  ${line.text}`),
    );
  }
  if (report.violations.length > limit) parts.push('', `... and ${report.violations.length - limit} more (all logs are saved)`);
  return parts.join('\n');
}
