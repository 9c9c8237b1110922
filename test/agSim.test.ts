/**
 * `ag-sim`, QA's simulator from an installed package: the bin (bin/ag-sim.js, run on the build as a user runs it)
 * replays a seed and a saved trace with the verdict and the seed as given, prints its help, refuses bad seeds, and
 * without fast-check says what to install.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'ag-sim.js');

/** Runs the bin to its end; `--import` hooks and the environment as given. */
function agSim(argv: readonly string[], options: { imports?: readonly string[]; env?: Record<string, string> } = {}): Promise<{ code: number | null; out: string; err: string }> {
  if (!existsSync(join(root, 'dist', 'src', 'testing', 'cli', 'agSim.js'))) throw new Error('dist/ has no ag-sim: run npm run build first (npm test does).');
  const args = [...(options.imports ?? []).flatMap((file) => ['--import', file]), bin, ...argv];
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (err += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('ag-sim', () => {
  it('replays a fixed seed: every property held, and the seed printed as given', async () => {
    const run = await agSim(['--seed', '42', '--duration', '60']);
    expect(run.code, run.out + run.err).toBe(0);
    const lines = run.out.split('\n');
    expect(lines[0]).toBe('Verdict: every property held.');
    expect(lines[2]).toMatch(/^Run: seed 42, 60\.000 s of 60\.000 s simulated, \d+ happenings$/);
    expect(run.out).toContain('Scenario: {"seed":42,');
    // The same seed prints the same.
    expect((await agSim(['--seed', '42', '--duration', '60'])).out).toBe(run.out);
  });

  it('prints negative seeds as given too (fast-check prints such seeds)', async () => {
    const run = await agSim(['--seed=-2147483648', '--duration', '30']);
    expect(run.code, run.out + run.err).toBe(0);
    expect(run.out).toMatch(/^Run: seed -2147483648, /m);
  });

  it('replays a trace file it wrote: the same run, the same verdict and summary', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ag-sim-'));
    const trace = join(dir, 'trace.json');
    const first = await agSim(['--seed', '7', '--faults', 'heavy', '--duration', '40', '--json', trace]);
    expect(first.code, first.out + first.err).toBe(0);
    expect(JSON.parse(await readFile(trace, 'utf8'))).toMatchObject({ scenario: { seed: 7 } });
    const replay = await agSim(['--scenario', trace]);
    expect(replay.code, replay.out + replay.err).toBe(0);
    expect(replay.out).toBe(first.out.replace(`Trace written to ${trace}.\n`, ''));
  });

  it('exits 1 with the violated property for a broken variant', async () => {
    const run = await agSim(['--seed', '1', '--variant', 'eventsAfterTheFact', '--duration', '20']);
    expect(run.code).toBe(1);
    expect(run.out.split('\n')[0]).toMatch(/^Verdict: VIOLATION eventsTellTruth at /);
    expect(run.out).toMatch(/^Run: seed 1, /m);
  });

  it('replays a fast-check case by seed and path, naming both and the case\'s own simulator seed', async () => {
    const run = await agSim(['--shape', 'handovers', '--seed', '1', '--path', '0', '--variant', 'lateRoleAnnouncement']);
    expect(run.code, run.out + run.err).toBe(1);
    const lines = run.out.split('\n');
    expect(lines[0]).toMatch(/^Verdict: VIOLATION oneAnnouncedPrimary at /);
    expect(lines[2]).toMatch(/^Replayed: fast-check seed 1, path 0, shape handovers; the case's own simulator seed is \d+\.$/);
  });

  it('prints its help under its own name, and refuses a seed that is not a 32-bit whole number', async () => {
    const help = await agSim(['--help']);
    expect(help.code).toBe(0);
    expect(help.out.startsWith('ag-sim --seed <n> [options]: ')).toBe(true);
    expect(help.out).toContain('--scenario <file>');
    for (const seed of ['x', '1.5', '4294967296', '']) {
      const bad = await agSim(['--seed', seed]);
      expect(bad.code, seed).toBe(2);
      expect(bad.err).toContain(`ag-sim: --seed must be a whole number from -2147483648 to 4294967295, not "${seed}"`);
    }
  });

  it('without fast-check, says what to install instead of a bare module-not-found', async () => {
    const run = await agSim(['--seed', '42'], { imports: [join(root, 'test', 'support', 'hidePackages.mjs')], env: { AG_HIDE_PACKAGES: 'fast-check' } });
    expect(run.code).toBe(2);
    expect(run.err).toBe('ag-sim needs fast-check: npm install --save-dev fast-check\n');
    expect(run.out).toBe('');
  });
});
