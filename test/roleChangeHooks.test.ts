/**
 * The role-change hook runner with real child processes: arguments and environment, order and one run at a time,
 * the timeout killing the hook's whole process group, output in the log (bounded), the counts /metrics serves, and
 * a hook that hangs delaying neither the statechart nor other subscribers. Plus the two settings.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventId, NodeRole } from '../src/api/constants.js';
import type { NodeRoleChanged } from '../src/api/events.js';
import { NodeMetrics } from '../src/http/nodeMetrics.js';
import { waitFor } from '../src/cli/agctlProcess.js';
import { createNode } from '../src/node/createNode.js';
import { inMemoryPorts } from '../src/node/inMemoryPorts.js';
import { RoleChangeHooks, type RoleChangeHookRun, type RoleChangeHooksOptions } from '../src/node/roleChangeHooks.js';
import { groupSettingsOf, loadSettings } from '../src/node/settings.js';
import { capturingLogger } from './support/capturingLogger.js';
import { settingsIssuesOf } from './support/settingsIssues.js';

/**
 * The hook under test, run with node: `hook.mjs <out-file> <mode>`, then the four arguments the runner appends. It
 * appends one JSON line to the out file per run: its arguments, the AG_ variables and its start and end on the
 * machine's monotonic clock (the same in every process).
 */
const HOOK_SCRIPT = `
import { appendFileSync } from 'node:fs';
const [out, mode, ...args] = process.argv.slice(2);
const mono = () => Number(process.hrtime.bigint()) / 1e6;
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('AG_')));
const start = mono();
const record = () => appendFileSync(out, JSON.stringify({ args, env, start, end: mono(), pid: process.pid }) + '\\n');
const hang = () => setInterval(() => undefined, 1000);
if (mode === 'record') record();
else if (mode === 'slow') setTimeout(record, 150);
else if (mode === 'fail') { process.stdout.write('hello stdout'); process.stderr.write('oops stderr'); process.exitCode = 3; }
else if (mode === 'loud') { process.stdout.write('x'.repeat(100000)); }
else if (mode === 'hang-first') { if (process.env.AG_PREVIOUS_ROLE === 'none') hang(); else record(); }
`;

/** Shell hooks (they start in milliseconds, so a short timeout finds them running): `$0` is the out file. */
const SHELL_HOOKS = {
  /** Leaves a grandchild in its process group, both hanging: the timeout must take it as well. */
  hangFamily: 'sleep 60 & echo $! > "$0.grandchild"; wait',
  /** Ignores SIGTERM (its sleeps inherit that): only SIGKILL ends it. */
  stubborn: 'trap "" TERM; : > "$0.ready"; while :; do sleep 0.1; done',
} as const;

let dir: string;
let script: string;
let outCounter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ag-hooks-'));
  script = join(dir, 'hook.mjs');
  await writeFile(script, HOOK_SCRIPT);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A runner of the test hook in `mode` (or of a shell hook), writing to a fresh out file. */
function hooksFor(mode: string | { shell: string }, options: Partial<RoleChangeHooksOptions> = {}) {
  const out = join(dir, `out-${++outCounter}.jsonl`);
  const { logger, lines } = capturingLogger();
  const runs: RoleChangeHookRun[] = [];
  const command = typeof mode === 'string' ? [process.execPath, script, out, mode] : ['/bin/sh', '-c', mode.shell, out];
  const hooks = new RoleChangeHooks({ command, timeoutMs: 10_000, nodeId: 'a', logger, onRun: (run) => runs.push(run), ...options });
  const recorded = (): Record<string, any>[] => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line)) : []);
  return { hooks, out, lines, runs, recorded };
}

