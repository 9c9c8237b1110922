/**
 * The statechart's own cost, without I/O: what bounds the simulator's speed (issue 3).
 *
 * 1. Step cost: a watching Secondary receives direct heartbeats (one microstep each, which re-arms its standby
 *    check), with and without an inspection observer attached.
 * 2. The XState floor of a heartbeat round: two trivial XState 5 machines exchange exactly the events one heartbeat
 *    of a healthy group needs (the Primary's pacing timer, the direct acknowledgement, the DNS write's answer, the
 *    Secondary's receipt: 4 events per simulated second) on a simulated clock driven by the simulator's own agenda,
 *    with no I/O, no node layer, no properties and no promises. No simulation of the real machine can run faster
 *    than this floor; the second row adds the two timers docs/design.md's rules 1 and 3 need (the Secondary's standby
 *    check and the Primary's lease, both re-armed by each heartbeat).
 *
 *     npm run bench -- machine
 */
import { assign, createActor, fromCallback, fromPromise, sendTo, setup, type AnyActorRef } from 'xstate';
import { nodeMachine } from '../machines/nodeMachine.js';
import type { RecordsRead } from '../machines/nodeMachine.types.js';
import { EventQueue } from '../src/testing/internal/eventQueue.js';
import { printTable, summarize, type BenchRow } from './stats.js';

const RUNS = 5;
const STEPS = 20_000;
const records: RecordsRead = {
  address: '127.0.0.2',
  txt: 'ag1 node=a epoch=1 seq=0 sent=2026-01-01T00:00:00.000Z',
  heartbeat: { holder: 'a', epoch: 1, seq: 0, sentAt: 0 },
  sentAt: { monotonic: 0, wall: 0 },
  at: { monotonic: 0, wall: 0 },
};
const machine = nodeMachine.provide({ actors: { readGroupRecords: fromPromise<RecordsRead, void>(async () => records) } });

