/**
 * The layering of README's "Layout" section, checked on the imports themselves (read with the TypeScript
 * compiler's parser, type-only imports included): `machines/` imports only `src/api` and its own files; no two
 * modules import each other, directly or around a loop; each folder of `src/` imports only the folders before it in
 * the order README writes down. Each rule is also run on a small set of modules that break it, so a rule that
 * cannot fail would fail here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { folderOf, importCycles, importEdges, orderViolations, parseFolderOrder, readModules, type ImportEdge } from './support/importGraph.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The order as README's layout section states it: the line `api < ... < src/index.ts`. */
function documentedOrder(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const layout = readme.slice(readme.indexOf('\n## Layout'));
  const line = layout.split('\n').find((text) => text.startsWith('api <'));
  if (line === undefined) throw new Error("README's Layout section has no line 'api < ...' stating the folder order");
  return line;
}

/** The imports of `machines/` that reach outside it and `src/api`. */
function machineViolations(edges: readonly ImportEdge[]): string[] {
  return edges
    .filter(({ from, to }) => folderOf(from) === 'machines' && folderOf(to) !== 'machines' && !to.startsWith('src/api/'))
    .map(({ from, to }) => `${from} -> ${to}`);
}

const modules = readModules(root, ['src', 'machines']);
const { edges, unresolved } = importEdges(modules);

describe('the layering of the repository', () => {
  it('reads every import of src/ and machines/ (each relative one names a module there)', () => {
    expect(modules.size).toBeGreaterThan(100);
    expect(edges.length).toBeGreaterThan(300);
    expect(unresolved).toEqual([]);
  });

  it('machines/ imports only src/api and its own files', () => {
    expect(edges.some(({ from, to }) => from.startsWith('machines/') && to.startsWith('src/api/')), 'the rule sees machines/ -> src/api').toBe(true);
    expect(machineViolations(edges)).toEqual([]);
  });

  it('has no import cycle between modules', () => {
    expect(importCycles(edges)).toEqual([]);
  });

  it("each folder imports only the folders before it in README's order", () => {
    const ranks = parseFolderOrder(documentedOrder());
    const folders = new Set([...modules.keys()].map(folderOf));
    expect([...folders].filter((folder) => !ranks.has(folder)), 'folders missing from the order').toEqual([]);
    expect(orderViolations(edges, ranks)).toEqual([]);
  });
});

describe('each rule fails on a module that breaks it', () => {
  // A small repository: every rule is broken once, by a file named for what it does wrong.
  const bad = new Map<string, string>([
    ['src/api/errors.ts', "export class E extends Error {}"],
    ['src/api/upward.ts', "import { run } from '../node/run.js';\nexport const x = run;"],
    ['src/dns/client.ts', "import type { E } from '../api/errors.js';\nexport type T = E;"],
    ['src/node/run.ts', "import { T } from '../dns/client.js';\nexport const run = (t: T) => t;"],
    ['src/node/a.ts', "export { b } from './b.js';\nexport const a = 1;"],
    ['src/node/b.ts', "export const b = async () => (await import('./a.js')).a;"],
    ['machines/rules.ts', "import { E } from '../src/api/errors.js';\nimport type { T } from '../src/dns/client.js';\nexport const r = (t: T) => new E(String(t));"],
    ['src/stray/thing.ts', "import { E } from '../api/errors.js';\nexport const s = E;"],
  ]);
  const { edges: badEdges, unresolved: badUnresolved } = importEdges(bad);

  it('reads static, type-only, re-exported and dynamic imports', () => {
    expect(badUnresolved).toEqual([]);
    expect(badEdges).toContainEqual({ from: 'src/dns/client.ts', to: 'src/api/errors.ts', typeOnly: true });
    expect(badEdges).toContainEqual({ from: 'src/node/a.ts', to: 'src/node/b.ts', typeOnly: false });
    expect(badEdges).toContainEqual({ from: 'src/node/b.ts', to: 'src/node/a.ts', typeOnly: false });
  });

  it('machines/ importing src/dns', () => {
    expect(machineViolations(badEdges)).toEqual(['machines/rules.ts -> src/dns/client.ts']);
  });

  it('a cycle through a dynamic import and one through a re-export', () => {
    expect(importCycles(badEdges)).toEqual([['src/node/a.ts', 'src/node/b.ts']]);
    const loop: ImportEdge[] = [
      { from: 'x.ts', to: 'y.ts', typeOnly: true },
      { from: 'y.ts', to: 'z.ts', typeOnly: false },
      { from: 'z.ts', to: 'x.ts', typeOnly: false },
      { from: 'z.ts', to: 'w.ts', typeOnly: false },
    ];
    expect(importCycles(loop)).toEqual([['x.ts', 'y.ts', 'z.ts']]);
  });

  it('an upward import, an import within one rank, and a folder missing from the order', () => {
    const ranks = parseFolderOrder('api < machines < dns, peer < node < src/index.ts');
    expect(ranks.get('src')).toBe(4);
    expect(orderViolations(badEdges, ranks)).toEqual([
      'src/api/upward.ts -> src/node/run.ts (api may not import node)',
      'machines/rules.ts -> src/dns/client.ts (machines may not import dns)',
      'src/stray/thing.ts -> src/api/errors.ts (folder stray is not in the order)',
    ]);
    expect(orderViolations([{ from: 'src/dns/a.ts', to: 'src/peer/b.ts', typeOnly: false }], ranks)).toEqual(['src/dns/a.ts -> src/peer/b.ts (dns may not import peer)']);
    expect(() => parseFolderOrder('api < no-such/folder')).toThrow(/not a folder name/);
  });
});
