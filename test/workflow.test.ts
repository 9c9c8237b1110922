/**
 * `agctl start --workflow <module>`: workflow code runs in the node's process and sees every event from the first.
 * Real processes (two `agctl start` nodes over the embedded DNS server); the workflow is a module of its own that
 * imports `availability-group` through the package's exports (a node_modules symlink to this repo, as installed), so
 * this needs the built package (`npm run build`; `npm test` builds first).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgctlProcess, freePort, waitFor } from '../src/cli/agctlProcess.js';
import { startCluster, TEST_PORTS, type TestCluster } from './support/processes.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TIMERS = { heartbeat: 0.2, check: 0.2, absence: 1.2 };

/** What the workflow writes, one JSON line per event, to `<WORKFLOW_OUT>/<node id>.jsonl`. */
const WORKFLOW = `
import { appendFileSync } from 'node:fs';
import { EventId, getNodeState, requirePrimary, subscribe } from 'availability-group';

const record = (entry) => appendFileSync(process.env.WORKFLOW_OUT + '/' + getNodeState().nodeId + '.jsonl', JSON.stringify(entry) + '\\n');
subscribe(EventId.NODE_ROLE_CHANGED, async ({ previous, role, new: now }) => {
  record({ previous, role, new: now });
  if (role === 'primary') record({ work: await requirePrimary(async ({ epoch }) => 'primary work at epoch ' + epoch) });
});
`;

let work: string;
let cluster: TestCluster;
beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'src', 'index.js'))) throw new Error('dist/ is missing: run npm run build first (npm test does).');
  work = await mkdtemp(join(tmpdir(), 'ag-workflow-'));
  await mkdir(join(work, 'node_modules'));
  await symlink(ROOT, join(work, 'node_modules', 'availability-group'), 'dir');
  await writeFile(join(work, 'workflow.mjs'), WORKFLOW);
  await writeFile(join(work, 'broken.mjs'), "throw new Error('the workflow failed as it loaded');\n");
  cluster = await startCluster('embedded', TIMERS, { nodeEnv: { WORKFLOW_OUT: work } });
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

/** The workflow's lines for `node` so far. */
async function seen(node: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(work, `${node}.jsonl`), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('agctl start --workflow', () => {
  it('imports the workflow before the node starts: its subscriber sees every role from the first (previous null) on', async () => {
    const deadline = TIMERS.absence * 1000 * 20;
    await cluster.a.start(['--create-group', '--workflow', join(work, 'workflow.mjs')]);
    await cluster.a.waitForState('acting Primary', (state) => state.acting_primary === true, deadline);
    await cluster.b.start(['--join', '--workflow', join(work, 'workflow.mjs')]);
    await cluster.b.waitForState('Secondary', (state) => state.node_role === 'secondary', deadline);
    await waitFor('a to record its Primary-only work', async () => (await seen('a')).length >= 3, deadline);
    await waitFor('b to see itself Secondary', async () => (await seen('b')).length >= 2, deadline);
    expect((await seen('a')).slice(0, 3)).toEqual([
      { previous: null, role: 'not_in_group', new: 'not_in_group' },
      { previous: 'not_in_group', role: 'primary', new: 'primary' },
      { work: 'primary work at epoch 1' },
    ]);
    expect((await seen('b')).slice(0, 2)).toEqual([
      { previous: null, role: 'not_in_group', new: 'not_in_group' },
      { previous: 'not_in_group', role: 'secondary', new: 'secondary' },
    ]);
    // The workflow was loaded before the node started, in the node's own log.
    const messages = cluster.a.process!.logs.map((line) => line.msg);
    expect(messages.indexOf('workflow loaded')).toBeGreaterThanOrEqual(0);
    expect(messages.indexOf('workflow loaded')).toBeLessThan(messages.indexOf('node started'));

    // The Primary dies: b's workflow sees the takeover and does Primary-only work.
    await cluster.a.process!.kill('SIGKILL');
    const changes = async () => (await seen('b')).filter((entry) => 'role' in entry);
    await waitFor('b to see itself take over', async () => (await changes()).at(-1)?.role === 'primary', deadline);
    await waitFor('b to record its Primary-only work', async () => 'work' in ((await seen('b')).at(-1) ?? {}), deadline);
    // Every role once, chained: each change starts where the one before ended.
    const roles = await changes();
    roles.forEach((entry, i) => expect(entry.previous).toBe(i === 0 ? null : roles[i - 1]!.role));
    expect((await seen('b')).at(-1)!.work).toMatch(/^primary work at epoch \d+$/);
    expect(await cluster.b.process!.kill('SIGTERM')).toBe(0);
  }, 120_000);

  it.each([
    ['a module that throws as it loads', 'broken.mjs', 'the workflow failed as it loaded'],
    ['a module that does not exist', 'missing.mjs', 'Cannot find module'],
  ])('%s stops the start with exit 1 and a message naming the module', async (_what, file, reason) => {
    const port = await freePort(['127.0.0.4'], TEST_PORTS);
    const config = join(work, `refused-${file}.json`);
    await writeFile(
      config,
      JSON.stringify({ node_id: 'c', external_ipv4_address: '127.0.0.4', external_port: port, dns_server: '127.0.0.1:5353', api_token: 'an-api-token-0123456789', peer_secret: 'a-peer-secret-0123456789' }),
    );
    const node = AgctlProcess.spawn('c', ['start', '--config', config, '--workflow', join(work, file)]);
    expect(await node.exited()).toBe(1);
    expect(node.stderr).toContain(`agctl start: The workflow module ${join(work, file)} could not be loaded: `);
    expect(node.stderr).toContain(reason);
    expect(node.logs.map((line) => line.msg)).not.toContain('node started');
  }, 30_000);
});
