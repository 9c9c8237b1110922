/**
 * `agctl chart` and `agctl inspect`: their outputs, their usage errors, and `agctl inspect --trace` serving a
 * replay on loopback that prints its URL.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chartCommand } from '../src/cli/chartCommand.js';
import { inspectCommand } from '../src/cli/inspectCommand.js';
import { EXIT_USAGE } from '../src/cli/command.js';
import { toDot } from '../src/inspect/dot.js';
import { waitFor } from './support/inspector.js';

describe('agctl chart', () => {
  it('writes the chart in the format asked for', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ag-chart-'));
    const out = join(dir, 'chart.dot');
    expect(await chartCommand.run(['--format', 'dot', '--out', out])).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(toDot());
  });

  it('refuses an unknown format or flag with the usage exit code', async () => {
    expect(await chartCommand.run(['--format', 'png'])).toBe(EXIT_USAGE);
    expect(await chartCommand.run(['--colour'])).toBe(EXIT_USAGE);
  });
});

describe('agctl inspect', () => {
  it('refuses to run without a trace, with a bad port, or with a file that is no trace', async () => {
    expect(await inspectCommand.run([])).toBe(EXIT_USAGE);
    expect(await inspectCommand.run(['--trace', 'x.json', '--port', 'eighty'])).toBe(EXIT_USAGE);
    expect(await inspectCommand.run(['--trace', '/nonexistent/trace.json'])).toBe(1);
    const dir = await mkdtemp(join(tmpdir(), 'ag-inspect-'));
    await writeFile(join(dir, 'bad.json'), '{"format":"something-else"}');
    expect(await inspectCommand.run(['--trace', join(dir, 'bad.json')])).toBe(1);
  });

  it('serves a trace on 127.0.0.1, prints the URL, and stops on SIGINT', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ag-inspect-'));
    const file = join(dir, 'node.jsonl');
    const entry = { kind: 'transition', t: 0, node: 'n1', state: 'secondary.watching', event: 'JOIN_GROUP', role: 'secondary', epoch: 1, seq: null, dnsConnection: 'connected' };
    await writeFile(file, `${JSON.stringify({ format: 'ag-node-log', version: 1, node: 'n1' })}\n${JSON.stringify(entry)}\n`);
    const script = `import('./src/cli/main.ts').then((m) => m.main(['inspect', '--trace', ${JSON.stringify(file)}, '--port', '19470'])).then((code) => { process.exitCode = code; })`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: new URL('..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await waitFor(`the URL on stdout (stderr: ${stderr})`, () => stdout.includes('http://127.0.0.1:19470/ag/inspect'), 30_000);
      expect(stdout).toContain('1 transitions of n1');
      const trace = (await (await fetch('http://127.0.0.1:19470/ag/inspect/trace.json')).json()) as { steps: unknown[] };
      expect(trace.steps[0]).toMatchObject({ node: 'n1', state: 'secondary.watching', activeIds: ['member', 'member.following', 'member.following.secondary', 'member.following.secondary.watching'] });
      expect((await fetch('http://127.0.0.1:19470/ag/inspect')).headers.get('content-type')).toMatch(/^text\/html/);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});