/** One run: microseconds per HEARTBEAT_RECEIVED on a Secondary in `secondary.watching`. */
async function microsecondsPerHeartbeat(inspect: boolean): Promise<number> {
  const actor = createActor(machine, {
    input: { nodeId: 'b', address: '127.0.0.3', timers: { heartbeatIntervalMs: 1000, checkIntervalMs: 1000, absenceMs: 5000, leaseMs: 3750, leaseBoundMs: 3750 * (1.01 / 0.99) }, inGroup: true },
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

const stepRows: BenchRow[] = [];
for (const inspect of [false, true]) {
  await microsecondsPerHeartbeat(inspect); // warm-up
  const runs: number[] = [];
  for (let run = 0; run < RUNS; run++) runs.push(await microsecondsPerHeartbeat(inspect));
  const s = summarize(runs);
  stepRows.push({
    figure: `Secondary, HEARTBEAT_RECEIVED (${STEPS} steps/run)${inspect ? ', inspection on' : ''}`,
    median: `${s.median.toFixed(1)} µs`,
    spread: `${s.min.toFixed(1)} .. ${s.max.toFixed(1)} (n=${s.n})`,
    target: '-',
    ok: null,
  });
}
printTable('Statechart step cost (XState 5, no I/O)', stepRows);

// ---- the XState floor of one heartbeat round ----

const FLOOR_SIMULATED_MS = 1_000_000;
const HEARTBEAT_MS = 1000;

/** A simulated clock over the simulator's agenda: XState's delayed events wait there, nothing waits in real time. */
class FloorClock {
  readonly agenda = new EventQueue();
  now = 0;
  setTimeout(callback: () => void, ms: number): { cancelled: boolean } {
    const handle = { cancelled: false };
    this.agenda.push(this.now + ms, () => handle.cancelled || callback());
    return handle;
  }
  clearTimeout(handle: { cancelled: boolean }): void {
    handle.cancelled = true;
  }
}

/** One run of the floor: simulated seconds per wall second, and events handled per simulated second. */
function floorRun(withRuleTimers: boolean): { rate: number; eventsPerSecond: number } {
  const clock = new FloorClock();
  let delivered = 0;
  const deliver = (target: AnyActorRef, event: { type: string; seq: number }) => {
    delivered += 1;
    target.send(event);
  };
  const secondary = setup({
    types: { context: {} as { seen: number }, events: {} as { type: 'HEARTBEAT'; seq: number } },
    actions: { recordHeartbeat: assign({ seen: ({ event }) => event.seq }) },
  }).createMachine({
    context: { seen: 0 },
    initial: 'watching',
    states: {
      watching: withRuleTimers
        ? { after: { 1500: 'checking' }, on: { HEARTBEAT: { target: 'watching', reenter: true, actions: 'recordHeartbeat' } } }
        : { on: { HEARTBEAT: { actions: 'recordHeartbeat' } } },
      checking: {},
    },
  });
  const secondaryRef = createActor(secondary, { clock: clock as never });
  // The Primary's I/O in one long-lived actor (XState's cheapest I/O shape): the heartbeat reaches the Secondary
  // after 5 ms, its acknowledgement returns after 10 ms, the DNS write is answered after 8 ms.
  const io = fromCallback<{ type: 'SEND'; seq: number }>(({ self, receive }) => {
    const primaryRef = self._parent!;
    receive((request) => {
      clock.agenda.push(clock.now + 5, () => deliver(secondaryRef, { type: 'HEARTBEAT', seq: request.seq }));
      clock.agenda.push(clock.now + 10, () => deliver(primaryRef, { type: 'ACK', seq: request.seq }));
      clock.agenda.push(clock.now + 8, () => deliver(primaryRef, { type: 'WRITTEN', seq: request.seq }));
    });
  });
  const pacing = {
    initial: 'waiting',
    states: { waiting: { after: { [HEARTBEAT_MS]: { target: 'waiting', reenter: true, actions: ['nextHeartbeat', 'sendHeartbeat'] } } } },
  } as const;
  // With the rule timers, the lease is a parallel region re-armed by each confirmation, as in the real machine.
  const lease = {
    initial: 'valid',
    states: {
      valid: { after: { 3750: 'lost' }, on: { ACK: { target: 'valid', reenter: true, actions: 'confirm' }, WRITTEN: { target: 'valid', reenter: true, actions: 'confirm' } } },
      lost: {},
    },
  } as const;
  const primaryLogic = setup({
    types: { context: {} as { seq: number; confirmed: number }, events: {} as { type: 'ACK' | 'WRITTEN'; seq: number } },
    actors: { io },
    actions: {
      nextHeartbeat: assign({ seq: ({ context }) => context.seq + 1 }),
      sendHeartbeat: sendTo('io', ({ context }) => ({ type: 'SEND' as const, seq: context.seq })),
      confirm: assign({ confirmed: ({ event }) => event.seq }),
    },
  });
  const context = { seq: 0, confirmed: 0 };
  const primary = withRuleTimers
    ? primaryLogic.createMachine({ context, invoke: { id: 'io', src: 'io' }, type: 'parallel', states: { pacing, lease } })
    : primaryLogic.createMachine({ context, invoke: { id: 'io', src: 'io' }, ...pacing, on: { ACK: { actions: 'confirm' }, WRITTEN: { actions: 'confirm' } } });
  const primaryRef = createActor(primary, { clock: clock as never });
  secondaryRef.start();
  primaryRef.start();
  const start = performance.now();
  for (;;) {
    const next = clock.agenda.peek();
    if (next === undefined || next.at > FLOOR_SIMULATED_MS) break;
    clock.agenda.pop();
    clock.now = next.at;
    next.run();
  }
  const wallMs = performance.now() - start;
  const heartbeats = primaryRef.getSnapshot().context.seq;
  // Every heartbeat went out and arrived, the lease held and the Secondary never went to check DNS.
  const healthy =
    heartbeats === FLOOR_SIMULATED_MS / HEARTBEAT_MS &&
    (!withRuleTimers || primaryRef.getSnapshot().matches({ lease: 'valid' } as never)) &&
    secondaryRef.getSnapshot().matches('watching') &&
    secondaryRef.getSnapshot().context.seen >= heartbeats - 1;
  primaryRef.stop();
  secondaryRef.stop();
  if (!healthy) throw new Error('the floor group did not stay healthy, so this would not measure a healthy group');
  return { rate: FLOOR_SIMULATED_MS / wallMs, eventsPerSecond: (heartbeats + delivered) / (FLOOR_SIMULATED_MS / 1000) };
}

const floorRows: BenchRow[] = [];
for (const withRuleTimers of [false, true]) {
  floorRun(withRuleTimers); // warm-up
  const runs = Array.from({ length: RUNS }, () => floorRun(withRuleTimers));
  const s = summarize(runs.map((run) => run.rate));
  floorRows.push({
    figure: withRuleTimers
      ? `+ standby check and lease re-armed per heartbeat (${runs[0]!.eventsPerSecond.toFixed(2)} events/sim s)`
      : `4 events per heartbeat, trivial machines (${runs[0]!.eventsPerSecond.toFixed(2)} events/sim s)`,
    median: `${s.median.toFixed(0)} sim s/s`,
    spread: `${s.min.toFixed(0)} .. ${s.max.toFixed(0)} (n=${s.n})`,
    target: '-',
    ok: null,
  });
}
printTable(`XState 5 floor of a healthy group's heartbeat round: no simulation can run the real machine faster (${FLOOR_SIMULATED_MS / 1000} simulated s per run, 1 s heartbeat)`, floorRows);
