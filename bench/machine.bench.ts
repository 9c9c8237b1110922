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
import { Actor, assign, createActor, fromCallback, fromPromise, sendTo, setup, type AnyActorRef } from 'xstate';
import { nodeMachine } from '../machines/nodeMachine.js';
import { NodeTag } from '../machines/nodeTags.js';
import type { RecordsRead, SendHeartbeatCommand } from '../machines/nodeMachine.types.js';
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
  while (!actor.getSnapshot().hasTag(NodeTag.watching)) await new Promise((resolve) => setImmediate(resolve));
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

// ---- the real machine as Primary: what one heartbeat costs ----

/**
 * The real machine as a Primary on a simulated clock, its I/O answering after fixed simulated delays (the direct
 * acknowledgement after 10 ms, the TXT write after 8 ms) through the actors the machine declares, with no node layer
 * and no properties. Counted per heartbeat from XState's inspection events (all actors: the machine and the I/O
 * actors it runs): microsteps and snapshots, events raised inside the machine, actors started, and the events the
 * machine receives; timed: the outermost `_process` calls (as sim.bench.ts), in µs per heartbeat and per event.
 */
const PRIMARY_HEARTBEATS = 5_000;
const PRIMARY_WARMUP = 10;
const primaryTimers = { heartbeatIntervalMs: 1000, checkIntervalMs: 1500, absenceMs: 3000, leaseMs: 2250, leaseBoundMs: 2250 * (1.01 / 0.99) };

interface PrimaryRound {
  microsecondsPerHeartbeat: number;
  cpuMicrosecondsPerHeartbeat: number;
  microsecondsPerEvent: number;
  microsteps: number;
  snapshots: number;
  raised: number;
  actors: number;
  events: number;
}

/** Settles the promises the last agenda entry resolved (an I/O answer reaching the machine). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

async function primaryRound(): Promise<PrimaryRound> {
  const clock = new FloorClock();
  const stamp = () => ({ monotonic: clock.now, wall: clock.now });
  const ack = { nodeId: 'b', role: 'secondary' as const, epoch: 1, accepted: true };
  const written = (heartbeat: { holder: string; epoch: number; seq: number }, sentAt: { monotonic: number; wall: number }) => ({
    heartbeat: { ...heartbeat, sentAt: sentAt.wall },
    txt: `ag1 node=${heartbeat.holder} epoch=${heartbeat.epoch} seq=${heartbeat.seq} sent=${sentAt.wall}`,
    sentAt,
  });
  const actors = {
    createGroupRecords: fromPromise(async ({ input }: { input: { heartbeat: { holder: string; epoch: number; seq: number } } }) => ({ ...written(input.heartbeat, stamp()), at: stamp() })),
    // The Primary's heartbeat I/O: both paths answer on the agenda, as the real actor's promises would.
    heartbeatSender: fromCallback<SendHeartbeatCommand, void>(({ sendBack, receive }) => {
      receive((command) => {
        const sentAt = stamp();
        clock.agenda.push(clock.now + 10, () => sendBack({ type: 'DIRECT_HEARTBEAT_ACKED', heartbeat: { ...command.heartbeat, sentAt: sentAt.wall }, ack, sentAt, at: stamp() }));
        clock.agenda.push(clock.now + 8, () => sendBack({ type: 'DNS_HEARTBEAT_WRITTEN', ...written(command.heartbeat, sentAt), at: stamp() }));
      });
    }),
  };
  let machineRef: AnyActorRef | null = null;
  const counts = { microsteps: 0, snapshots: 0, raised: 0, actors: 0, events: 0 };
  const delivered = new WeakSet<object>();
  let counting = false;
  // Timed before the actor exists: each actor's mailbox binds `_process` when it is created.
  const prototype = Actor.prototype as unknown as { _process: (event: unknown) => void };
  const original = prototype._process;
  let depth = 0;
  let insideMs = 0;
  let insideCpuUs = 0;
  prototype._process = function timed(this: unknown, event: unknown) {
    if (depth > 0 || !counting) return original.call(this, event);
    depth += 1;
    const start = performance.now();
    const cpu = process.cpuUsage();
    try {
      return original.call(this, event);
    } finally {
      insideMs += performance.now() - start;
      const spent = process.cpuUsage(cpu);
      insideCpuUs += spent.user + spent.system;
      depth -= 1;
    }
  };
  const actor = createActor(nodeMachine.provide({ actors }), {
    input: { nodeId: 'a', address: '127.0.0.2', timers: primaryTimers, inGroup: false },
    clock: clock as never,
    inspect: (inspection) => {
      if (!counting) return;
      if (inspection.type === '@xstate.snapshot') counts.snapshots += 1;
      else if (inspection.type === '@xstate.actor') counts.actors += 1;
      else if (inspection.type === '@xstate.event' && inspection.actorRef === machineRef) {
        counts.events += 1;
        delivered.add(inspection.event);
      } else if (inspection.type === '@xstate.microstep' && inspection.actorRef === machineRef) {
        counts.microsteps += 1;
        if (!delivered.has(inspection.event)) {
          counts.raised += 1;
          delivered.add(inspection.event); // one raised event may drive several microsteps (eventless ones follow)
        }
      }
    },
  });
  machineRef = actor;
  actor.start();
  actor.send({ type: 'CREATE_GROUP', at: stamp() });
  await settle();
  if (!actor.getSnapshot().hasTag(NodeTag.holdsLease)) throw new Error('the bench Primary did not form its group');
  try {
    const endAt = (PRIMARY_WARMUP + PRIMARY_HEARTBEATS) * primaryTimers.heartbeatIntervalMs + 500;
    for (;;) {
      const next = clock.agenda.peek();
      if (next === undefined || next.at > endAt) break;
      clock.agenda.pop();
      clock.now = next.at;
      counting = clock.now > PRIMARY_WARMUP * primaryTimers.heartbeatIntervalMs + 500;
      next.run();
      await settle();
    }
  } finally {
    prototype._process = original;
  }
  const snapshot = actor.getSnapshot();
  const healthy = snapshot.hasTag(NodeTag.acting) && snapshot.context.lease.ownSeq === PRIMARY_WARMUP + PRIMARY_HEARTBEATS;
  actor.stop();
  if (!healthy) throw new Error(`the bench Primary did not stay healthy (seq ${snapshot.context.lease.ownSeq}), so this would not measure its heartbeat`);
  const per = (n: number) => n / PRIMARY_HEARTBEATS;
  return {
    microsecondsPerHeartbeat: (insideMs * 1000) / PRIMARY_HEARTBEATS,
    cpuMicrosecondsPerHeartbeat: insideCpuUs / PRIMARY_HEARTBEATS,
    microsecondsPerEvent: (insideMs * 1000) / counts.events,
    microsteps: per(counts.microsteps),
    snapshots: per(counts.snapshots),
    raised: per(counts.raised),
    actors: per(counts.actors),
    events: per(counts.events),
  };
}

/** State nodes of the machine definition, the root not counted. */
function stateNodeCount(node: { states: Record<string, unknown> }): number {
  return Object.values(node.states).reduce<number>((sum, child) => sum + 1 + stateNodeCount(child as { states: Record<string, unknown> }), 0);
}

