/**
 * The fault suite's safety rules (test/chaos/analysis.ts) on made-up records: each rule flags what it must (so a clean
 * run of `npm run chaos` means something) and leaves alone what is legal (a handover, a poll that may have been
 * answered before the other node began, a paused Primary that steps down as it resumes).
 */
import { describe, expect, it } from 'vitest';
import { analyse, type ChaosRecord, type NodeRunLog } from './chaos/analysis.js';
import type { StateSample } from './chaos/checker.js';
import type { Announcement } from './support/announcements.js';

type Line = Record<string, unknown>;

const role = (mono: number, previous: string | null, next: string, step: number, epoch = 1): Line => ({
  level: 30,
  mono,
  time: 0,
  step,
  msg: 'NODE_ROLE_CHANGED',
  event: { eventId: 'NODE_ROLE_CHANGED', previous, new: next, epoch, reason: 'test' },
});
const leaseLost = (mono: number, step: number, epoch = 1): Line => ({ level: 30, mono, time: 0, step, msg: 'LEASE_LOST', event: { eventId: 'LEASE_LOST', reason: 'test', epoch } });
const other = (mono: number, msg = 'something else'): Line => ({ level: 40, mono, time: 0, msg });

/** b took over at epoch 2 (announced at `at`), after starting as Secondary. */
const bTakesOver = (at: number): Line[] => [role(0, null, 'secondary', 1), role(at, 'secondary', 'primary', 9, 2)];

function acting(node: string, sentAt: number, at: number, lease: number): StateSample {
  return { node, run: 0, sentAt, at, state: { node_role: 'primary', acting_primary: true, lease_remaining_ms: lease, epoch: 1, heartbeat_method: null, node_dns_connection_state: 'connected', state: 'primary' } };
}

function record(logs: { a: Line[]; b: Line[] }, extra: Partial<ChaosRecord> = {}): ChaosRecord {
  const runLogs: NodeRunLog[] = [
    { node: 'a', run: 0, lines: logs.a },
    { node: 'b', run: 0, lines: logs.b },
  ];
  const announcements: Announcement[] = runLogs
    .flatMap((log) =>
      log.lines
        .filter((line) => typeof line.event === 'object')
        .map((line) => ({ node: log.node, run: log.run, mono: Number(line.mono), time: 0, eventId: String(line.msg), event: line.event as Record<string, any> })),
    )
    .sort((x, y) => x.mono - y.mono);
  return {
    seed: 1,
    dns: 'embedded',
    timers: { heartbeat: 0.1, check: 0.1, absence: 0.5 },
    startedAt: 0,
    endedAt: 10_000,
    faults: [],
    pauses: [],
    deaths: [],
    samples: [],
    dnsSamples: [],
    exits: [],
    logs: runLogs,
    announcements,
    addresses: { a: '127.0.0.2', b: '127.0.0.3' },
    rssKiB: {},
    notes: [],
    ...extra,
  };
}

const kinds = (chaos: ChaosRecord) => analyse(chaos).violations.map((violation) => violation.kind);

describe('two nodes acting', () => {
  const aPrimary = [role(0, null, 'secondary', 1), role(10, 'secondary', 'primary', 2)];

  it('is flagged when an acting poll of b falls inside the span a was proven to act', () => {
    const chaos = record({ a: aPrimary, b: bTakesOver(200) }, { samples: [acting('a', 100, 101, 300), acting('b', 210, 211, 300)] });
    expect(kinds(chaos)).toContain('two acting');
  });

  it('is not flagged when a gave up its lease (LEASE_LOST, step-down) before b acted', () => {
    const a = [...aPrimary, leaseLost(150, 5), role(150.1, 'primary', 'secondary', 5)];
    const chaos = record({ a, b: bTakesOver(200) }, { samples: [acting('a', 100, 101, 300), acting('b', 210, 211, 300)] });
    expect(kinds(chaos)).not.toContain('two acting');
  });

  it('is not flagged when the overlap is not certain: a slow answer proves acting only until sent + lease', () => {
    // a's poll left at 100 and came back at 150 with 60 ms of lease: proven from 150 to 159.5 only.
    const chaos = record({ a: aPrimary, b: bTakesOver(155) }, { samples: [acting('a', 100, 150, 60), acting('b', 158, 160, 300)] });
    expect(kinds(chaos)).not.toContain('two acting');
  });

  it('is not flagged while the acting node was killed or paused', () => {
    const samples = [acting('a', 100, 101, 300), acting('b', 210, 211, 300)];
    expect(kinds(record({ a: aPrimary, b: bTakesOver(200) }, { samples, deaths: [{ node: 'a', run: 0, at: 120 }] }))).not.toContain('two acting');
    expect(kinds(record({ a: aPrimary, b: bTakesOver(200) }, { samples, pauses: [{ node: 'a', run: 0, from: 120, to: 900 }] }))).not.toContain('two acting');
  });
});

