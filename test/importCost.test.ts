/**
 * What importing the package costs: the main entry loads neither zod nor fastify at import (zod is loaded on first
 * use through src/api/lazyZod.ts, fastify only by the http entry and a node that serves). Checked on the build in
 * fresh node processes, from the modules they actually loaded: every URL the ESM loader resolved (a `--import` hook,
 * test/support/recordModules.mjs) and every CommonJS module in `require.cache`. `npm test` builds first.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEER_MESSAGE_TYPES, peerMessageSchema } from '../src/peer/peerMessageSchema.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const mainEntry = pathToFileURL(join(root, 'dist', 'src', 'index.js')).href;
const recorder = join(root, 'test', 'support', 'recordModules.mjs');
let scratch: string;

beforeAll(() => {
  if (!existsSync(fileURLToPath(mainEntry))) throw new Error('dist/ is missing: run npm run build first (npm test does).');
  scratch = mkdtempSync(join(tmpdir(), 'ag-import-cost-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Loaded {
  /** Every module URL the ESM loader resolved. */
  readonly esm: readonly string[];
  /** Every file in `require.cache` at the end. */
  readonly cjs: readonly string[];
}

/** Runs `body` (ES module code; `entry` is the main entry's namespace) in a fresh node and returns what it loaded. */
async function modulesLoadedBy(name: string, body: string): Promise<Loaded> {
  const log = join(scratch, `${name}.log`);
  const script = `
import { createRequire } from 'node:module';
const entry = await import(${JSON.stringify(mainEntry)});
${body}
process.stdout.write(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', pathToFileURL(recorder).href, '--input-type=module', '-e', script], {
    cwd: root,
    env: { ...process.env, AG_MODULE_LOG: log },
  });
  return { esm: readFileSync(log, 'utf8').split('\n').filter((line) => line !== ''), cjs: JSON.parse(stdout) as string[] };
}

/** The loaded files of package `name` (its own node_modules folder), ESM URLs and CommonJS paths together. */
function filesOf(loaded: Loaded, name: string): string[] {
  const folder = `/node_modules/${name}/`;
  return [...loaded.esm.map((url) => (url.startsWith('file:') ? fileURLToPath(url) : url)), ...loaded.cjs].filter((file) => file.includes(folder));
}

describe('importing the main entry', () => {
  it('loads neither zod nor fastify (the recorder does see what it loads: the entry and xstate)', async () => {
    const loaded = await modulesLoadedBy('import', '');
    expect(loaded.esm).toContain(mainEntry);
    expect(filesOf(loaded, 'xstate').length).toBeGreaterThan(0);
    expect(filesOf(loaded, 'zod')).toEqual([]);
    expect(filesOf(loaded, 'fastify')).toEqual([]);
  }, 30_000);

  it('loads zod on first use, one copy only (the CommonJS build, through lazyZod)', async () => {
    const loaded = await modulesLoadedBy('first-use', `entry.loadSettings({ node_id: 'a', external_ipv4_address: '127.0.0.2' });`);
    const zodFiles = filesOf(loaded, 'zod');
    expect(zodFiles.length).toBeGreaterThan(0);
    expect(zodFiles.filter((file) => !file.endsWith('.cjs')), 'zod files not from its CommonJS build').toEqual([]);
    expect(filesOf(loaded, 'fastify')).toEqual([]);
  }, 30_000);
});

describe('the lazy peer message schema', () => {
  it('accepts exactly the message types PEER_MESSAGE_TYPES lists, in its order', () => {
    expect(peerMessageSchema().options.map((option) => option.shape.type.value)).toEqual([...PEER_MESSAGE_TYPES]);
    expect(peerMessageSchema()).toBe(peerMessageSchema());
  });
});
