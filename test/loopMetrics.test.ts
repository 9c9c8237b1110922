/**
 * The busy-machine metrics of /metrics: the event loop delay (p50/p99 of the window since the previous scrape) and
 * the Primary's heartbeat send jitter (how much later than due each direct heartbeat left). Units on HeartbeatJitter
 * with fixed sends, then a real two-node group of `agctl start` processes scraped over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLoopDelay } from '../src/node/eventLoopDelay.js';
import { HeartbeatJitter } from '../src/node/heartbeatJitter.js';
import { startCluster, waitFor, type TestCluster, type TestNode } from './support/processes.js';

/** Within the histogram's precision: 2 significant digits, 1 %. */
function expectNear(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(expected * 0.01);
}

describe('HeartbeatJitter', () => {
  it('measures each send against the previous send plus one interval per seq', () => {
    const jitter = new HeartbeatJitter();
    expect(jitter.takeWindow()).toBeNull();
    jitter.sent({ epoch: 1, seq: 1 }, 1000, 50); // the first of a series is due at no earlier send
    expect(jitter.takeWindow()).toBeNull();
    jitter.sent({ epoch: 1, seq: 2 }, 1053, 50); // 3 ms late
    jitter.sent({ epoch: 1, seq: 4 }, 1160, 50); // seq 3 was not sent: due at 1053 + 2 × 50, 7 ms late
    const window = jitter.takeWindow()!;
    expect(window.count).toBe(2);
    expectNear(window.p50, 0.003);
    expectNear(window.p99, 0.007);
    expectNear(window.max, 0.007);
  });

  it('starts a new series at a new epoch, counts an early send as 0, and repeats the last window when nothing was sent', () => {
    const jitter = new HeartbeatJitter();
    jitter.sent({ epoch: 1, seq: 9 }, 0, 50);
    jitter.sent({ epoch: 2, seq: 1 }, 500, 50); // a takeover: not 450 ms late
    jitter.sent({ epoch: 2, seq: 2 }, 549.6, 50); // a timer rounded down
    const window = jitter.takeWindow()!;
    expect(window.count).toBe(1);
    expect(window.max).toBeLessThan(1e-6);
    expect(jitter.takeWindow()).toEqual(window);
    jitter.sent({ epoch: 2, seq: 3 }, 620, 50); // 20.4 ms late
    expectNear(jitter.takeWindow()!.max, 0.0204);
  });
});

/** The quantile gauges of `name` in a Prometheus text: { '0.5': v, '0.99': v } and the max gauge. */
function delayFigures(text: string, name: string): { p50: number; p99: number; max: number } {
  const value = (pattern: string) => {
    const line = text.split('\n').find((entry) => entry.startsWith(pattern));
    if (line === undefined) throw new Error(`/metrics has no ${pattern}`);
    return Number(line.slice(pattern.length).trim());
  };
  return { p50: value(`${name}{quantile="0.5"}`), p99: value(`${name}{quantile="0.99"}`), max: value(`${name.replace(/_seconds$/, '_max_seconds')}`) };
}

describe('EventLoopDelay', () => {
  it('reports how late the loop was, not the sampling interval: a loop blocked for 300 ms shows it, the rest under the resolution', async () => {
    const resolutionMs = 100;
    const delay = new EventLoopDelay(resolutionMs);
    try {
      // takeWindow resets the histogram (and the first sample after a reset is not recorded): read it only once
      const started = performance.now();
      await waitFor('three sampling intervals', () => performance.now() > started + 3 * resolutionMs, 5_000);
      expect(delay.takeWindow()).not.toBeNull();
      const reset = performance.now();
      await waitFor('two sampling intervals after the reset', () => performance.now() > reset + 2 * resolutionMs, 5_000);
      const blockedUntil = performance.now() + 300;
      while (performance.now() < blockedUntil) {
        // block the loop: the sample due during it fires late
      }
      // let about five more samples come in, on time, before the window is read
      await waitFor('five sampling intervals after the block', () => performance.now() > blockedUntil + 5 * resolutionMs, 5_000);
      const window = delay.takeWindow()!;
      // Before the fix every sample counted its whole 100 ms wait, so even an idle loop showed p50 >= 0.1 s.
      expect(window.p50).toBeLessThan(resolutionMs / 1000);
      expect(window.max).toBeGreaterThanOrEqual(0.19);
    } finally {
      delay.stop();
    }
  });
});

describe('event loop delay and heartbeat jitter in /metrics of a running group', () => {
  const timers = { heartbeat: 0.2, check: 0.2, absence: 2 };
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster('embedded', timers, { form: true });
  }, 90_000);
  afterAll(() => cluster?.stop());

  const scrape = async (node: TestNode) => String((await node.api('GET', '/metrics', { token: null })).body);

  it('serves both with sane values: p99 >= p50 >= 0 on the Primary; no jitter on the Secondary, which sends none', async () => {
    // The first scrape starts the event loop sampling: it has no window yet.
    const first = delayFigures(await scrape(cluster.a), 'ag_event_loop_delay_seconds');
    expect(first.p50).toBeNaN();
    // Within a few heartbeats both have a window with samples (a deadline from the settings, with room for a loaded machine).
    const deadlineMs = 20 * timers.heartbeat * 1000 + 10_000;
    const figures = await waitFor('numeric figures in /metrics', async () => {
      await new Promise((resolve) => setTimeout(resolve, 2 * timers.heartbeat * 1000));
      const text = await scrape(cluster.a);
      const loop = delayFigures(text, 'ag_event_loop_delay_seconds');
      const jitter = delayFigures(text, 'ag_heartbeat_send_jitter_seconds');
      return Number.isFinite(loop.p50) && Number.isFinite(jitter.p50) ? { loop, jitter } : undefined;
    }, deadlineMs);
    for (const each of [figures.loop, figures.jitter]) {
      expect(each.p50).toBeGreaterThanOrEqual(0);
      expect(each.p99).toBeGreaterThanOrEqual(each.p50);
      expect(each.max).toBeGreaterThanOrEqual(each.p99);
    }
    // A Primary that is not starved sends its heartbeats within an interval of when they were due.
    expect(figures.jitter.p50).toBeLessThan(timers.heartbeat);
    const secondary = await scrape(cluster.b);
    expect(delayFigures(secondary, 'ag_heartbeat_send_jitter_seconds').p50).toBeNaN();
    expect(secondary).toMatch(/# HELP ag_event_loop_delay_seconds .*since the previous scrape/);
  }, 60_000);
});
