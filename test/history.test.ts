/**
 * A node's history: persisted as JSON lines in data_dir and loaded again, rotated at its bounds, a corrupt line
 * skipped with a warning, two nodes' histories merged; and what the recorder writes for a manual failover in a real
 * (in-memory) group, an abandoned takeover, a maintenance toggle and a failed hook.
 */
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventId, NodeRole } from '../src/api/constants.js';
import type { NodeEventMap } from '../src/api/events.js';
import { describeEntry, historyTable } from '../src/cli/historyCommand.js';
import { mergeHistories } from '../src/cli/mergeHistories.js';
import { historyBody } from '../src/http/historyBody.js';
import type { AvailabilityNode } from '../src/node/createNode.js';
import { HISTORY_FILE, HistoryLog, type HistoryEntry, type NewHistoryEntry } from '../src/node/historyLog.js';
import { HistoryRecorder } from '../src/node/historyRecorder.js';
import { silentLogger } from '../src/api/logger.js';
import { SubscriberRegistry } from '../src/node/subscriptions.js';
import { capturingLogger } from './support/capturingLogger.js';
import { settle } from './support/manualClock.js';
import { TwoNodes } from './support/twoNodes.js';

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ag-history-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
const freshDir = () => join(dir, `node-${++counter}`);

const entry = (epoch: number, time: string, kind = 'lease_lost', nodeId = 'a'): NewHistoryEntry => ({ time, node_id: nodeId, epoch, kind, reason: `r${epoch}` });
const at = (second: number) => `2026-11-29T16:00:${String(second).padStart(2, '0')}.000+00:00`;
const linesOf = async (file: string) => (await readFile(file, 'utf8')).trim().split('\n').filter(Boolean);

