/**
 * Role-change hooks and history with two real `agctl start` processes over the embedded DNS server: a hook script
 * that appends its arguments to a file sees both nodes' role changes of a manual failover; `agctl history` over both
 * configs shows the failover, merged; a node's history survives its restart. The tests share one cluster and run in
 * order.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agctlInvocation } from '../../src/cli/agctlProcess.js';
import { startCluster, waitFor, type TestCluster } from '../support/processes.js';

// Slower than the failover suite's: a lease lost under load would add role changes this suite counts.
const TIMERS = { heartbeat: 0.3, check: 0.3, absence: 2 };
const run = promisify(execFile);

/** The hook: its first argument is the file to append to; the runner appends role, previous role, epoch, group. */
const HOOK = `#!/bin/sh
out="$1"; shift
echo "$AG_NODE_ID $* env:$AG_ROLE/$AG_PREVIOUS_ROLE/$AG_EPOCH/$AG_GROUP/$AG_NODE_ID" >> "$out"
`;

/** Runs `agctl history` with `args`; resolves with its exit code and output. */
async function agctlHistory(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { command, args: prefix } = agctlInvocation();
  try {
    const { stdout, stderr } = await run(command, [...prefix, 'history', ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('role-change hooks and history with two node processes', () => {
  let cluster: TestCluster;
  let hookOut: string;

  const hookLines = async () => (existsSync(hookOut) ? (await readFile(hookOut, 'utf8')).trim().split('\n').filter(Boolean) : []);

  beforeAll(async () => {
    cluster = await startCluster('embedded', TIMERS);
    hookOut = join(cluster.dir, 'hook-runs.txt');
    const script = join(cluster.dir, 'on-role-change.sh');
    await writeFile(script, HOOK);
    await chmod(script, 0o755);
    for (const node of [cluster.a, cluster.b]) {
      const config = JSON.parse(await readFile(node.configFile, 'utf8'));
      await writeFile(node.configFile, JSON.stringify({ ...config, on_role_change: [script, hookOut], on_role_change_timeout: 10 }));
    }
    await cluster.a.start(['--create-group']);
    await cluster.a.waitForState('acting Primary', (state) => state.acting_primary === true);
    await cluster.b.start(['--join']);
    await cluster.b.waitForState('Secondary with direct heartbeats', (state) => state.node_role === 'secondary' && state.heartbeat_method === 'direct');
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs each node\'s hook on its role changes; after a manual failover the file shows both nodes\' changes', async () => {
    const handOver = await cluster.a.api('PUT', '/ag/api/v1/failover');
    expect(handOver).toMatchObject({ status: 200, body: { message: 'Manual failover completed.' } });
    await cluster.b.waitForState('acting Primary', (state) => state.acting_primary === true);
    await cluster.a.waitForState('Secondary', (state) => state.node_role === 'secondary');
    const group = cluster.groupFqdn;
    // Each hook runs within on_role_change_timeout (10 s) of its change.
    const lines = await waitFor(
      "both nodes' failover hooks in the file",
      async () => {
        const all = await hookLines();
        return all.some((line) => line.startsWith('a secondary primary ')) && all.some((line) => line.startsWith('b primary secondary ')) ? all : undefined;
      },
      15_000,
      50,
    );
    // The start, the group formed, the failover: on a not_in_group, primary, secondary; on b not_in_group, secondary, primary.
    const of = (id: string) => lines.filter((line) => line.startsWith(`${id} `)).map((line) => line.split(' ').slice(1, 3).join(' '));
    expect(of('a')).toEqual(['not_in_group none', 'primary not_in_group', 'secondary primary']);
    expect(of('b')).toEqual(['not_in_group none', 'secondary not_in_group', 'primary secondary']);
    const epoch = (await cluster.b.state())!.epoch as number;
    expect(epoch).toBe(2);
    expect(lines).toContain(`b primary secondary ${epoch} ${group} env:primary/secondary/${epoch}/${group}/b`);

    // The run is counted once the hook process has exited, a moment after it wrote its line.
    const metrics = await waitFor('b to count its three runs', async () => {
      const text = String((await cluster.b.api('GET', '/metrics', { token: null })).body);
      return /^ag_hook_runs_total\{result="success"\} 3$/m.test(text) ? text : undefined;
    }, 10_000, 50);
    expect(metrics).toMatch(/^ag_hook_runs_total\{result="failure"\} 0$/m);
    expect(metrics).toMatch(/^ag_hook_runs_total\{result="timeout"\} 0$/m);
  });

  it('agctl history over both configs shows the failover, merged by epoch and time, with each entry\'s node', async () => {
    const json = await agctlHistory(['--config', cluster.a.configFile, '--config', cluster.b.configFile, '--output', 'json']);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const { nodes, entries } = JSON.parse(json.stdout) as { nodes: string[]; entries: Record<string, any>[] };
    expect(nodes).toEqual(['a', 'b']);
    expect(entries.map((entry) => entry.epoch)).toEqual([...entries.map((entry) => entry.epoch)].sort((x, y) => x - y));
    const find = (predicate: (entry: Record<string, any>) => boolean) => entries.find(predicate);
    expect(find((e) => e.node_id === 'a' && e.kind === 'failover' && e.phase === 'asked')).toBeDefined();
    expect(find((e) => e.node_id === 'a' && e.kind === 'failover' && e.phase === 'ended')).toMatchObject({ outcome: 'completed' });
    expect(find((e) => e.node_id === 'b' && e.kind === 'takeover')).toMatchObject({ mode: 'handover', outcome: 'completed', epoch: 2 });
    expect(find((e) => e.node_id === 'b' && e.kind === 'role_changed' && e.new === 'primary')).toMatchObject({ previous: 'secondary', epoch: 2 });
    expect(find((e) => e.node_id === 'a' && e.kind === 'role_changed' && e.new === 'secondary')).toMatchObject({ previous: 'primary' });
    // a's failover was asked before b took over.
    const index = (predicate: (entry: Record<string, any>) => boolean) => entries.findIndex(predicate);
    expect(index((e) => e.node_id === 'a' && e.kind === 'failover' && e.phase === 'asked')).toBeLessThan(index((e) => e.node_id === 'b' && e.kind === 'takeover'));

    const table = await agctlHistory(['--config', cluster.a.configFile, '--config', cluster.b.configFile]);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^TIME +NODE +EPOCH +EVENT +DETAILS$/);
    expect(table.stdout).toMatch(/^\S+ \S+ +b +2 +takeover +completed, mode handover, \d+ ms$/m);
    expect(table.stdout).toMatch(/^\S+ \S+ +a +\d+ +failover +completed$/m);
  });

  it("a node's history survives its restart", async () => {
    const before = (await cluster.a.api('GET', '/ag/api/v1/history')).body.entries as Record<string, any>[];
    expect(before.some((entry) => entry.kind === 'failover')).toBe(true);
    await cluster.a.process!.kill('SIGTERM');
    await cluster.a.start();
    await cluster.a.waitForState('Secondary again', (state) => state.node_role === 'secondary');
    const after = (await cluster.a.api('GET', '/ag/api/v1/history')).body.entries as Record<string, any>[];
    expect(after.slice(0, before.length)).toEqual(before);
    // The restart's own first role, numbered on.
    expect(after[before.length]).toMatchObject({ kind: 'role_changed', previous: null, new: 'secondary', seq: before.at(-1)!.seq + 1 });
    const limited = await cluster.a.api('GET', '/ag/api/v1/history?limit=1');
    expect(limited.body.entries).toHaveLength(1);
    expect((await cluster.a.api('GET', '/ag/api/v1/history?limit=zero')).status).toBe(400);
  });
});
