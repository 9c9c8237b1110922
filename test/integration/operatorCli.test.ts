/**
 * The operator command line against real `agctl start` processes over the embedded DNS server: `agctl status` with
 * one config shows both nodes; `agctl failover` prints its progress and exits 0 once the other node acts; a failover
 * the node answers but cannot complete says so (exit 1), an unreachable node exit 3; `--no-wait` returns while a
 * forced takeover still waits out the old lease; `agctl config validate` exits 78 listing every problem. And
 * contrib/agctl.service is a unit file with the expected keys (checked by systemd-analyze verify where present).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../../src/cli/agctlProcess.js';
import { failoverTimeoutMs } from '../../src/cli/failoverTimeout.js';
import { runAgctl, startCluster, type TestCluster } from '../support/processes.js';

/** Slow enough that a forced takeover waits over a second for the old lease (lease 2.25 s): --no-wait is seen returning first. */
const TIMERS = { heartbeat: 0.5, check: 0.5, absence: 3 };
const GROUP_SETTINGS = { health_report_interval: TIMERS.heartbeat, health_check_interval: TIMERS.check, allowed_absence_interval: TIMERS.absence, dns_server: '127.0.0.1:53' };
/** What `agctl failover` itself waits at most with these settings, plus the process's start. */
const FAILOVER_DEADLINE_MS = failoverTimeoutMs(GROUP_SETTINGS) + 15_000;

/** Runs `agctl <args>` to its exit (killed at the deadline); stdout as lines. */
const agctl = (name: string, args: readonly string[], deadlineMs?: number) => runAgctl(name, args, { deadlineMs });

/** A table row's cells. */
const cells = (line: string | undefined) => (line ?? '').split(/\s{2,}/);

