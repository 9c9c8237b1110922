/**
 * Every TypeScript code block in README.md and docs/*.md compiles, as a user's code would, against the BUILT package:
 * a scratch project in a temp dir whose node_modules/availability-group is a symlink to this repo (so the package's
 * "exports" and the dist/ types are what resolves, as for an installed package), with symlinks for the other packages
 * the blocks import; `tsc` strict, `module`/`moduleResolution` nodenext. A block whose info string says `runnable`
 * (```` ```ts runnable ````) is then run with node and must exit 0. A block that is a fragment (it names values the
 * text defines, or an API that is not a package export) says so with a reason (```` ```ts fragment: <reason> ````)
 * and is not compiled. Run after `npm run build` (`npm test` builds first).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** One fenced TypeScript block of a doc. */
interface DocBlock {
  /** e.g. `README.md:47` (the line of the opening fence). */
  readonly where: string;
  /** The scratch file's base name, without extension. */
  readonly name: string;
  readonly code: string;
  readonly runnable: boolean;
  /** Why it is not compiled, for a fragment. */
  readonly fragment: string | null;
}

/** The fenced ```ts / ```typescript blocks of `file` (fences may be indented, as in a list item). */
function tsBlocks(file: string): DocBlock[] {
  const doc = file === join(ROOT, 'README.md') ? 'README.md' : `docs/${basename(file)}`;
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(\S*)\s*(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const [, indent = '', fence = '```', lang = '', rest = ''] = open;
    const end = lines.findIndex((line, j) => j > i && line.trim().startsWith(fence) && line.trim().replace(/[`~]/g, '') === '');
    const close = end === -1 ? lines.length : end;
    if (lang === 'ts' || lang === 'typescript') {
      const fragment = /^fragment:\s*(.+)$/.exec(rest.trim());
      if (rest.trim() !== '' && rest.trim() !== 'runnable' && fragment === null) {
        throw new Error(`${doc}:${i + 1}: unknown block marker "${rest.trim()}" (use "runnable" or "fragment: <reason>")`);
      }
      const code = lines
        .slice(i + 1, close)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
        .join('\n');
      blocks.push({
        where: `${doc}:${i + 1}`,
        name: `${doc.replace(/[^A-Za-z0-9]+/g, '_')}_L${i + 1}`,
        code,
        runnable: rest.trim() === 'runnable',
        fragment: fragment?.[1] ?? null,
      });
    }
    i = close;
  }
  return blocks;
}

const DOCS = [join(ROOT, 'README.md'), ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => join(ROOT, 'docs', f))];
const BLOCKS = DOCS.flatMap(tsBlocks);
const COMPILED = BLOCKS.filter((block) => block.fragment === null);

/** The package a bare import specifier names (`@scope/name` or `name`), or null for `node:` and relative ones. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return null;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

let project: string;
/** tsc's diagnostics per scratch file name. */
const diagnostics = new Map<string, string[]>();

beforeAll(async () => {
  for (const types of ['dist/src/index.d.ts', 'dist/src/http/index.d.ts', 'dist/src/testing/index.d.ts']) {
    if (!existsSync(join(ROOT, types))) throw new Error(`${types} is missing: run npm run build first (npm test does).`);
  }
  project = await mkdtemp(join(tmpdir(), 'ag-docs-snippets-'));
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'docs-snippets', private: true, type: 'module' }));
  await mkdir(join(project, 'node_modules', '@types'), { recursive: true });
  await mkdir(join(project, 'snippets'));
  // The package itself, as installed; and every other package the blocks import, from this repo's node_modules.
  await symlink(ROOT, join(project, 'node_modules', 'availability-group'), 'dir');
  const imported = new Set<string>(['@types/node']);
  for (const block of COMPILED) {
    for (const match of block.code.matchAll(/\bfrom\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const name = packageOf(match[1] ?? match[2]!);
      if (name !== null && name !== 'availability-group') imported.add(name);
    }
  }
  for (const name of imported) {
    const source = join(ROOT, 'node_modules', name);
    if (!existsSync(source)) throw new Error(`A doc block imports ${name}, which is not in this repo's node_modules.`);
    await mkdir(dirname(join(project, 'node_modules', name)), { recursive: true });
    await symlink(source, join(project, 'node_modules', name), 'dir');
  }
  for (const block of COMPILED) {
    // `export {}` makes every block a module of its own, even one without imports.
    await writeFile(join(project, 'snippets', `${block.name}.ts`), `${block.code}\nexport {};\n`);
  }
  await writeFile(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        types: ['node'],
        // As a new project's tsconfig has it (checking every library's .d.ts takes a minute; the packed package's
        // own types are checked without it by scripts/check-package.ts).
        skipLibCheck: true,
        rootDir: 'snippets',
        outDir: 'out',
      },
      include: ['snippets'],
    }),
  );
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const output = await run(process.execPath, [tsc, '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: project, maxBuffer: 16 * 1024 * 1024 }).then(
    ({ stdout }) => stdout,
    (error: { stdout?: string }) => error.stdout ?? String(error),
  );
  // Diagnostics start at column 0 with the file; their continuation lines are indented.
  let current: string[] | null = null;
  for (const line of output.split('\n')) {
    const start = /^snippets\/([^.(]+)\.ts\((\d+),(\d+)\): (.*)$/.exec(line);
    if (start !== null) {
      const list = diagnostics.get(start[1]!) ?? [];
      diagnostics.set(start[1]!, list);
      current = list;
      current.push(`line ${start[2]} of the block: ${start[4]}`);
    } else if (line.trim() !== '') {
      if (current === null) diagnostics.set('(project)', [...(diagnostics.get('(project)') ?? []), line]);
      else current.push(line);
    }
  }
}, 120_000);

afterAll(async () => {
  if (project !== undefined) await rm(project, { recursive: true, force: true });
});

describe('the TypeScript blocks of README.md and docs/*.md', () => {
  it('are found, and fragments are few and give a reason', () => {
    expect(COMPILED.length).toBeGreaterThanOrEqual(5);
    expect(BLOCKS.some((block) => block.runnable)).toBe(true);
    const fragments = BLOCKS.filter((block) => block.fragment !== null);
    expect(fragments.length).toBeLessThanOrEqual(Math.max(2, Math.floor(BLOCKS.length / 4)));
    for (const block of fragments) expect(block.fragment!.length, block.where).toBeGreaterThan(10);
  });

  it('compile as a project (no diagnostics outside the blocks)', () => {
    expect(diagnostics.get('(project)') ?? []).toEqual([]);
  });

  it.each(COMPILED.map((block) => [block.where, block] as const))('%s compiles (strict, nodenext)', (_where, block) => {
    expect(diagnostics.get(block.name) ?? [], `${block.where}:\n${block.code}`).toEqual([]);
  });

  it.each(COMPILED.filter((block) => block.runnable).map((block) => [block.where, block] as const))(
    '%s runs and exits 0',
    async (_where, block) => {
      expect(diagnostics.get(block.name) ?? [], 'it must compile first').toEqual([]);
      const result = await run(process.execPath, [join('out', `${block.name}.js`)], { cwd: project, timeout: 60_000, env: { ...process.env, AG_LOG_LEVEL: 'info' } }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code?: number; stdout?: string; stderr?: string; signal?: string }) => ({ code: error.code ?? error.signal, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
      );
      expect(result, `${block.where} exited ${String(result.code)}\n${result.stderr}`).toMatchObject({ code: 0 });
      // The library logs nothing unless given a logger (AG_LOG_LEVEL=info is set): what is printed is the block's own.
      expect(result.stdout.split('\n').filter((line) => /^\{.*"level":/.test(line))).toEqual([]);
    },
    90_000,
  );
});
