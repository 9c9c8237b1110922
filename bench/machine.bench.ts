/**
 * The statechart's own cost per step, without I/O: what bounds the simulator's speed (issue 3). A watching
 * Secondary receives direct heartbeats (one microstep each, which re-arms its standby check), with and without an
 * inspection observer attached.
 *
 *     npm run bench -- machine
 */
import { createActor, fromPromise } from 'xstate';
import { nodeMachine } from '../machines/nodeMachine.js';
import type { RecordsRead } from '../machines/nodeMachine.types.js';
import { printTable, summarize, type BenchRow } from './stats.js';

const RUNS = 5;
const STEPS = 20_000;
const records: RecordsRead = {
  address: '127.0.0.2',
  txt: 'ag1 node=a epoch=1 seq=0 sent=2026-01-01T00:00:00.000Z',
  heartbeat: { holder: 'a', epoch: 1, seq: 0, sentAt: 0 },
  at: { monotonic: 0, wall: 0 },
};
const machine = nodeMachine.provide({ actors: { readGroupRecords: fromPromise<RecordsRead, void>(async () => records) } });

/** One run: microseconds per HEARTBEAT_RECEIVED on a Secondary in `secondary.watching`. */
async function microsecondsPerHeartbeat(inspect: boolean): Promise<number> {
  const actor = createActor(machine, {
    input: { nodeId: 'b', address: '127.0.0.3', timers: { heartbeatIntervalMs: 1000, checkIntervalMs: 1000, absenceMs: 5000, leaseMs: 3750 }, inGroup: true },
    ...(inspect ? { inspect: () => undefined } : {}),
  });
  actor.start();
  while (!actor.getSnapshot().matches({ secondary: 'watching' })) await new Promise((resolve) => setImmediate(resolve));
  const start = performance.now();
  for (let seq = 1; seq <= STEPS; seq++) {
    actor.send({ type: 'HEARTBEAT_RECEIVED', heartbeat: { holder: 'a', epoch: 1, seq, sentAt: 0 }, at: { monotonic: seq, wall: seq } });
  }
  const perStep = ((performance.now() - start) * 1000) / STEPS;
  actor.stop();
  return perStep;
}

const rows: BenchRow[] = [];
for (const inspect of [false, true]) {
  await microsecondsPerHeartbeat(inspect); // warm-up
  const runs: number[] = [];
  for (let run = 0; run < RUNS; run++) runs.push(await microsecondsPerHeartbeat(inspect));
  const s = summarize(runs);
  rows.push({
    figure: `Secondary, HEARTBEAT_RECEIVED (${STEPS} steps/run)${inspect ? ', inspection on' : ''}`,
    median: `${s.median.toFixed(1)} µs`,
    spread: `${s.min.toFixed(1)} .. ${s.max.toFixed(1)} (n=${s.n})`,
    target: '-',
    ok: null,
  });
}
printTable('Statechart step cost (XState 5, no I/O)', rows);