describe('agctl status and agctl failover against two node processes', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster('embedded', TIMERS, { form: true });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it("agctl status with one node's config shows both nodes", async () => {
    const { code, lines, stderr } = await agctl('status', ['status', '--config', cluster.a.configFile]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(lines[0]).toBe(`Group: ${cluster.groupFqdn}`);
    expect(cells(lines[1]).slice(0, 4)).toEqual(['NODE', 'ADDRESS', 'ROLE', 'ACTING']);
    expect(cells(lines[2]).slice(0, 5)).toEqual(['a', cluster.a.url, 'primary', 'yes', '1']);
    expect(cells(lines[3]).slice(0, 6)).toEqual(['b', cluster.b.url, 'secondary', 'no', '1', 'connected']);
    expect(cells(lines[3])[6]).toMatch(/^direct \d+\.\ds ago$/);
  });

  it('agctl failover on the Primary prints its progress and exits 0 once b acts', async () => {
    const started = performance.now();
    const { code, lines, stderr } = await agctl('failover', ['failover', '--config', cluster.a.configFile], FAILOVER_DEADLINE_MS);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // The timeout is derived from the group settings GET /group serves (17.5 s with these timers).
    expect(lines[0]).toMatch(/^\[\+0\.\d\ds\] failover asked on a \(acting Primary, epoch 1\): it hands over to b; waiting up to ([\d.]+) s$/);
    expect(lines[0]).toContain(`waiting up to ${failoverTimeoutMs(GROUP_SETTINGS) / 1000} s`);
    const steps = lines.map((line) => line.replace(/^\[\+\d+\.\d\ds\] /, ''));
    expect(steps).toContain("DNS updated: the group's records name b (epoch 2)");
    expect(steps.at(-1)).toBe('b is acting Primary (epoch 2)');
    expect(steps.indexOf("DNS updated: the group's records name b (epoch 2)")).toBeLessThan(steps.length - 1);
    // Exits once b acts: b acts now, and a follows it as Secondary.
    expect(await cluster.b.state()).toMatchObject({ acting_primary: true, epoch: 2 });
    expect((await cluster.records()).address).toBe(cluster.b.address);
    expect(performance.now() - started).toBeLessThan(FAILOVER_DEADLINE_MS);
    await cluster.a.waitForState('Secondary with direct heartbeats', (state) => state.node_role === 'secondary' && state.heartbeat_method === 'direct');
  });

  it('a failover the node answers but cannot complete says so, and exits 1 (not "cannot reach")', async () => {
    // With DNS frozen, b's probe finds a unable to read the records: refused (not_ready) or failed, b keeps acting.
    cluster.dns.pause();
    let result: Awaited<ReturnType<typeof agctl>>;
    try {
      result = await agctl('failover-refused', ['failover', '--config', cluster.b.configFile], FAILOVER_DEADLINE_MS);
    } finally {
      cluster.dns.resume();
    }
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^agctl failover: the failover did not complete \((refused|failed): \w+\): (409|503) Manual failover did not complete: /);
    expect(result.stderr).not.toMatch(/^agctl failover: cannot reach/);
    expect(result.lines.at(-1)).toMatch(/now: b \(acting Primary, epoch 2\)$/);
    await cluster.b.waitForState('DNS connected again', (state) => state.node_dns_connection_state === 'connected' && state.acting_primary === true);
    await cluster.a.waitForState('DNS connected again', (state) => state.node_dns_connection_state === 'connected' && state.heartbeat_method === 'direct');
  });

  it('--no-wait returns once the failover is under way, before the new Primary acts', async () => {
    // Cut the direct path: a cannot ask b to step down, so it forces the takeover and waits out b's lease (2.25 s
    // from the last heartbeat it saw through DNS) before it acts.
    await cluster.cutPeerPath({ a: 'both', b: 'both' });
    try {
      await cluster.a.waitForState('heartbeats seen through DNS', (state) => state.heartbeat_method === 'dns');
      const { code, lines, stderr } = await agctl('failover-no-wait', ['failover', '--no-wait', '--config', cluster.a.configFile], FAILOVER_DEADLINE_MS);
      const right = await cluster.a.state();
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(lines.at(-1)).toMatch(/the failover is under way; "agctl status" shows when a acts$/);
      expect(right?.acting_primary).toBe(false);
      await cluster.a.waitForState('acting Primary after the forced takeover', (state) => state.acting_primary === true && state.epoch === 3, FAILOVER_DEADLINE_MS);
    } finally {
      await cluster.healPeerPath();
    }
    await cluster.b.waitForState('Secondary following a', (state) => state.node_role === 'secondary' && state.epoch === 3 && state.heartbeat_method === 'direct', FAILOVER_DEADLINE_MS);
    const { code, lines } = await agctl('status-after', ['status', '--config', cluster.b.configFile]);
    expect(code).toBe(0);
    expect(cells(lines[2]).slice(0, 5)).toEqual(['a', cluster.a.url, 'primary', 'yes', '3']);
    expect(cells(lines[3]).slice(0, 5)).toEqual(['b', cluster.b.url, 'secondary', 'no', '3']);
  });

  it('a --timeout shorter than the handover: exit 4, "did not answer within", and the group settles on one acting Primary', async () => {
    // With the DNS server frozen, b's fresh DNS read for the handover waits at least one DNS attempt (0.5 s here), so
    // no answer, accepted or refused, can come within 0.2 s: the timeout is certain, not a race with a fast handover.
    const epochBefore = (await cluster.a.state())?.epoch as number;
    cluster.dns.pause();
    let result;
    try {
      result = await agctl('failover-timeout', ['failover', '--config', cluster.a.configFile, '--timeout', '0.2'], FAILOVER_DEADLINE_MS);
    } finally {
      cluster.dns.resume();
    }
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^agctl failover: http:\/\/127\.0\.0\.2:\d+ took the request but did not answer within 0\.2 s \(--timeout\): the failover may still complete/);
    expect(result.stderr).not.toContain('cannot reach');
    // Whether the handover completed depends on how long the DNS server stayed frozen: either way, one node acts.
    const settled = async () => {
      const [a, b] = [await cluster.a.state(), await cluster.b.state()];
      if (a === null || b === null) return false;
      const handedOver = b.acting_primary === true && b.epoch === epochBefore + 1 && a.node_role === 'secondary';
      const stayed = a.acting_primary === true && a.epoch === epochBefore && b.node_role === 'secondary' && b.node_dns_connection_state === 'connected';
      return handedOver || stayed;
    };
    await waitFor('one acting Primary after the timed-out failover', settled, FAILOVER_DEADLINE_MS);
  });
});

