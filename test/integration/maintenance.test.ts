/**
 * Maintenance mode with real processes: two `agctl start` nodes over a real DNS server (the embedded one, then
 * BIND 9). `agctl pause` on the Primary reaches the Secondary; the Primary is killed with SIGKILL and the Secondary,
 * though it finds the Primary absent, does not take over, also after its own restart (the flag is persisted);
 * `agctl resume` on the lone Secondary makes it take over. Every wait has a deadline derived from the group's timers.
 * The tests of one server share one cluster and run in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindUnavailableReason } from '../support/bind.js';
import { rolesDuring, runAgctl, startCluster, type DnsKind, type TestCluster, type TestNode } from '../support/processes.js';

const TIMERS = { heartbeat: 0.1, check: 0.1, absence: 0.5 };
const ABSENCE_MS = TIMERS.absence * 1000;
/** How long a paused Secondary is watched for a takeover that must not come: the failover period, six times over. */
const QUIET_WINDOW_MS = ABSENCE_MS * 6;
/** Slack for a process start and a loaded test machine, on top of what the timers allow. */
const SLACK_MS = 5_000;
const bindMissing = bindUnavailableReason();
if (bindMissing !== null && process.env.CI) throw new Error(`The BIND half must run in CI: ${bindMissing}`);

/** Runs `agctl <command> --config <node's file> [args]` as a child process; resolves with its exit code and stdout lines. */
async function agctl(node: TestNode, command: string, args: readonly string[] = []): Promise<{ code: number | null; lines: string[] }> {
  const { code, lines } = await runAgctl(`${node.id}-${command}`, [command, '--config', node.configFile, ...args], { env: node.env });
  return { code, lines };
}

/** Whether `line` is a PRIMARY_SUSPECTED log line that reports a whole failover period of silence. */
function absenceSuspected(line: Record<string, unknown>): boolean {
  const event = line.event as { silentForMs?: number; absenceLimitMs?: number } | undefined;
  return line.msg === 'PRIMARY_SUSPECTED' && event !== undefined && (event.silentForMs ?? 0) >= (event.absenceLimitMs ?? Infinity);
}

function describeFor(kind: DnsKind, skipReason: string | null) {
  describe.skipIf(skipReason !== null)(`maintenance mode with two node processes over the ${kind} DNS server${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
    let cluster: TestCluster;
    beforeAll(async () => {
      cluster = await startCluster(kind, TIMERS, { form: true });
    }, 90_000);
    afterAll(async () => {
      await cluster?.stop();
    });

    it('agctl pause on the Primary pauses the whole group: the Secondary reports maintenance too', async () => {
      expect((await cluster.b.state())?.maintenance).toBe(false);
      expect(await agctl(cluster.a, 'pause')).toEqual({ code: 0, lines: [expect.stringMatching(/^paused: automatic takeover is suspended group-wide \(by a, version \d+\)$/)] });
      expect((await cluster.a.state())?.maintenance).toBe(true);
      // The next direct heartbeat carries the flag: a few heartbeat intervals, plus slack.
      await cluster.b.waitForState('maintenance learned from the Primary', (state) => state.maintenance === true, TIMERS.heartbeat * 1000 * 10 + SLACK_MS);
      const changed = await cluster.b.process!.waitForLog((line) => line.msg === 'MAINTENANCE_CHANGED', SLACK_MS);
      expect(changed.event).toMatchObject({ eventId: 'MAINTENANCE_CHANGED', enabled: true, by: 'a' });
      const metrics = await cluster.b.api('GET', '/metrics');
      expect(String(metrics.body)).toMatch(/^ag_maintenance 1$/m);
    });

    it('kill -9 of the paused Primary: the Secondary finds it absent but does not take over', async () => {
      await cluster.a.process!.kill('SIGKILL');
      // b's standby check sees the whole failover period of silence and says so, then keeps watching.
      await cluster.b.process!.waitForLog(absenceSuspected, ABSENCE_MS + TIMERS.check * 1000 * 4 + SLACK_MS);
      const roles = await rolesDuring(cluster.b, QUIET_WINDOW_MS);
      expect([...roles]).toEqual(['secondary']);
      const records = await cluster.records();
      expect(records.address).toBe('127.0.0.2');
      expect(records.heartbeat?.holder).toBe('a');
    });

    it('the flag survives a restart of the Secondary: still paused, still no takeover', async () => {
      await cluster.b.process!.kill('SIGKILL');
      await cluster.b.start();
      const state = await cluster.b.waitForState('Secondary again after the restart', (s) => s.node_role === 'secondary' && s.state.startsWith('secondary'), SLACK_MS);
      expect(state.maintenance).toBe(true);
      await cluster.b.process!.waitForLog(absenceSuspected, ABSENCE_MS + TIMERS.check * 1000 * 4 + SLACK_MS);
      const roles = await rolesDuring(cluster.b, QUIET_WINDOW_MS);
      expect([...roles]).toEqual(['secondary']);
      expect((await cluster.records()).address).toBe('127.0.0.2');
    });

    it('agctl resume on the lone Secondary: it takes over at once', async () => {
      const epoch = (await cluster.records()).heartbeat!.epoch;
      const resumedAt = performance.now();
      const resumed = await agctl(cluster.b, 'resume', ['--output', 'json']);
      expect(resumed.code).toBe(0);
      expect(JSON.parse(resumed.lines.join('\n'))).toMatchObject({ enabled: false, by: 'b', version: expect.any(Number) });
      // The Primary has been silent for far more than the failover period: the standby check run at resume takes over.
      await cluster.b.waitForState('acting Primary after resume', (state) => state.acting_primary === true, ABSENCE_MS + TIMERS.check * 1000 * 2 + SLACK_MS);
      const takeoverMs = performance.now() - resumedAt;
      const records = await cluster.records();
      expect(records).toMatchObject({ address: '127.0.0.3', heartbeat: { holder: 'b', epoch: epoch + 1 } });
      expect((await cluster.b.state())?.maintenance).toBe(false);
      const started = await cluster.b.process!.waitForLog((line) => line.msg === 'TAKEOVER_STARTED', SLACK_MS);
      expect(started.event).toMatchObject({ mode: 'absence' });
      // Loose: the resume command's own process start counts in; the figure is logged for the report.
      console.log(`takeover after agctl resume: ${Math.round(takeoverMs)} ms (failover period ${ABSENCE_MS} ms)`);
    });

    it('PUT /maintenance refuses a malformed body with 400 naming the field', async () => {
      const missing = await cluster.b.api('PUT', '/ag/api/v1/maintenance', { body: {} });
      expect(missing.status).toBe(400);
      expect(JSON.stringify(missing.body)).toContain('enabled');
      const wrongType = await cluster.b.api('PUT', '/ag/api/v1/maintenance', { body: { enabled: 'yes' } });
      expect(wrongType.status).toBe(400);
      expect(JSON.stringify(wrongType.body)).toContain('must be true or false');
      expect((await cluster.b.state())?.maintenance).toBe(false);
    });
  });
}

describeFor('embedded', null);
describeFor('bind', bindMissing);
