import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../src/node/clock.js';
import { clearTimerAfterPendingIo, setTimerAfterPendingIo } from '../src/node/timerAfterPendingIo.js';

/** Blocks the event loop for `ms`, as a process the scheduler does not run (or a long GC) is blocked. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

/** A connected pair of loopback sockets; `received` lists what the server side reads, in order. */
async function socketPair(): Promise<{ client: Socket; server: Server; serverSide: Socket }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  return { client, server, serverSide: await accepted };
}

/**
 * What runs first after a stall of the process during which both a timer fell due and a message arrived in a
 * socket: the order of 'timer' and 'message'. `arm` arms the timer with the callback and delay given.
 */
async function orderAfterStall(arm: (callback: () => void, ms: number) => void): Promise<string[]> {
  const { client, server, serverSide } = await socketPair();
  try {
    const order: string[] = [];
    const both = new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`only ${JSON.stringify(order)} within 2 s`)), 2_000);
      const note = (what: string) => {
        order.push(what);
        if (order.length === 2) {
          clearTimeout(deadline);
          resolve();
        }
      };
      serverSide.once('data', () => note('message'));
      arm(() => note('timer'), 20);
    });
    // The message leaves now (a write to an idle loopback socket reaches the peer's buffer at once) and the process
    // stalls past the timer's due time: when the loop turns again, both are waiting.
    client.write('heartbeat');
    stall(80);
    await both;
    return order;
  } finally {
    client.destroy();
    serverSide.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('timers after pending I/O', () => {
  const timers: ReturnType<typeof setTimerAfterPendingIo>[] = [];
  afterEach(() => timers.splice(0).forEach(clearTimerAfterPendingIo));

  it('a plain timer that fell due during a stall runs before the message that waited in the socket (the cause)', async () => {
    // This is what libuv does, and why a stalled node counted its own stall as the peer's silence.
    expect(await orderAfterStall((callback, ms) => setTimeout(callback, ms))).toEqual(['timer', 'message']);
  });

  it('a timer after pending I/O that fell due during a stall runs after the message that waited in the socket', async () => {
    expect(await orderAfterStall((callback, ms) => timers.push(setTimerAfterPendingIo(callback, ms)))).toEqual(['message', 'timer']);
  });

  it('the system clock, whose timers drive the statechart (absence deadline, lease, heartbeat pacing), reads the waiting message first', async () => {
    expect(await orderAfterStall((callback, ms) => systemClock.setTimeout(callback, ms))).toEqual(['message', 'timer']);
  });

  it('runs no earlier than its delay, and once', async () => {
    const started = performance.now();
    const runs: number[] = [];
    await new Promise<void>((resolve) => timers.push(setTimerAfterPendingIo(() => (runs.push(performance.now() - started), resolve()), 30)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toBeGreaterThanOrEqual(29);
  });

  it('a cancelled timer does not run, also when cancelled after it fell due but before the poll it waits for', async () => {
    let ran = 0;
    const early = setTimerAfterPendingIo(() => (ran += 1), 10);
    clearTimerAfterPendingIo(early);
    // Due during the stall: the cancellation comes from a timer that runs in the same timers phase, before the poll.
    const late = setTimerAfterPendingIo(() => (ran += 1), 10);
    let dueWhenCancelled = false;
    setTimeout(() => {
      dueWhenCancelled = late.timeout === null && late.immediate !== null;
      clearTimerAfterPendingIo(late);
    }, 10);
    stall(30);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(dueWhenCancelled).toBe(true);
    expect(ran).toBe(0);
  });
});