/** Whether `pid` is gone (or a zombie nobody reaped: it runs no more). */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('role-change hooks', () => {
  it('runs the command with the new role, the previous role, the epoch and the group appended, and the same in AG_ variables', async () => {
    const { hooks, recorded, runs } = hooksFor('record');
    hooks.enqueue({ role: NodeRole.PRIMARY, previous: NodeRole.SECONDARY, epoch: 3, group: 'app.example.test' });
    hooks.enqueue({ role: NodeRole.SECONDARY, previous: null, epoch: 0, group: '' });
    await hooks.idle();
    const [first, second] = recorded();
    expect(first!.args).toEqual(['primary', 'secondary', '3', 'app.example.test']);
    expect(first!.env).toMatchObject({ AG_ROLE: 'primary', AG_PREVIOUS_ROLE: 'secondary', AG_EPOCH: '3', AG_GROUP: 'app.example.test', AG_NODE_ID: 'a' });
    // The first notification after a start has no previous role: `none`.
    expect(second!.args).toEqual(['secondary', 'none', '0', '']);
    expect(second!.env).toMatchObject({ AG_ROLE: 'secondary', AG_PREVIOUS_ROLE: 'none', AG_EPOCH: '0', AG_GROUP: '' });
    expect(runs.map((run) => run.result)).toEqual(['success', 'success']);
    expect(hooks.counts).toEqual({ success: 2, failure: 0, timeout: 0, dropped: 0 });
  });

  it('runs the hooks in the order of the changes, one at a time', async () => {
    const { hooks, recorded } = hooksFor('slow');
    for (let epoch = 1; epoch <= 4; epoch += 1) hooks.enqueue({ role: epoch % 2 === 0 ? NodeRole.SECONDARY : NodeRole.PRIMARY, previous: null, epoch, group: 'g.example.test' });
    expect(hooks.busy).toBe(true);
    await hooks.idle();
    const runs = recorded();
    expect(runs.map((run) => run.args[2])).toEqual(['1', '2', '3', '4']);
    for (let index = 1; index < runs.length; index += 1) expect(runs[index]!.start).toBeGreaterThanOrEqual(runs[index - 1]!.end);
  });

  it('kills a hook that hangs at its timeout, with its whole process group', async () => {
    const timeoutMs = 400;
    const killGraceMs = 300;
    const { hooks, out, runs, lines } = hooksFor({ shell: SHELL_HOOKS.hangFamily }, { timeoutMs, killGraceMs });
    const startedAt = performance.now();
    hooks.enqueue({ role: NodeRole.PRIMARY, previous: null, epoch: 1, group: 'g.example.test' });
    const grandchild = Number(await waitFor('the grandchild pid', () => existsSync(`${out}.grandchild`) && readFileSync(`${out}.grandchild`, 'utf8'), 10_000));
    expect(processGone(grandchild)).toBe(false);
    await hooks.idle();
    const tookMs = performance.now() - startedAt;
    expect(runs[0]).toMatchObject({ result: 'timeout', signal: 'SIGTERM', exitCode: null });
    // Killed at the timeout, not later than the grace after it (plus slack for a loaded machine).
    expect(tookMs).toBeGreaterThanOrEqual(timeoutMs);
    expect(tookMs).toBeLessThan(timeoutMs + killGraceMs + 2000);
    await waitFor('the grandchild to be killed with the group', () => processGone(grandchild), 2000);
    expect(hooks.counts.timeout).toBe(1);
    expect(lines.some((line) => line.level === 40 && line.msg.startsWith('role-change hook timed out') && line.result === 'timeout')).toBe(true);
  });

  it('sends SIGKILL after the grace to a hook that ignores SIGTERM', async () => {
    const { hooks, out, runs } = hooksFor({ shell: SHELL_HOOKS.stubborn }, { timeoutMs: 400, killGraceMs: 200 });
    hooks.enqueue({ role: NodeRole.PRIMARY, previous: null, epoch: 1, group: 'g.example.test' });
    await waitFor('the hook to trap SIGTERM', () => existsSync(`${out}.ready`), 10_000);
    await hooks.idle();
    expect(runs[0]).toMatchObject({ result: 'timeout', signal: 'SIGKILL' });
  });

  it('logs what a failing hook wrote, and its exit status', async () => {
    const { hooks, lines, runs } = hooksFor('fail');
    hooks.enqueue({ role: NodeRole.SECONDARY, previous: NodeRole.PRIMARY, epoch: 2, group: 'g.example.test' });
    await hooks.idle();
    expect(runs[0]).toMatchObject({ result: 'failure', exitCode: 3, stdout: 'hello stdout', stderr: 'oops stderr' });
    const line = lines.find((each) => each.msg === 'role-change hook failed');
    expect(line).toMatchObject({ level: 40, result: 'failure', exitCode: 3, stdout: 'hello stdout', stderr: 'oops stderr', hook: { role: 'secondary', previous: 'primary', epoch: 2 } });
  });

  it('keeps only the first bytes of a loud hook in the log', async () => {
    const { hooks, lines } = hooksFor('loud', { maxOutputBytes: 1000 });
    hooks.enqueue({ role: NodeRole.PRIMARY, previous: null, epoch: 1, group: 'g.example.test' });
    await hooks.idle();
    const line = lines.find((each) => each.msg === 'role-change hook succeeded');
    expect(line!.stdout.startsWith('x'.repeat(1000))).toBe(true);
    expect(line!.stdout).toContain('99000 more bytes not kept');
    expect(line!.stdout.length).toBeLessThan(1100);
  });

  it('counts a command that cannot start as a failure, naming why', async () => {
    const { logger, lines } = capturingLogger();
    const runs: RoleChangeHookRun[] = [];
    const hooks = new RoleChangeHooks({ command: [join(dir, 'no-such-hook')], timeoutMs: 5000, nodeId: 'a', logger, onRun: (run) => runs.push(run) });
    hooks.enqueue({ role: NodeRole.PRIMARY, previous: null, epoch: 1, group: 'g.example.test' });
    await hooks.idle();
    expect(runs[0]).toMatchObject({ result: 'failure', exitCode: null });
    expect(runs[0]!.error).toContain('ENOENT');
    expect(lines.find((line) => line.msg === 'role-change hook failed')?.error).toContain('ENOENT');
  });

  it('serves the counts as ag_hook_runs_total{result} in /metrics', async () => {
    const { hooks } = hooksFor('record');
    const failing = hooksFor('fail').hooks;
    hooks.enqueue({ role: NodeRole.PRIMARY, previous: null, epoch: 1, group: 'g.example.test' });
    hooks.enqueue({ role: NodeRole.SECONDARY, previous: NodeRole.PRIMARY, epoch: 2, group: 'g.example.test' });
    failing.enqueue({ role: NodeRole.PRIMARY, previous: null, epoch: 1, group: 'g.example.test' });
    await Promise.all([hooks.idle(), failing.idle()]);
    const node = createNode({ node_id: 'a', external_ipv4_address: '127.0.0.2' }, inMemoryPorts());
    const counts = () => {
      const [ok, bad] = [hooks.counts, failing.counts];
      return { success: ok.success + bad.success, failure: ok.failure + bad.failure, timeout: ok.timeout + bad.timeout, dropped: ok.dropped + bad.dropped };
    };
    const text = await new NodeMetrics(node, { hookRuns: counts }).render();
    expect(text).toMatch(/^ag_hook_runs_total\{result="success"\} 2$/m);
    expect(text).toMatch(/^ag_hook_runs_total\{result="failure"\} 1$/m);
    expect(text).toMatch(/^ag_hook_runs_total\{result="timeout"\} 0$/m);
    // A node without a hook has no such metric.
    expect(await new NodeMetrics(node).render()).not.toContain('ag_hook_runs_total');
  });

  it('drops the oldest waiting change when too many wait, and counts it', async () => {
    const { hooks, recorded } = hooksFor('slow', { maxQueued: 2 });
    for (let epoch = 1; epoch <= 5; epoch += 1) hooks.enqueue({ role: NodeRole.PRIMARY, previous: null, epoch, group: 'g.example.test' });
    await hooks.idle();
    // Runs start on a later turn of the event loop: all five waited, and 1, 2, 3 made room for 4 and 5.
    expect(recorded().map((run) => run.args[2])).toEqual(['4', '5']);
    expect(hooks.counts).toMatchObject({ success: 2, dropped: 3 });
  });

  it('a hook that hangs delays neither the statechart nor the next NODE_ROLE_CHANGED reaching other subscribers', async () => {
    const timeoutMs = 3000;
    const { hooks, recorded, runs } = hooksFor('hang-first', { timeoutMs, killGraceMs: 200 });
    const node = createNode({ node_id: 'a', external_ipv4_address: '127.0.0.2', group_fqdn: 'app.example.test' }, inMemoryPorts());
    hooks.attach(node);
    const seen: NodeRoleChanged[] = [];
    node.subscribe(EventId.NODE_ROLE_CHANGED, (event) => void seen.push(event));
    const startedAt = performance.now();
    try {
      await node.start();
      await node.createGroup();
      await node.leaveGroup();
      await waitFor('the four role changes at the other subscriber', () => seen.length === 4, 2000);
      const tookMs = performance.now() - startedAt;
      // The first hook (for the start) still hangs: nothing has finished, yet every change went through (leaving
      // makes a Primary a Secondary first).
      expect(runs).toEqual([]);
      expect(recorded()).toEqual([]);
      expect(hooks.busy).toBe(true);
      expect(tookMs).toBeLessThan(timeoutMs);
      expect(seen.map((event) => [event.previous, event.new])).toEqual([
        [null, NodeRole.NOT_IN_GROUP],
        [NodeRole.NOT_IN_GROUP, NodeRole.PRIMARY],
        [NodeRole.PRIMARY, NodeRole.SECONDARY],
        [NodeRole.SECONDARY, NodeRole.NOT_IN_GROUP],
      ]);
    } finally {
      await node.stop({ handOver: false });
    }
    await hooks.close();
    // Then the queue ran on, in order: the hanging one timed out, the other two ran.
    expect(runs.map((run) => run.result)).toEqual(['timeout', 'success', 'success', 'success']);
    expect(recorded().map((run) => [run.args[0], run.args[1], run.args[3]])).toEqual([
      ['primary', 'not_in_group', 'app.example.test'],
      ['secondary', 'primary', 'app.example.test'],
      ['not_in_group', 'secondary', 'app.example.test'],
    ]);
  });
});

