/**
 * The persisted state is checked at load like a config file: `data_dir/node.json` that is not JSON, not an object,
 * or breaks a field's rule is refused with a `PersistedStateError` naming the file, the field and the rule (never a
 * raw TypeError, never silently ignored); a missing one is a first start. And `data_dir` itself must be a directory
 * this node can create and write, checked before anything starts.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PersistedStateError, SettingsError } from '../src/api/errors.js';
import { FileNodeStore, type PersistedNode } from '../src/node/nodeStore.js';
import { loadSettings } from '../src/node/settings.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ag-store-'));
});
afterEach(async () => {
  await chmod(dir, 0o700).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

/** A valid persisted record: a Secondary of app.example.test at epoch 3. */
function validState(): PersistedNode {
  const settings = loadSettings({ node_id: 'b', external_ipv4_address: '127.0.0.3', group_fqdn: 'app.example.test', dns_server: '127.0.0.1:5353', tsig_name: 'ag-key', tsig_secret: 'c2VjcmV0LXNlY3JldA==' });
  return { settings: settings.record, membership: { inGroup: true, peer: { nodeId: 'a', address: '127.0.0.2', port: 8080, scheme: 'http' }, epoch: 3 } };
}

/** What loading `content` as node.json throws (or returns). */
async function loadText(content: string): Promise<unknown> {
  await writeFile(join(dir, 'node.json'), content);
  return new FileNodeStore(dir).load().catch((error: unknown) => error);
}

describe('loading node.json', () => {
  it('returns null when there is none: a first start', async () => {
    expect(await new FileNodeStore(dir).load()).toBeNull();
  });

  it('returns a valid record as saved', async () => {
    const store = new FileNodeStore(dir);
    await store.save(validState());
    expect(await store.load()).toEqual(validState());
  });

  it.each([
    ['{}', [{ field: 'settings', rule: 'must be an object of settings' }, { field: 'membership', rule: 'must be an object with inGroup, peer and epoch' }]],
    ['null', [{ field: '(file)', rule: 'must be a JSON object with settings and membership' }]],
    ['[]', [{ field: '(file)', rule: 'must be a JSON object with settings and membership' }]],
  ])('refuses %s, naming the file and each missing field', async (content, issues) => {
    const error = await loadText(content);
    expect(error).toBeInstanceOf(PersistedStateError);
    expect((error as PersistedStateError).file).toBe(join(dir, 'node.json'));
    expect((error as PersistedStateError).issues).toEqual(issues);
    expect((error as Error).message).toContain(join(dir, 'node.json'));
  });

  it('refuses text that is not JSON, naming the file', async () => {
    const error = await loadText('{"settings": ');
    expect(error).toBeInstanceOf(PersistedStateError);
    expect((error as PersistedStateError).issues[0]).toMatchObject({ field: '(file)', rule: expect.stringMatching(/^must be JSON/) });
  });

  it.each<[string, (state: any) => void, string, RegExp]>([
    ['a string epoch', (state) => (state.membership.epoch = 'x'), 'membership.epoch', /must be a number/],
    ['a negative epoch', (state) => (state.membership.epoch = -1), 'membership.epoch', /must be 0 or more/],
    ['a fractional epoch', (state) => (state.membership.epoch = 1.5), 'membership.epoch', /must be a whole number/],
    ['inGroup not a boolean', (state) => (state.membership.inGroup = 'yes'), 'membership.inGroup', /must be true or false/],
    ['a peer without an address', (state) => delete state.membership.peer.address, 'membership.peer.address', /must be an IPv4 address/],
    ['a peer port out of range', (state) => (state.membership.peer.port = 0), 'membership.peer.port', /must be from 1 to 65535/],
    ['an unknown field', (state) => (state.membership.leader = 'a'), 'membership.leader', /is not a known field/],
    ['a setting that breaks its rule', (state) => (state.settings.health_report_interval = 'often'), 'settings.health_report_interval', /must be a number of seconds/],
    ['settings that break rule 3', (state) => (state.settings.health_report_interval = 50), 'settings.health_report_interval', /^rule 3: /],
  ])('refuses %s, naming the field and the rule', async (_what, damage, field, rule) => {
    const state = structuredClone(validState()) as any;
    damage(state);
    const error = await loadText(JSON.stringify(state));
    expect(error).toBeInstanceOf(PersistedStateError);
    const issue = (error as PersistedStateError).issues.find((candidate) => candidate.field === field);
    expect(issue?.rule).toMatch(rule);
    expect((error as Error).message).toContain(`${join(dir, 'node.json')} is refused: `);
  });

  it('refuses a node.json that is a directory, naming the file', async () => {
    await mkdir(join(dir, 'node.json'));
    const error = await new FileNodeStore(dir).load().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PersistedStateError);
    expect((error as PersistedStateError).issues[0]?.rule).toMatch(/must be a readable file \(EISDIR\)/);
  });
});

describe('opening data_dir', () => {
  it('creates a missing data_dir (mode 0700) and opens it', async () => {
    const store = await FileNodeStore.open(join(dir, 'new', 'data'));
    await store.save(validState());
    expect(JSON.parse(await readFile(join(dir, 'new', 'data', 'node.json'), 'utf8'))).toEqual(validState());
  });

  /** What opening `path` throws. */
  const openError = (path: string) => FileNodeStore.open(path).then(() => null, (error: unknown) => error);

  it('refuses a data_dir that is a regular file, naming data_dir and the rule', async () => {
    const file = join(dir, 'plain-file');
    await writeFile(file, 'not a directory');
    const error = await openError(file);
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).issues).toEqual([{ field: 'data_dir', rule: `must be a directory: ${file} exists and is not one` }]);
  });

  it('refuses a data_dir that cannot be created (under a regular file)', async () => {
    const file = join(dir, 'plain-file');
    await writeFile(file, 'not a directory');
    const error = await openError(join(file, 'data'));
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).issues[0]).toMatchObject({ field: 'data_dir', rule: expect.stringMatching(/^must be a directory this node can (create|write): .*\((ENOTDIR|EEXIST)\)$/) });
  });

  it.skipIf(process.getuid?.() === 0)('refuses a data_dir this process cannot write (not checkable as root: root writes anywhere)', async () => {
    const readOnly = join(dir, 'read-only');
    await mkdir(readOnly, { mode: 0o500 });
    const error = await openError(readOnly);
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).issues[0]).toMatchObject({ field: 'data_dir', rule: expect.stringMatching(/cannot be written \(EACCES\)/) });
  });

  it('refuses a data_dir whose node.json is not valid, before anything starts', async () => {
    await writeFile(join(dir, 'node.json'), 'null');
    expect(await openError(dir)).toBeInstanceOf(PersistedStateError);
  });
});
