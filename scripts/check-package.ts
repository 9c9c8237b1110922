/**
 * Checks the package as a new user gets it: `npm pack`, the tarball installed into a fresh TypeScript project in a
 * temp dir (with typescript and @types/node from the registry), README's embedding example and docs/api.md's fastify
 * example copied in unchanged, type-checked (`tsc`, strict, module/moduleResolution nodenext, the packed .d.ts files
 * checked too: no skipLibCheck) and run with node (each must exit 0). Needs the npm registry, so it is not part of
 * `npm test`.
 *
 * Usage: npx tsx scripts/check-package.ts [--keep]   (--keep leaves the scratch project in place)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');

/** The body of the first ```ts block after `heading` in `doc` (from the start when heading is null). */
function blockAfter(doc: string, heading: string | null): string {
  const text = readFileSync(join(ROOT, doc), 'utf8');
  const from = heading === null ? 0 : text.indexOf(heading);
  if (from < 0) throw new Error(`${doc}: no heading ${JSON.stringify(heading)}`);
  const match = /^```ts[^\n]*\n([\s\S]*?)^```$/m.exec(text.slice(from));
  if (match === null) throw new Error(`${doc}: no \`\`\`ts block after ${JSON.stringify(heading)}`);
  return match[1]!;
}

function sh(command: string, args: readonly string[], cwd: string): string {
  process.stderr.write(`$ ${command} ${args.join(' ')}   (in ${cwd})\n`);
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
}

const snippets = {
  readme: blockAfter('README.md', '## Embedding it'),
  fastify: blockAfter('docs/api.md', '## Embedding in a fastify app'),
};

const dir = mkdtempSync(join(tmpdir(), 'ag-check-package-'));
const results: string[] = [];
let failed = false;
try {
  // npm pack runs the "prepare" script (the build) first.
  const packed = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', dir], ROOT)) as { filename: string; size: number; unpackedSize: number; entryCount: number }[];
  const tarball = join(dir, packed[0]!.filename);
  results.push(`packed ${packed[0]!.filename}: ${packed[0]!.entryCount} files, ${packed[0]!.size} bytes (${packed[0]!.unpackedSize} unpacked)`);

  const project = join(dir, 'project');
  execFileSync('mkdir', ['-p', join(project, 'src')]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'ag-check-package', private: true, type: 'module' }, null, 2));
  sh('npm', ['install', '--no-audit', '--no-fund', tarball, 'typescript@~5.9', '@types/node@^20'], project);
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, types: ['node'], rootDir: 'src', outDir: 'out' }, include: ['src'] }, null, 2),
  );
  for (const [name, code] of Object.entries(snippets)) writeFileSync(join(project, 'src', `${name}.ts`), code);

  try {
    sh(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--pretty', 'false'], project);
    results.push('tsc --strict (nodenext, no skipLibCheck): no errors');
  } catch (error) {
    failed = true;
    results.push(`tsc: FAILED\n${(error as { stdout?: string }).stdout ?? String(error)}`);
  }
  if (!failed) {
    for (const name of Object.keys(snippets)) {
      try {
        const stdout = execFileSync(process.execPath, [join('out', `${name}.js`)], { cwd: project, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
        results.push(`node out/${name}.js: exit 0, stdout:\n${stdout.trimEnd().replace(/^/gm, '    ')}`);
      } catch (error) {
        failed = true;
        const { status, stdout, stderr } = error as { status?: number; stdout?: string; stderr?: string };
        results.push(`node out/${name}.js: FAILED (exit ${String(status)})\n${stdout ?? ''}${stderr ?? ''}`);
      }
    }
  }
} catch (error) {
  failed = true;
  results.push(`FAILED: ${(error as Error).message}`);
} finally {
  if (keep) results.push(`scratch project kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${results.join('\n')}\n${failed ? 'check-package: FAILED' : 'check-package: OK'}\n`);
process.exitCode = failed ? 1 : 0;