describe('history log', () => {
  it('persists entries as JSON lines in data_dir and loads them at the next start, numbering on', async () => {
    const dataDir = freshDir();
    const first = await HistoryLog.open({ dataDir, logger: silentLogger() });
    for (let epoch = 1; epoch <= 3; epoch += 1) await first.append(entry(epoch, at(epoch)));
    expect((await linesOf(join(dataDir, HISTORY_FILE))).map((line) => JSON.parse(line).seq)).toEqual([0, 1, 2]);

    const again = await HistoryLog.open({ dataDir, logger: silentLogger() });
    expect(again.entries()).toEqual(first.entries());
    const next = await again.append(entry(4, at(4)));
    expect(next.seq).toBe(3);
    expect(again.entries().map((each) => each.epoch)).toEqual([1, 2, 3, 4]);
  });

  it('keeps only memory without a data_dir', async () => {
    const log = await HistoryLog.open({ logger: silentLogger() });
    await log.append(entry(1, at(1)));
    expect(log.file).toBeNull();
    expect(log.entries()).toHaveLength(1);
  });

  it('rotates at maxEntries into one older file, and loads both', async () => {
    const dataDir = freshDir();
    const log = await HistoryLog.open({ dataDir, logger: silentLogger(), maxEntries: 3 });
    for (let epoch = 1; epoch <= 8; epoch += 1) await log.append(entry(epoch, at(epoch)));
    const file = join(dataDir, HISTORY_FILE);
    // 1-3 went with the first rotation; 4-6 are the rotated file; 7-8 the current one.
    expect((await linesOf(`${file}.1`)).map((line) => JSON.parse(line).epoch)).toEqual([4, 5, 6]);
    expect((await linesOf(file)).map((line) => JSON.parse(line).epoch)).toEqual([7, 8]);
    expect(log.entries().map((each) => each.epoch)).toEqual([4, 5, 6, 7, 8]);
    const again = await HistoryLog.open({ dataDir, logger: silentLogger(), maxEntries: 3 });
    expect(again.entries().map((each) => each.epoch)).toEqual([4, 5, 6, 7, 8]);
    // Rotation goes on from what was loaded: the current file holds 2, so the next append fills it.
    await again.append(entry(9, at(9)));
    await again.append(entry(10, at(10)));
    expect(again.entries().map((each) => each.epoch)).toEqual([7, 8, 9, 10]);
    expect((await linesOf(file)).map((line) => JSON.parse(line).epoch)).toEqual([10]);
  });

  it('rotates at maxBytes', async () => {
    const dataDir = freshDir();
    const lineBytes = Buffer.byteLength(`${JSON.stringify({ ...entry(1, at(1)), seq: 0 })}\n`);
    const log = await HistoryLog.open({ dataDir, logger: silentLogger(), maxBytes: lineBytes * 2 + 1 });
    for (let epoch = 1; epoch <= 5; epoch += 1) await log.append(entry(epoch, at(epoch)));
    const file = join(dataDir, HISTORY_FILE);
    expect((await linesOf(`${file}.1`)).map((line) => JSON.parse(line).epoch)).toEqual([3, 4]);
    expect((await linesOf(file)).map((line) => JSON.parse(line).epoch)).toEqual([5]);
  });

  it('skips a corrupt line with a warning naming the file and line, and mends a torn last line', async () => {
    const dataDir = freshDir();
    const seed = await HistoryLog.open({ dataDir, logger: silentLogger() });
    await seed.append(entry(1, at(1)));
    const file = join(dataDir, HISTORY_FILE);
    await appendFile(file, 'this is not JSON\n');
    await appendFile(file, `${JSON.stringify({ time: at(2), node_id: 'a', kind: 'lease_lost', seq: 7 })}\n`); // no epoch
    await appendFile(file, `${JSON.stringify({ ...entry(3, at(3)), seq: 8 })}\n`);
    await appendFile(file, '{"time":"2026-11-29T16:00:04.000+00:00","node_id":"a","ep'); // a crash mid-write
    const { logger, lines } = capturingLogger();
    const log = await HistoryLog.open({ dataDir, logger });
    expect(log.entries().map((each) => each.epoch)).toEqual([1, 3]);
    const warnings = lines.filter((line) => line.msg === 'history line skipped: it cannot be read');
    expect(warnings.map((line) => [line.file, line.line])).toEqual([
      [file, 2],
      [file, 3],
      [file, 5],
    ]);
    expect(warnings[1]!.reason).toContain('epoch');
    // The next entry starts a line of its own, numbered after the highest seq read.
    const next = await log.append(entry(5, at(5)));
    expect(next.seq).toBe(9);
    const reread = await HistoryLog.open({ dataDir, logger: silentLogger() });
    expect(reread.entries().map((each) => each.epoch)).toEqual([1, 3, 5]);
  });

  it('starts empty, with a warning, when the file cannot be read', async () => {
    const dataDir = freshDir();
    const { logger, lines } = capturingLogger();
    await (await HistoryLog.open({ dataDir, logger: silentLogger() })).append(entry(1, at(1)));
    await rm(join(dataDir, HISTORY_FILE));
    await import('node:fs/promises').then(({ mkdir }) => mkdir(join(dataDir, HISTORY_FILE)));
    const log = await HistoryLog.open({ dataDir, logger });
    expect(log.entries()).toEqual([]);
    expect(lines.some((line) => line.msg === 'history file cannot be read: starting without its entries')).toBe(true);
  });
});

describe('merging histories', () => {
  const numbered = (list: NewHistoryEntry[]): HistoryEntry[] => list.map((each, seq) => ({ ...each, seq }));

  it('orders by epoch, then time, keeps each node id, and shows an entry given twice once', () => {
    const a = numbered([entry(1, at(1), 'role_changed', 'a'), entry(1, at(10), 'failover', 'a'), entry(1, at(11), 'role_changed', 'a'), entry(2, at(30), 'role_changed', 'a')]);
    // b's clock runs ahead: its epoch-2 takeover is stamped before a's step-down, yet comes after it (epoch first).
    const b = numbered([entry(0, at(2), 'role_changed', 'b'), entry(2, at(9), 'takeover', 'b'), entry(2, at(9), 'role_changed', 'b')]);
    const merged = mergeHistories([a, b, a]);
    expect(merged.map((each) => `${each.node_id}${each.epoch}:${each.kind}`)).toEqual([
      'b0:role_changed',
      'a1:role_changed',
      'a1:failover',
      'a1:role_changed',
      'b2:takeover',
      'b2:role_changed',
      'a2:role_changed',
    ]);
  });

  it('breaks a tie of epoch and time by the order given, then by seq', () => {
    const a = numbered([entry(1, at(5), 'x', 'a'), entry(1, at(5), 'y', 'a')]);
    const b = numbered([entry(1, at(5), 'z', 'b')]);
    expect(mergeHistories([b, a]).map((each) => each.kind)).toEqual(['z', 'x', 'y']);
  });
});