describe('role-change hook settings', () => {
  const base = { node_id: 'a', external_ipv4_address: '127.0.0.2' };
  const issuesOf = (input: Record<string, unknown>) => settingsIssuesOf(base, input);

  it('takes a command array and a timeout, 30 s by default', () => {
    expect(loadSettings(base)).toMatchObject({ onRoleChange: undefined, onRoleChangeTimeout: 30 });
    expect(loadSettings({ ...base, on_role_change: ['/usr/local/bin/hook', '--flag'], on_role_change_timeout: 2.5 })).toMatchObject({ onRoleChange: ['/usr/local/bin/hook', '--flag'], onRoleChangeTimeout: 2.5 });
  });

  it('refuses a bad command or timeout, naming the field and the rule', () => {
    expect(issuesOf({ on_role_change: '/usr/local/bin/hook primary' })).toEqual([{ field: 'on_role_change', rule: expect.stringContaining('must be an array of strings') }]);
    expect(issuesOf({ on_role_change: [] })).toEqual([{ field: 'on_role_change', rule: 'must name the command to run: an array of at least one string' }]);
    expect(issuesOf({ on_role_change: ['/bin/hook', ''] })).toEqual([{ field: 'on_role_change.1', rule: 'must not hold an empty string' }]);
    expect(issuesOf({ on_role_change: ['/bin/hook', 3] })).toEqual([{ field: 'on_role_change.1', rule: 'must hold strings only: the command, then its arguments' }]);
    expect(issuesOf({ on_role_change_timeout: 0 })).toEqual([{ field: 'on_role_change_timeout', rule: 'must be more than 0 seconds' }]);
    expect(issuesOf({ on_role_change_timeout: 100_000 })).toEqual([{ field: 'on_role_change_timeout', rule: 'must be at most 86400 seconds (1 day)' }]);
  });

  it('are node settings: a Primary never hands them to its Secondary', () => {
    const settings = loadSettings({ ...base, group_fqdn: 'app.example.test', on_role_change: ['/bin/hook'], on_role_change_timeout: 5 });
    expect(Object.keys(groupSettingsOf(settings.record))).not.toContain('on_role_change');
    expect(Object.keys(groupSettingsOf(settings.record))).not.toContain('on_role_change_timeout');
  });
});
