/**
 * `npm run package-size`: what a user's `npm install availability-group` brings, measured on the package as it
 * would be published. Packs a copy of the working tree (`npm pack`, whose prepack script builds dist/ anew), installs
 * the tarball into a scratch project outside the repository with `npm install --omit=dev` (needs the registry, so it
 * is not part of `npm test`), and prints:
 *
 * - the tarball's size and file count;
 * - the installed packages (this one included) and the size of node_modules (`du -sb`); target at most 25 MB;
 * - the cold import of the installed main entry beside fastify's, median of several fresh processes;
 * - that `ag-sim` from the install names fast-check when it is missing, and replays a seed once it is installed.
 *
 *     npm run package-size                 # AG_KEEP_SCRATCH=1 keeps the scratch directory
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TARGET_BYTES = 25 * 1024 * 1024;
const IMPORT_RUNS = 11;
const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'ag-package-size-'));
const npm = (args: readonly string[], cwd: string): string => execFileSync('npm', [...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Apparent size of a tree, as `du -sb` counts it (files, directories and links by their own size). */
function treeBytes(path: string): number {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return stat.size;
  return stat.size + readdirSync(path).reduce((sum, name) => sum + treeBytes(join(path, name)), 0);
}

/**
 * Median wall time (ms) of a fresh `node` importing each of `specifiers` from `cwd`, process start to exit; the runs
 * alternate between them, so that a busy machine slows them alike.
 */
function coldImportMs(specifiers: readonly string[], cwd: string): number[] {
  const times = specifiers.map((): number[] => []);
  for (let run = 0; run < IMPORT_RUNS; run += 1) {
    specifiers.forEach((specifier, index) => {
      const start = process.hrtime.bigint();
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(specifier)})`], { cwd, encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`importing ${specifier} failed: ${child.stderr}`);
      times[index]!.push(Number(process.hrtime.bigint() - start) / 1e6);
    });
  }
  return times.map((list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)]!);
}

try {
  // Packed from a copy of the working tree (the files git tracks or would track), so that `npm pack`'s prepack
  // script builds dist/ from nothing there, as for a release, without touching this checkout's dist/.
  const copy = join(scratch, 'source');
  console.log(`Copying the working tree to ${copy}, then npm pack (a clean build) ...`);
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' }).split('\0');
  for (const file of listed.filter((name) => name !== '' && existsSync(join(root, name)))) cpSync(join(root, file), join(copy, file));
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', scratch], copy)) as [{ filename: string; size: number; unpackedSize: number; entryCount: number }];
  const tarball = join(scratch, packed.filename);

  const app = join(scratch, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'scratch-app', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
  console.log(`Installing ${packed.filename} into ${app} with npm install --omit=dev ...`);
  npm(['install', '--omit=dev', '--no-audit', '--no-fund', tarball], app);

  const lock = JSON.parse(readFileSync(join(app, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
  const installed = Object.keys(lock.packages).filter((key) => key.startsWith('node_modules/'));
  const du = spawnSync('du', ['-sb', 'node_modules'], { cwd: app, encoding: 'utf8' });
  const bytes = du.status === 0 ? Number(du.stdout.split('\t')[0]) : treeBytes(join(app, 'node_modules'));
  const largest = readdirSync(join(app, 'node_modules'))
    .filter((name) => !name.startsWith('.'))
    .flatMap((name) => (name.startsWith('@') ? readdirSync(join(app, 'node_modules', name)).map((inner) => `${name}/${inner}`) : [name]))
    .map((name) => ({ name, bytes: treeBytes(join(app, 'node_modules', name)) }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 6);

  const [ours, fastify] = coldImportMs(['availability-group', 'fastify'], app) as [number, number];

  const bin = join(app, 'node_modules', '.bin', 'ag-sim');
  const withoutFastCheck = spawnSync(bin, ['--seed', '42'], { cwd: app, encoding: 'utf8' });
  npm(['install', '--no-audit', '--no-fund', '--save-dev', 'fast-check'], app);
  const withFastCheck = spawnSync(bin, ['--seed', '42', '--duration', '60'], { cwd: app, encoding: 'utf8' });

  console.log('');
  console.log(`tarball:            ${packed.filename}, ${mb(packed.size)} packed, ${mb(packed.unpackedSize)} unpacked, ${packed.entryCount} files`);
  console.log(`installed packages: ${installed.length} (availability-group and ${installed.length - 1} dependencies), npm install --omit=dev`);
  console.log(`node_modules:       ${bytes} bytes = ${mb(bytes)} (du -sb; target <= ${mb(TARGET_BYTES)}: ${bytes <= TARGET_BYTES ? 'met' : 'NOT met'})`);
  console.log(`largest:            ${largest.map((entry) => `${entry.name} ${mb(entry.bytes)}`).join(', ')}`);
  console.log(`cold import:        availability-group ${ours.toFixed(0)} ms, fastify ${fastify.toFixed(0)} ms (median of ${IMPORT_RUNS} processes each, alternating, start to exit), ratio ${(ours / fastify).toFixed(2)}x`);
  console.log(`ag-sim, no fast-check: exit ${withoutFastCheck.status}, "${withoutFastCheck.stderr.trim()}"`);
  console.log(`ag-sim --seed 42 with fast-check: exit ${withFastCheck.status}, ${withFastCheck.stdout.split('\n').filter((line) => line.startsWith('Verdict:') || line.startsWith('Run:')).join(' / ')}`);
  process.exitCode = bytes <= TARGET_BYTES && withoutFastCheck.status === 2 && withFastCheck.status === 0 ? 0 : 1;
} finally {
  if (process.env.AG_KEEP_SCRATCH === '1') console.log(`(scratch kept: ${scratch})`);
  else rmSync(scratch, { recursive: true, force: true });
}