describe('two of three nodes acting (--members 3)', () => {
  const aPrimary = [role(0, null, 'secondary', 1), role(10, 'secondary', 'primary', 2)];
  const cTakesOver = [role(0, null, 'secondary', 1), role(200, 'secondary', 'primary', 9, 2)];
  const three = (samples: StateSample[], a: Line[], c: Line[]) => {
    const base = record({ a, b: [role(0, null, 'secondary', 1)] }, { samples, addresses: { a: '127.0.0.2', b: '127.0.0.3', c: '127.0.0.4' } });
    const logs = [...base.logs, { node: 'c', run: 0, lines: c }];
    const announcements = logs
      .flatMap((log) => log.lines.filter((line) => typeof line.event === 'object').map((line) => ({ node: log.node, run: log.run, mono: Number(line.mono), time: 0, eventId: String(line.msg), event: line.event as Record<string, any> })))
      .sort((x, y) => x.mono - y.mono);
    return { ...base, logs, announcements };
  };

  it('is flagged when c acts inside the span a was proven to act, with b a Secondary throughout', () => {
    const report = analyse(three([acting('a', 100, 101, 300), acting('c', 210, 211, 300)], aPrimary, cTakesOver));
    expect(report.violations.map((violation) => violation.kind)).toContain('two acting');
    expect(report.violations.find((violation) => violation.kind === 'two acting')!.text).toMatch(/^a and c certainly acted/);
    expect(Object.keys(report.provenActingMs)).toEqual(['a', 'b', 'c']);
  });

  it('is not flagged when a gave up its lease before c acted', () => {
    const a = [...aPrimary, leaseLost(150, 5), role(150.1, 'primary', 'secondary', 5)];
    expect(kinds(three([acting('a', 100, 101, 300), acting('c', 210, 211, 300)], a, cTakesOver))).not.toContain('two acting');
  });
});

describe('two nodes announcing primary (tolerance 0)', () => {
  const aPrimary = [role(0, null, 'secondary', 1), role(10, 'secondary', 'primary', 2)];

  it('is flagged when b announces primary before a announced stepping down, by however little', () => {
    expect(kinds(record({ a: [...aPrimary, role(200.001, 'primary', 'secondary', 7)], b: bTakesOver(200) }))).toContain('two announced');
    expect(kinds(record({ a: [...aPrimary, role(199.999, 'primary', 'secondary', 7)], b: bTakesOver(200) }))).not.toContain('two announced');
  });

  it('takes the events of one statechart step as one instant: the tenure ends at the step\'s first event', () => {
    const sameStep = [...aPrimary, leaseLost(199, 7), role(202.7, 'primary', 'secondary', 7)];
    expect(kinds(record({ a: sameStep, b: bTakesOver(200) }))).not.toContain('two announced');
    const twoSteps = [...aPrimary, leaseLost(199, 7), role(202.7, 'primary', 'secondary', 8)];
    expect(kinds(record({ a: twoSteps, b: bTakesOver(200) }))).toContain('two announced');
  });

  it('does not count a paused node until it runs again, and counts it from its first line after SIGCONT', () => {
    const pauses = [{ node: 'a', run: 0, from: 100, to: 600 }];
    const stepsDownFirst = [...aPrimary, leaseLost(605, 9), role(607, 'primary', 'secondary', 9)];
    expect(kinds(record({ a: stepsDownFirst, b: bTakesOver(400) }, { pauses }))).not.toContain('two announced');
    const doesSomethingElseFirst = [...aPrimary, other(603), leaseLost(605, 9), role(607, 'primary', 'secondary', 9)];
    expect(kinds(record({ a: doesSomethingElseFirst, b: bTakesOver(400) }, { pauses }))).toContain('two announced');
  });

  it('ends a killed process\'s tenure at its death', () => {
    expect(kinds(record({ a: aPrimary, b: bTakesOver(400) }, { deaths: [{ node: 'a', run: 0, at: 300 }] }))).not.toContain('two announced');
    expect(kinds(record({ a: aPrimary, b: bTakesOver(400) }))).toContain('two announced');
  });
});