describe('history in the API and the table', () => {
  it('serves the newest `limit` entries, and refuses a bad limit naming it', () => {
    const entries = [0, 1, 2].map((seq) => ({ ...entry(seq, at(seq)), seq }));
    expect(historyBody('a', entries, undefined)).toEqual({ node_id: 'a', entries });
    expect(historyBody('a', entries, '2')).toEqual({ node_id: 'a', entries: entries.slice(1) });
    for (const bad of ['0', '-1', 'x', '1.5', '1000001']) expect(() => historyBody('a', entries, bad)).toThrow(/limit: must be a whole number from 1 to 100000/);
  });

  it('shows each entry in words', () => {
    const base = { time: at(1), node_id: 'b', epoch: 2, seq: 0 };
    expect(describeEntry({ ...base, kind: 'role_changed', previous: 'secondary', new: 'primary', reason: 'manual failover' })).toBe('secondary -> primary (manual failover)');
    expect(describeEntry({ ...base, kind: 'role_changed', previous: null, new: 'secondary', reason: 'node started' })).toBe('(start) -> secondary (node started)');
    expect(describeEntry({ ...base, kind: 'takeover', mode: 'handover', outcome: 'completed', duration_ms: 12 })).toBe('completed, mode handover, 12 ms');
    expect(describeEntry({ ...base, kind: 'takeover', mode: 'absence', outcome: 'abandoned', reason: 'lost the race', duration_ms: 40 })).toBe('abandoned (lost the race), mode absence, 40 ms');
    expect(describeEntry({ ...base, kind: 'failover', phase: 'ended', outcome: 'refused', code: 'not_ready', reason: 'no DNS' })).toBe('refused (not_ready: no DNS)');
    expect(describeEntry({ ...base, kind: 'hook_failed', result: 'timeout', role: 'primary', duration_ms: 30000, exit_code: null, signal: 'SIGTERM', error: null })).toBe('on_role_change for primary: timed out after 30000 ms');
    expect(describeEntry({ ...base, kind: 'maintenance_changed', enabled: true, by: 'a' })).toBe('on (asked on a)');
    const table = historyTable([{ ...base, kind: 'lease_lost', reason: 'lease expired' }]);
    expect(table).toMatch(/^TIME +NODE +EPOCH +EVENT +DETAILS\n2026-11-29 16:00:01\.000 +b +2 +lease_lost +lease expired\n$/);
  });
});

/** A stand-in node: events are published by hand; the recorder only subscribes. */
function fakeNode(): { node: AvailabilityNode; publish<E extends keyof NodeEventMap>(eventId: E, event: Omit<NodeEventMap[E], 'eventId' | 'at'>): void } {
  const registry = new SubscriberRegistry(silentLogger());
  const node = { nodeId: 'b', subscribe: registry.subscribe.bind(registry) } as unknown as AvailabilityNode;
  return {
    node,
    publish: (eventId, event) => registry.publish(eventId, { eventId, at: at(1), ...event } as never),
  };
}

