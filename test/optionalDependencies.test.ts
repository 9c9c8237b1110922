/**
 * The optional peer dependencies (elkjs, @statelyai/inspect, fast-check), each made unresolvable as if not
 * installed (test/support/hidePackages.mjs): the package and a running node's code load without them, and a feature
 * that needs one fails with a message naming the package to install. Runs the build, as a user's install would.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const hide = join(root, 'test', 'support', 'hidePackages.mjs');

/** Runs node with `args` and the packages in `hidden` unresolvable; never rejects. */
function nodeWithout(hidden: readonly string[], args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', hide, ...args], { cwd: root, env: { ...process.env, AG_HIDE_PACKAGES: hidden.join(',') } }, (error, out, err) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, out, err });
    });
  });
}

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'src', 'index.js'))) throw new Error('dist/ is missing: run npm run build first (npm test does).');
});

describe('without the optional peer dependencies', () => {
  it('the package entries load (a running node needs none of them)', async () => {
    const script = "await import('./dist/src/index.js'); await import('./dist/src/http/index.js'); console.log('loaded')";
    const run = await nodeWithout(['elkjs', '@statelyai/inspect', 'fast-check'], ['--input-type=module', '-e', script]);
    expect(run.err).toBe('');
    expect(run.out).toBe('loaded\n');
  });

  it('the hook really hides them: a plain import fails as for a package not installed', async () => {
    const run = await nodeWithout(['elkjs'], ['--input-type=module', '-e', "await import('elkjs/lib/elk.bundled.js')"]);
    expect(run.code).not.toBe(0);
    expect(run.err).toContain("Cannot find package 'elkjs'");
  });

  it('agctl chart --format svg names elkjs; the other formats do not need it', async () => {
    const svg = await nodeWithout(['elkjs'], ['bin/agctl.js', 'chart', '--format', 'svg']);
    expect(svg.code).toBe(1);
    expect(svg.err).toBe('agctl chart: Laying out the statechart (agctl chart --format svg, npm run chart) needs elkjs: npm install elkjs\n');
    const mermaid = await nodeWithout(['elkjs'], ['bin/agctl.js', 'chart', '--format', 'mermaid']);
    expect(mermaid.code, mermaid.err).toBe(0);
    expect(mermaid.out).toContain('stateDiagram-v2');
  });

  it('live inspection names @statelyai/inspect, with the error code', async () => {
    const script = "const { startLiveInspection } = await import('./dist/src/inspect/liveInspector.js'); await startLiveInspection('ws://127.0.0.1:9').catch((error) => console.log(error.code, error.message))";
    const run = await nodeWithout(['@statelyai/inspect'], ['--input-type=module', '-e', script]);
    expect(run.out).toBe('AG_OPTIONAL_DEPENDENCY_MISSING Live inspection (the setting inspect, AG_INSPECT) needs @statelyai/inspect: npm install @statelyai/inspect\n');
  });
});
