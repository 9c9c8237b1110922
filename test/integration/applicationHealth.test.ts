/**
 * Application health decides too (docs/design.md rule 10), with two real `agctl start` processes over a real DNS
 * server (the embedded one, then BIND 9). Each node's `health_command` is a real command that fails while a flag file
 * exists: the test makes an application unhealthy by creating that file. The tests of one server share one cluster
 * and run in order.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindUnavailableReason } from '../support/bind.js';
import { rolesDuring, startCluster, waitFor, type DnsKind, type TestCluster } from '../support/processes.js';

/** Slower than failover.test.ts: each node also spawns its check command every interval. */
const TIMERS = { heartbeat: 0.4, check: 0.4, absence: 2 };
/** A check every second, allowed 0.8 s; two failures in a row make the application unhealthy. */
const HEALTH = { interval: 1, timeout: 0.8, failures: 2 };
/** Slack for processes on a loaded machine, as in failover.test.ts. */
const SLACK_MS = 3000;
const bindMissing = bindUnavailableReason();
if (bindMissing !== null && process.env.CI) throw new Error(`The BIND half must run in CI: ${bindMissing}`);

function describeFor(kind: DnsKind, skipReason: string | null) {
  describe.skipIf(skipReason !== null)(`application health with two node processes over the ${kind} DNS server${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
    let cluster: TestCluster;
    let flags: string;
    const flag = (id: string) => join(flags, `${id}.unhealthy`);
    beforeAll(async () => {
      flags = await mkdtemp(join(tmpdir(), 'ag-it-health-'));
      const settingsFor = (id: string) => ({
        // Runs without a shell: sh is the program; the check fails while the flag file exists.
        health_command: ['/bin/sh', '-c', 'test ! -e "$1"', 'check', flag(id)],
        health_interval: HEALTH.interval,
        health_timeout: HEALTH.timeout,
        health_failures: HEALTH.failures,
      });
      cluster = await startCluster(kind, TIMERS, { form: true, nodeSettings: { a: settingsFor('a'), b: settingsFor('b') } });
    }, 90_000);
    afterAll(async () => {
      await cluster?.stop();
      await rm(flags, { recursive: true, force: true });
    });

    it('both nodes report a healthy application', async () => {
      for (const node of [cluster.a, cluster.b]) await node.waitForState('application healthy', (state) => state.application_health === 'healthy');
      const secondaryHealth = await fetch(`${cluster.b.url}/ag/api/v1/health/secondary`);
      expect(secondaryHealth.status).toBe(200);
      expect(await secondaryHealth.json()).toMatchObject({ status: 'ok', node_role: 'secondary', application_health: 'healthy' });
    });

    it("the Primary's application fails: the Secondary becomes Primary and DNS names it", async () => {
      const epoch = (await cluster.records()).heartbeat!.epoch;
      const failedAt = performance.now();
      await writeFile(flag('a'), '');
      // K failed checks (the first up to an interval after the flag) and a handover; the Primary acted long enough.
      const deadline = (HEALTH.failures + 1) * HEALTH.interval * 1000 + TIMERS.absence * 1000 + SLACK_MS;
      await waitFor('A to name b', async () => (await cluster.records()).address === '127.0.0.3', deadline, 5);
      const tookMs = performance.now() - failedAt;
      expect(tookMs).toBeGreaterThanOrEqual((HEALTH.failures - 1) * HEALTH.interval * 1000);
      expect((await cluster.records()).heartbeat).toMatchObject({ holder: 'b', epoch: epoch + 1 });
      await cluster.b.waitForState('acting Primary', (state) => state.acting_primary === true);
      const a = await cluster.a.waitForState('Secondary with an unhealthy application', (state) => state.node_role === 'secondary' && state.application_health === 'unhealthy');
      expect(a.acting_primary).toBe(false);
      const changed = cluster.a.process!.logs.find((line) => (line.event as { eventId?: string } | undefined)?.eventId === 'APPLICATION_HEALTH_CHANGED' && (line.event as { health?: string }).health === 'unhealthy');
      expect(changed?.event).toMatchObject({ previous: 'healthy', consecutiveFailures: HEALTH.failures });
      // A Secondary that could not take over does not look ready to.
      const secondaryHealth = await fetch(`${cluster.a.url}/ag/api/v1/health/secondary`);
      expect(secondaryHealth.status).toBe(503);
      expect(await secondaryHealth.json()).toMatchObject({ status: 'unavailable', node_role: 'secondary', application_health: 'unhealthy' });
    });

    it('an unhealthy Secondary does not take over when the Primary is killed; once healthy, it does', async () => {
      await cluster.b.process!.kill('SIGKILL');
      const roles = await rolesDuring(cluster.a, TIMERS.absence * 1000 * 4);
      expect([...roles]).toEqual(['secondary']);
      expect((await cluster.records()).address).toBe('127.0.0.3');
      const recoveredAt = performance.now();
      await rm(flag('a'));
      // One passed check, then the next standby check finds a whole failover period of silence.
      await waitFor('A to name a', async () => (await cluster.records()).address === '127.0.0.2', (HEALTH.interval + TIMERS.check) * 1000 + SLACK_MS, 5);
      expect(performance.now() - recoveredAt).toBeLessThan((HEALTH.interval + TIMERS.check) * 1000 + SLACK_MS);
      await cluster.a.waitForState('acting Primary, healthy', (state) => state.acting_primary === true && state.application_health === 'healthy');
    });
  });
}

describeFor('embedded', null);
describeFor('bind', bindMissing);
