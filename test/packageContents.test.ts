/**
 * What `npm pack` ships, read offline from `npm pack --dry-run --json`: the license, the entry points and bins the
 * package.json names, source maps that resolve (the build emits none: tsconfig.build.json, see docs/operations.md
 * "The installed package"), and runtime dependencies that are exactly what the shipped code imports.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  license: string;
  repository?: { url: string };
  homepage?: string;
  bugs?: { url: string };
  bin: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

/** The optional peer dependencies: features that need them load them with import() and say what to install. */
const OPTIONAL_PEERS = ['elkjs', '@statelyai/inspect', 'fast-check'];

let packed: Set<string>;

beforeAll(async () => {
  if (!existsSync(join(root, 'dist', 'src', 'index.js'))) throw new Error('dist/ is missing: run npm run build first (npm test does).');
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  const [report] = JSON.parse(stdout) as [{ files: { path: string }[] }];
  packed = new Set(report.files.map((file) => file.path));
}, 60_000);

/** Every .ts file under `dir` (relative to the repository). */
function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The package a bare specifier names (`elkjs/lib/x.js` -> `elkjs`, `@scope/name/x` -> `@scope/name`), null for relative and node: ones. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('node:') || specifier.startsWith('/')) return null;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/**
 * The packages the shipped code imports at run time: static (`import x from`, `export ... from`) and dynamic
 * (`import('x')`, and `createRequire(import.meta.url)('x')`, how zod is loaded on first use).
 */
function runtimeImports(): { static: Map<string, string[]>; dynamic: Map<string, string[]> } {
  const found = { static: new Map<string, string[]>(), dynamic: new Map<string, string[]>() };
  const note = (map: Map<string, string[]>, name: string | null, file: string) => name !== null && map.set(name, [...(map.get(name) ?? []), file]);
  for (const file of [...sourceFiles('src'), ...sourceFiles('machines')]) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^;'"]*?\sfrom\s+)?'([^']+)'/gm)) note(found.static, packageOf(match[1]!), file);
    for (const match of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) note(found.dynamic, packageOf(match[1]!), file);
    for (const match of text.matchAll(/\bcreateRequire\([^)]*\)\(\s*'([^']+)'\s*\)/g)) note(found.dynamic, packageOf(match[1]!), file);
  }
  return found;
}

describe('the packed package', () => {
  it('ships the MIT license and says where the project lives', () => {
    expect(packed.has('LICENSE')).toBe(true);
    const license = readFileSync(join(root, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 availability-group contributors\n/);
    expect(pkg.license).toBe('MIT');
    expect(pkg.repository?.url).toBe('git+https://github.com/availability-group/availability-group.git');
    expect(pkg.homepage).toMatch(/^https:\/\/github\.com\/availability-group\/availability-group/);
    expect(pkg.bugs?.url).toBe('https://github.com/availability-group/availability-group/issues');
  });

  it('ships every entry point and bin package.json names, and what the bins import', () => {
    const targets = Object.values(pkg.exports).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target)));
    for (const target of [...targets, ...Object.values(pkg.bin)]) expect(packed, target).toContain(posix.normalize(target));
    expect(Object.keys(pkg.bin).sort()).toEqual(['ag-sim', 'agctl']);
    for (const bin of Object.values(pkg.bin)) {
      const text = readFileSync(join(root, bin), 'utf8');
      expect(text.startsWith('#!/usr/bin/env node\n'), bin).toBe(true);
      for (const match of text.matchAll(/from '(\.\.\/[^']+)'/g)) expect(packed, `${bin} imports ${match[1]}`).toContain(posix.join(posix.dirname(posix.normalize(bin)), match[1]!));
    }
  });

  it('ships no source map that points at a file it does not ship (and the build emits none)', () => {
    const maps = [...packed].filter((file) => file.endsWith('.map'));
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(root, map), 'utf8')) as { sources: string[] };
      for (const source of sources) expect(packed, `${map} points at ${source}`).toContain(posix.join(posix.dirname(map), source));
    }
    // The choice: no maps (tsc's output is plain, readable JavaScript next to its .d.ts; shipping src/ for maps
    // would double the package for little).
    expect(maps).toEqual([]);
    const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { compilerOptions?: { sourceMap?: boolean; declarationMap?: boolean } };
    expect(build.compilerOptions).toMatchObject({ sourceMap: false, declarationMap: false });
    expect([...packed].filter((file) => file.startsWith('src/') || file.startsWith('test/'))).toEqual([]);
  });

  it('depends at run time on exactly what its code imports; optional features load their peer dependency lazily', () => {
    const imports = runtimeImports();
    const runtime = new Set([...imports.static.keys(), ...imports.dynamic.keys()]);
    // Every runtime dependency is imported by the shipped code, and nothing else is.
    expect(Object.keys(pkg.dependencies).sort()).toEqual([...runtime].filter((name) => !OPTIONAL_PEERS.includes(name)).sort());
    for (const name of OPTIONAL_PEERS) {
      expect(pkg.peerDependencies[name], name).toBeDefined();
      expect(pkg.peerDependenciesMeta[name]?.optional, name).toBe(true);
      expect(pkg.devDependencies[name], `${name} (for this repository's tests)`).toBe(pkg.peerDependencies[name]);
      expect(pkg.dependencies[name], name).toBeUndefined();
    }
    // elkjs and @statelyai/inspect only through import(); fast-check statically only in the testing entry.
    expect(imports.static.get('elkjs')).toBeUndefined();
    expect(imports.static.get('@statelyai/inspect')).toBeUndefined();
    // zod only through src/api/lazyZod.ts (loaded on first use, one CommonJS copy); elsewhere `import type` only.
    expect(imports.static.get('zod')).toBeUndefined();
    expect(imports.dynamic.get('zod')).toEqual([join(root, 'src', 'api', 'lazyZod.ts')]);
    for (const file of imports.static.get('fast-check') ?? []) expect(file.startsWith(join(root, 'src', 'testing')), file).toBe(true);
    for (const name of ['dns-packet', 'pino-pretty', 'tsx', 'vitest', 'playwright-core']) expect(runtime.has(name), name).toBe(false);
    expect(pkg.dependencies['pino-pretty']).toBeUndefined();
    expect(Object.keys(pkg.dependencies).filter((name) => name.startsWith('@types/'))).toEqual([]);
  });
});