describe('a node that lost its lease says so before its peer acts', () => {
  const aPrimary = [role(0, null, 'secondary', 1), role(10, 'secondary', 'primary', 2)];
  const ruleBreaches = (chaos: ChaosRecord) => kinds(chaos).filter((kind) => kind === 'announcement rule').length;

  it('is flagged when b announces primary after a lost its lease and before a, in a later step, stepped down', () => {
    const a = [...aPrimary, leaseLost(150, 5), role(300, 'primary', 'secondary', 6)];
    expect(ruleBreaches(record({ a, b: bTakesOver(200) }))).toBe(1);
  });

  it('takes the step-down logged in the same step as the LEASE_LOST at the step\'s first line (a process descheduled mid-step)', () => {
    const a = [...aPrimary, leaseLost(150, 5), role(250, 'primary', 'secondary', 5)];
    expect(kinds(record({ a, b: bTakesOver(200) }))).toEqual([]);
  });

  it('ends with the process: a node killed before it logged its step-down is not flagged when its peer acts after the kill', () => {
    const a = [...aPrimary, leaseLost(150, 5)];
    expect(kinds(record({ a, b: bTakesOver(200) }, { deaths: [{ node: 'a', run: 0, at: 170 }] }))).toEqual([]);
    // The same without the kill: a never announced stepping down.
    expect(ruleBreaches(record({ a, b: bTakesOver(200) }))).toBe(1);
  });

  it('counts a LEASE_LOST outside a tenure once (as a broken rule of the chain), not again against a later tenure', () => {
    const a = [...aPrimary, role(100, 'primary', 'secondary', 3), leaseLost(150, 4), role(300, 'secondary', 'primary', 5, 3), role(400, 'primary', 'secondary', 6, 3)];
    expect(ruleBreaches(record({ a, b: bTakesOver(200) }))).toBe(1);
  });
});

describe('chains and crashes', () => {
  it('flags a chain that does not start at null, skips a role or repeats one', () => {
    expect(kinds(record({ a: [role(0, 'secondary', 'primary', 1)], b: [] }))).toContain('broken chain');
    expect(kinds(record({ a: [role(0, null, 'secondary', 1), role(5, 'primary', 'secondary', 2)], b: [] }))).toContain('broken chain');
    expect(kinds(record({ a: [role(0, null, 'secondary', 1), role(5, 'secondary', 'secondary', 2)], b: [] }))).toContain('broken chain');
    expect(kinds(record({ a: [role(0, null, 'secondary', 1), role(5, 'secondary', 'primary', 2), role(9, 'primary', 'secondary', 3)], b: [] }))).toEqual([]);
  });

  it('flags a process that exited without being stopped, not one the suite killed', () => {
    const exit = { node: 'b', run: 0, pid: 42, at: 500, code: 1, last: 'boom' };
    expect(kinds(record({ a: [], b: [] }, { exits: [{ ...exit, expected: false }] }))).toEqual(['crash']);
    expect(kinds(record({ a: [], b: [] }, { exits: [{ ...exit, expected: true }] }))).toEqual([]);
  });
});