describe('history recorder', () => {
  it('records an abandoned takeover with its mode and duration, a maintenance toggle and a failed hook', async () => {
    const log = await HistoryLog.open({ logger: silentLogger() });
    const { node, publish } = fakeNode();
    let now = 1000;
    const recorder = new HistoryRecorder(node, log, () => now);
    publish(EventId.TAKEOVER_STARTED, { mode: 'absence', epoch: 3 });
    await settle();
    now += 250;
    publish(EventId.TAKEOVER_ABANDONED, { reason: 'lost the race', epoch: 2 });
    publish(EventId.MAINTENANCE_CHANGED, { enabled: true, by: 'a', epoch: 2 });
    await settle();
    recorder.hookRun({ input: { role: NodeRole.SECONDARY, previous: NodeRole.PRIMARY, epoch: 2, group: 'g' }, result: 'failure', exitCode: 4, signal: null, error: null, durationMs: 12.4, stdout: '', stderr: 'boom' });
    recorder.hookRun({ input: { role: NodeRole.SECONDARY, previous: NodeRole.PRIMARY, epoch: 2, group: 'g' }, result: 'success', exitCode: 0, signal: null, error: null, durationMs: 5, stdout: '', stderr: '' });
    await recorder.stop();
    expect(log.entries()).toEqual([
      expect.objectContaining({ kind: 'takeover', node_id: 'b', epoch: 2, mode: 'absence', outcome: 'abandoned', reason: 'lost the race', target_epoch: 3, duration_ms: 250 }),
      expect.objectContaining({ kind: 'maintenance_changed', epoch: 2, enabled: true, by: 'a' }),
      expect.objectContaining({ kind: 'hook_failed', epoch: 2, result: 'failure', role: 'secondary', exit_code: 4, stderr: 'boom', duration_ms: 12 }),
    ]);
  });

  describe('in a group', () => {
    let group: TwoNodes;
    afterEach(async () => {
      await group?.stopAll();
    });

    it('records a manual failover on both nodes: asked and completed, the takeover with its mode, both role changes', async () => {
      const recorders: Partial<Record<'a' | 'b', HistoryRecorder>> = {};
      group = new TwoNodes({ nodes: { a: { ports: { inspect: (event) => recorders.a?.inspect(event) } }, b: { ports: { inspect: (event) => recorders.b?.inspect(event) } } } });
      const logs = { a: await HistoryLog.open({ logger: silentLogger() }), b: await HistoryLog.open({ logger: silentLogger() }) };
      recorders.a = new HistoryRecorder(group.a.node, logs.a, () => group.clock.monotonicNow());
      recorders.b = new HistoryRecorder(group.b.node, logs.b, () => group.clock.monotonicNow());
      await group.formGroup();
      const failover = group.b.node.failover();
      await group.clock.advanceUntil(() => group.b.node.isActingPrimary(), 5_000);
      await failover;
      await settle();
      await recorders.a.stop();
      await recorders.b.stop();

      const onB = logs.b.entries();
      const failovers = onB.filter((each) => each.kind === 'failover');
      expect(failovers).toEqual([expect.objectContaining({ phase: 'asked', epoch: 1 }), expect.objectContaining({ phase: 'ended', outcome: 'completed' })]);
      const takeover = onB.find((each) => each.kind === 'takeover');
      expect(takeover).toMatchObject({ outcome: 'completed', epoch: 2 });
      expect(['handover', 'forced']).toContain(takeover!.mode);
      expect(typeof takeover!.duration_ms).toBe('number');
      expect(onB.filter((each) => each.kind === 'role_changed').map((each) => `${each.previous}->${each.new}`)).toEqual(['null->not_in_group', 'not_in_group->secondary', 'secondary->primary']);
      expect(logs.a.entries().filter((each) => each.kind === 'role_changed').map((each) => `${each.previous}->${each.new}`)).toEqual(['null->not_in_group', 'not_in_group->primary', 'primary->secondary']);
      expect(onB.map((each) => each.seq)).toEqual(onB.map((_, index) => index));

      // Merged: a's step-down (epoch 1) before b's takeover (epoch 2).
      const merged = mergeHistories([logs.a.entries(), logs.b.entries()]).map((each) => `${each.node_id}:${each.kind}:${each.kind === 'role_changed' ? each.new : (each.phase ?? each.outcome ?? '')}`);
      expect(merged.indexOf('a:role_changed:secondary')).toBeLessThan(merged.indexOf('b:role_changed:primary'));
      expect(merged.indexOf('b:failover:asked')).toBeLessThan(merged.indexOf('b:takeover:completed'));
    });
  });
});