await primaryRound(); // warm-up
const rounds: PrimaryRound[] = [];
for (let run = 0; run < RUNS; run++) rounds.push(await primaryRound());
const first = rounds[0]!;
const perHeartbeat = summarize(rounds.map((round) => round.microsecondsPerHeartbeat));
const perEvent = summarize(rounds.map((round) => round.microsecondsPerEvent));
const cpuPerHeartbeat = summarize(rounds.map((round) => round.cpuMicrosecondsPerHeartbeat));
const fixed = (figure: string, value: number): BenchRow => ({ figure, median: value.toFixed(2), spread: '(counted)', target: '-', ok: null });
printTable(`The real machine as Primary, per heartbeat (${PRIMARY_HEARTBEATS} heartbeats/run, simulated clock, I/O answered at once in simulated time)`, [
  fixed(`state nodes in the machine definition (primary: ${stateNodeCount(nodeMachine.root.states.member!.states.primary!)})`, stateNodeCount(nodeMachine.root)),
  fixed('microsteps per heartbeat (the machine)', first.microsteps),
  fixed('snapshots per heartbeat (the machine and its I/O actors)', first.snapshots),
  fixed('events raised inside the machine per heartbeat', first.raised),
  fixed('actors started per heartbeat', first.actors),
  fixed('events the machine receives per heartbeat', first.events),
  { figure: 'XState time per Primary heartbeat', median: `${perHeartbeat.median.toFixed(1)} µs`, spread: `${perHeartbeat.min.toFixed(1)} .. ${perHeartbeat.max.toFixed(1)} (n=${perHeartbeat.n})`, target: '-', ok: null },
  { figure: 'XState CPU time per Primary heartbeat (process CPU, robust on a loaded box)', median: `${cpuPerHeartbeat.median.toFixed(1)} µs`, spread: `${cpuPerHeartbeat.min.toFixed(1)} .. ${cpuPerHeartbeat.max.toFixed(1)} (n=${cpuPerHeartbeat.n})`, target: '-', ok: null },
  { figure: 'XState time per event the machine receives', median: `${perEvent.median.toFixed(1)} µs`, spread: `${perEvent.min.toFixed(1)} .. ${perEvent.max.toFixed(1)} (n=${perEvent.n})`, target: '-', ok: null },
]);
