/**
 * The node event log (recording, the ring bound, the file, following a node across a restart) and the replay
 * reader (simulator traces, node logs, and clear errors for anything else).
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNode } from '../src/node/createNode.js';
import { inMemoryPorts } from '../src/node/inMemoryPorts.js';
import { silentLogger } from '../src/api/logger.js';
import { ATTACHED_EVENT, NodeEventLog } from '../src/http/inspector/nodeEventLog.js';
import { readReplayTrace, TraceFormatError } from '../src/http/inspector/replayTrace.js';
import { FAST_GROUP, waitFor } from './support/inspector.js';

function soloNode(log?: NodeEventLog) {
  return createNode({ node_id: 'solo', external_ipv4_address: '127.0.0.6', ...FAST_GROUP }, { ...inMemoryPorts(), logger: silentLogger(), ...(log ? { inspect: log.inspect } : {}) });
}

describe('NodeEventLog', () => {
  it('records each change of state with its event, and only changes', async () => {
    const log = new NodeEventLog();
    const node = soloNode(log);
    await node.start();
    await node.createGroup();
    // A heartbeat round: the first heartbeat confirmed (a round changes no state, so the log holds none of it).
    await waitFor('a heartbeat round', () => node.getNodeState().lastHeartbeatTime !== null);
    await node.stop({ handOver: false });
    const entries = log.entries();
    expect(entries.slice(0, 3).map((entry) => [entry.from, entry.state, entry.eventLabel])).toEqual([
      [null, 'notInGroup', 'xstate.init'],
      ['notInGroup', 'creatingGroup', 'CREATE_GROUP'],
      ['creatingGroup', 'primary{authority.acting,lease.valid,pacing.waiting}', 'done: createGroupRecords'],
    ]);
    for (let i = 1; i < entries.length; i += 1) {
      expect(entries[i]!.from).toBe(entries[i - 1]!.state);
      expect(entries[i]!.state).not.toBe(entries[i]!.from);
      expect(entries[i]!.t).toBeGreaterThanOrEqual(entries[i - 1]!.t);
    }
    expect(entries[2]).toMatchObject({ node: 'solo', role: 'primary', epoch: 1, dnsConnection: 'connected' });
  });

  it('keeps at most its capacity, oldest dropped first', async () => {
    const log = new NodeEventLog({ capacity: 5 });
    const node = soloNode(log);
    await node.start();
    // Each group created and left is four changes (creatingGroup, primary, dissolvingGroup, notInGroup); a healthy
    // Primary's heartbeat rounds change no state.
    for (let round = 0; round < 3; round += 1) {
      await node.createGroup();
      await node.leaveGroup();
    }
    expect(log.dropped).toBeGreaterThan(3);
    await node.stop({ handOver: false });
    expect(log.entries()).toHaveLength(5);
    expect(log.entries()[0]!.from).not.toBeNull();
  });

  it('writes itself to a file and appends each new entry', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'ag-log-')), 'node.jsonl');
    const log = new NodeEventLog();
    const node = soloNode(log);
    await node.start();
    const stopWriting = await log.writeTo(file);
    await node.createGroup();
    await node.leaveGroup();
    expect(log.entries().length).toBeGreaterThanOrEqual(4);
    await node.stop({ handOver: false });
    await stopWriting();
    const trace = readReplayTrace(await readFile(file, 'utf8'));
    expect(trace.steps.map((step) => step.state)).toEqual(log.entries().map((entry) => entry.state));
    expect(trace.title).toBe('event log of node solo');
  });

  it('follows a node it was not wired into, and re-attaches after a restart', async () => {
    const log = new NodeEventLog();
    const node = soloNode();
    const unfollow = log.follow(node);
    await node.start();
    await waitFor('the attach entry', () => log.entries().length > 0);
    expect(log.entries()[0]).toMatchObject({ event: ATTACHED_EVENT, state: 'notInGroup' });
    await node.createGroup();
    await waitFor('creatingGroup and primary', () => log.entries().some((entry) => entry.state.startsWith('primary')));
    await node.stop({ handOver: false });
    await node.start();
    // A restarted node resolves its role from DNS (rule 5): the log sees it again.
    await waitFor('the state after the restart', () => log.entries().filter((entry) => entry.event === ATTACHED_EVENT || entry.state === 'resolving').length >= 2);
    unfollow();
    await node.stop({ handOver: false });
  });
});

describe('readReplayTrace', () => {
  const simTrace = {
    format: 'ag-sim-trace',
    version: 1,
    scenario: {},
    variant: null,
    nodes: { a: { address: '127.0.0.2' }, b: { address: '127.0.0.3' } },
    entries: [
      { kind: 'transition', t: 0, node: 'a', incarnation: 1, state: 'notInGroup', event: 'xstate.init', role: 'not_in_group', epoch: 0, seq: null, dnsConnection: 'not_applicable', monotonic: 5 },
      { kind: 'message', t: 1, action: 'send', id: 1, from: 'a', to: 'b', type: 'heartbeat' },
      { kind: 'fault', t: 2, action: 'start', fault: 'crash a', node: 'a' },
      { kind: 'transition', t: 3, node: 'b', incarnation: 1, state: 'secondary.checking', event: 'xstate.after.standbyCheckInterval.agNode.member.following.secondary.watching', role: 'secondary', epoch: 1, seq: 4, dnsConnection: 'connected', monotonic: 9 },
      { kind: 'violation', t: 4, property: 'one acting primary', message: 'a and b both act', node: 'b' },
    ],
  };

  it('reads a two-node simulator trace: steps per node with active states, and notes', () => {
    const trace = readReplayTrace(JSON.stringify(simTrace, null, 2));
    expect(trace.source).toBe('ag-sim-trace');
    expect(trace.nodes).toEqual(['a', 'b']);
    expect(trace.steps.map((step) => [step.node, step.state, step.eventLabel])).toEqual([
      ['a', 'notInGroup', 'xstate.init'],
      ['b', 'secondary.checking', 'after standbyCheckInterval'],
    ]);
    // The label leaves out the grouping parents; the chart ids keep them.
    expect(trace.steps[1]!.activeIds).toEqual(['member', 'member.following', 'member.following.secondary', 'member.following.secondary.checking']);
    expect(trace.notes.map((note) => note.kind)).toEqual(['fault', 'violation']);
    expect(trace.notes[1]!.text).toContain('one acting primary');
  });

  it('says which entry and field are wrong', () => {
    const broken = structuredClone(simTrace) as { entries: Record<string, unknown>[] };
    delete broken.entries[3]!.epoch;
    expect(() => readReplayTrace(JSON.stringify(broken))).toThrow(/entry 3: epoch/);
    const badLabel = structuredClone(simTrace) as { entries: Record<string, unknown>[] };
    badLabel.entries[0]!.state = 'primary{lease';
    expect(() => readReplayTrace(JSON.stringify(badLabel))).toThrow(/entry 0: Cannot read the state label/);
  });

  it('says which line of a node log is wrong, and what a file that is no trace is', () => {
    const header = JSON.stringify({ format: 'ag-node-log', version: 1, node: 'b' });
    expect(() => readReplayTrace(`${header}\n{"kind":"transition"`)).toThrow(/line 2 is not JSON/);
    expect(() => readReplayTrace(`${header}\n${JSON.stringify({ kind: 'transition', t: 1 })}`)).toThrow(/line 2: node/);
    expect(() => readReplayTrace('{"hello":1}')).toThrow(TraceFormatError);
    expect(() => readReplayTrace('')).toThrow(/empty/);
    try {
      readReplayTrace('[]');
    } catch (error) {
      expect((error as TraceFormatError).code).toBe('AG_TRACE_FORMAT');
    }
  });
});
