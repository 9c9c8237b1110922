import { assign, createActor, sendTo, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { SendHeartbeatCommand } from '../machines/nodeMachine.types.js';
import { DIRECT_SENDS_IN_FLIGHT, heartbeatSender, type HeartbeatPaths } from '../src/node/heartbeatSender.js';

/** A promise and the functions that settle it. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const stamp = (monotonic: number) => ({ monotonic, wall: 1_000_000 + monotonic });

function command(seq: number): SendHeartbeatCommand {
  return { type: 'SEND_HEARTBEAT', heartbeat: { holder: 'a', epoch: 1, seq }, expectedTxt: `seq=${seq - 1}`, leaseExpiresAt: null } as SendHeartbeatCommand;
}

/**
 * The heartbeat sender under a parent that forwards `SEND` to it and records the type of every event it reports;
 * each path call waits on a promise the test settles.
 */
function senderUnderTest() {
  const direct: { seq: number; settle: ReturnType<typeof deferred<unknown>> }[] = [];
  const dns: { seq: number; settle: ReturnType<typeof deferred<unknown>> }[] = [];
  const paths = {
    sendDirect: (sent: SendHeartbeatCommand) => {
      const settle = deferred<unknown>();
      direct.push({ seq: sent.heartbeat.seq, settle });
      return settle.promise;
    },
    writeRecord: (sent: SendHeartbeatCommand) => {
      const settle = deferred<unknown>();
      dns.push({ seq: sent.heartbeat.seq, settle });
      return settle.promise;
    },
    readRecords: () => new Promise(() => undefined),
  } as unknown as HeartbeatPaths;
  const parent = setup({
    types: { context: {} as { reported: string[] }, events: {} as { type: string; command?: SendHeartbeatCommand } },
    actors: { heartbeatSender: heartbeatSender(paths) },
  }).createMachine({
    context: { reported: [] },
    invoke: { id: 'sender', src: 'heartbeatSender' },
    on: {
      SEND: { actions: sendTo('sender', ({ event }) => event.command!) },
      '*': { actions: assign({ reported: ({ context, event }) => [...context.reported, event.type] }) },
    },
  });
  const actor = createActor(parent).start();
  return { direct, dns, send: (seq: number) => actor.send({ type: 'SEND', command: command(seq) }), reported: () => actor.getSnapshot().context.reported };
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('heartbeatSender', () => {
  it('sends a heartbeat directly while the previous direct one is still under way (a slow round trip does not cost the next heartbeat)', () => {
    const sender = senderUnderTest();
    sender.send(1);
    sender.send(2);
    expect(sender.direct.map((call) => call.seq)).toEqual([1, 2]);
  });

  it(`keeps at most ${DIRECT_SENDS_IN_FLIGHT} direct heartbeats under way, and sends again once one is answered`, async () => {
    const sender = senderUnderTest();
    for (let seq = 1; seq <= DIRECT_SENDS_IN_FLIGHT + 2; seq++) sender.send(seq);
    expect(sender.direct.map((call) => call.seq)).toEqual(Array.from({ length: DIRECT_SENDS_IN_FLIGHT }, (_, index) => index + 1));
    sender.direct[0]!.settle.reject(new Error('no answer'));
    await settled();
    sender.send(DIRECT_SENDS_IN_FLIGHT + 3);
    expect(sender.direct.at(-1)!.seq).toBe(DIRECT_SENDS_IN_FLIGHT + 3);
    expect(sender.direct).toHaveLength(DIRECT_SENDS_IN_FLIGHT + 1);
  });

  it('reports each direct outcome, in the order the answers come', async () => {
    const sender = senderUnderTest();
    sender.send(1);
    sender.send(2);
    const ack = (seq: number) => ({ heartbeat: { holder: 'a', epoch: 1, seq, sentAt: 0 }, ack: { accepted: true, epoch: 1 }, sentAt: stamp(seq), at: stamp(seq + 1) });
    sender.direct[1]!.settle.resolve(ack(2));
    await settled();
    sender.direct[0]!.settle.resolve(ack(1));
    await settled();
    expect(sender.reported().filter((type) => type.startsWith('DIRECT'))).toEqual(['DIRECT_HEARTBEAT_ACKED', 'DIRECT_HEARTBEAT_ACKED']);
  });

  it('writes one TXT heartbeat at a time: the next write must expect the value the previous one left', async () => {
    const sender = senderUnderTest();
    sender.send(1);
    sender.send(2);
    expect(sender.dns.map((call) => call.seq)).toEqual([1]);
    sender.dns[0]!.settle.resolve({ heartbeat: { holder: 'a', epoch: 1, seq: 1, sentAt: 0 }, txt: 'seq=1', sentAt: stamp(1), at: stamp(2) });
    await settled();
    sender.send(3);
    expect(sender.dns.map((call) => call.seq)).toEqual([1, 3]);
    expect(sender.reported()).toContain('DNS_HEARTBEAT_WRITTEN');
  });
});