describe('agctl against nothing, and agctl config validate', () => {
  it('agctl failover to a node that does not listen: exit 3, nothing asked', async () => {
    const port = await freePort(['127.0.0.9'], { from: 18000, to: 18999 });
    const { code, stderr } = await agctl('failover-nobody', ['failover', '--url', `http://127.0.0.9:${port}`, '--token', 'x'.repeat(16)]);
    expect(code).toBe(3);
    expect(stderr).toMatch(/^agctl failover: cannot reach http:\/\/127\.0\.0\.9:\d+: .*ECONNREFUSED.*; nothing was asked\n$/);
  });

  it('agctl status with a node that does not listen: its row says unreachable, exit 1', async () => {
    const port = await freePort(['127.0.0.9'], { from: 18000, to: 18999 });
    const { code, lines } = await agctl('status-nobody', ['status', '--url', `http://127.0.0.9:${port}`, '--token', 'x'.repeat(16)]);
    expect(code).toBe(1);
    expect(cells(lines[2]).slice(1, 3)).toEqual([`http://127.0.0.9:${port}`, 'unreachable']);
  });

  it('agctl config validate: exit 78 listing every problem', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'ag-validate-'));
    try {
      const file = join(dir, 'node.json');
      await writeFile(file, JSON.stringify({ external_ipv4_address: 'localhost', dns_server: '127.0.0.1:0', api_token: 'tiny', peer_secret: 'peer-secret-0123456789', allowed_absence_interval: -1, colour: 'blue' }));
      const { code, stderr } = await agctl('validate', ['config', 'validate', '--config', file]);
      expect(code).toBe(78);
      expect(stderr).toContain(`${file} has 6 problems:`);
      for (const field of ['node_id', 'external_ipv4_address', 'dns_server', 'api_token', 'allowed_absence_interval', 'colour']) expect(stderr).toMatch(new RegExp(`^${field}\\s`, 'm'));
      expect(stderr).toMatch(/^node_id\s+\(missing\)\s+required$/m);
      expect(stderr).not.toContain('tiny');
      const example = await agctl('example', ['config', 'example']);
      await writeFile(file, `${example.stdout}\n`);
      const valid = await agctl('validate-example', ['config', 'validate', '--config', file]);
      expect(valid.code).toBe(0);
      expect(valid.lines[0]).toBe(`ok: ${file}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('contrib/agctl.service', () => {
  const path = new URL('../../contrib/agctl.service', import.meta.url).pathname;
  const text = readFileSync(path, 'utf8');

  /** The unit file as sections of key → values (a key may repeat); throws on a line that is none of comment, section, key=value. */
  function parseUnit(content: string): Map<string, Map<string, string[]>> {
    const sections = new Map<string, Map<string, string[]>>();
    let current: Map<string, string[]> | null = null;
    content.split('\n').forEach((line, index) => {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) return;
      const section = /^\[([A-Za-z]+)\]$/.exec(trimmed);
      if (section !== null) {
        current = new Map();
        sections.set(section[1]!, current);
        return;
      }
      const pair = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(trimmed);
      if (pair === null || current === null) throw new Error(`line ${index + 1} is not a unit file line: ${line}`);
      const values: string[] = current.get(pair[1]!) ?? [];
      values.push(pair[2]!);
      current.set(pair[1]!, values);
    });
    return sections;
  }

  it('parses as a unit file with the expected keys', () => {
    const unit = parseUnit(text);
    expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install']);
    const service = unit.get('Service')!;
    const one = (key: string) => service.get(key)?.join(' ');
    expect(one('Type')).toBe('simple');
    expect(one('ExecStart')).toBe('/usr/bin/env agctl start --config /etc/availability-group/node.json');
    expect(one('Restart')).toBe('on-failure');
    expect(Number(one('RestartSec'))).toBeGreaterThan(0);
    expect(one('RestartPreventExitStatus')).toBe('78');
    expect(one('User')).toBe('availability-group');
    expect(one('ReadWritePaths')).toBe('/var/lib/availability-group');
    for (const key of ['NoNewPrivileges', 'ProtectHome', 'PrivateTmp', 'ProtectKernelTunables', 'RestrictNamespaces']) expect(one(key)).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('KillSignal')).toBe('SIGTERM');
    expect(unit.get('Install')!.get('WantedBy')).toEqual(['multi-user.target']);
    expect(unit.get('Unit')!.get('After')).toEqual(['network-online.target']);
  });

  it('passes systemd-analyze verify without a warning, where systemd is installed', (context) => {
    const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (probe.error !== undefined) {
      context.skip(`systemd-analyze is not installed: ${probe.error.message}`);
      return;
    }
    const verify = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
    // verify exits 0 on many mistakes (an unknown value is "ignored"): any line about this file is a failure.
    expect(verify.stderr.split('\n').filter((line) => line.includes('agctl.service'))).toEqual([]);
    expect(verify.status).toBe(0);
  });
});
