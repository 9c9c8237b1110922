/**
 * The library is silent unless given a logger, and takes any pino-compatible one: a process that embeds it (an
 * in-memory node and a networked one, through start, a group, a failing subscriber and stop) writes nothing to
 * stdout; fastify's `app.log` and a pino child are accepted as `logger` and receive the node's lines.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { fastify } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventId } from '../src/api/constants.js';
import { freePort } from '../src/cli/agctlProcess.js';
import { createNode } from '../src/node/createNode.js';
import { inMemoryPorts } from '../src/node/inMemoryPorts.js';
import type { Logger } from '../src/api/logger.js';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ag-logger-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A child process that embeds the library (from source, through tsx) and records what it did in `out`. */
const EMBEDDING = `
const { writeFileSync } = await import('node:fs');
const ag = await import(process.env.AG_INDEX);
const http = await import(process.env.AG_HTTP);
const done = [];
const a = ag.createNode({ node_id: 'a', external_ipv4_address: '127.0.0.2', group_fqdn: 'app.example.test' }, ag.inMemoryPorts());
a.subscribe(ag.EventId.NODE_ROLE_CHANGED, () => { throw new Error('a failing subscriber is logged, if there is a logger'); });
await a.start();
await a.createGroup();
done.push(await a.requirePrimary(async () => 'primary work'));
await a.stop();
const running = await http.startNetworkedNode({
  node_id: 'n', external_ipv4_address: '127.0.0.1', external_port: Number(process.env.AG_PORT),
  dns_server: 'no-such-host.invalid:53', api_token: 'an-api-token-0123456789', peer_secret: 'a-peer-secret-0123456789',
});
done.push((await fetch(running.url + '/ag/api/v1/health')).status);
await running.stop();
writeFileSync(process.env.AG_OUT, JSON.stringify(done));
`;

describe('without a logger', () => {
  it('a process embedding the library writes nothing to stdout (AG_LOG_LEVEL=info)', async () => {
    const out = join(dir, 'done.json');
    const port = await freePort(['127.0.0.1'], { from: 18000, to: 18999 });
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', EMBEDDING], {
      cwd: ROOT,
      timeout: 60_000,
      env: {
        ...process.env,
        AG_LOG_LEVEL: 'info',
        AG_INDEX: pathToFileURL(join(ROOT, 'src', 'index.ts')).href,
        AG_HTTP: pathToFileURL(join(ROOT, 'src', 'http', 'index.ts')).href,
        AG_PORT: String(port),
        AG_OUT: out,
      },
    });
    // It did run: the Primary-only work, and the networked node answered its health check.
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(['primary work', 200]);
    expect(stdout).toBe('');
    expect(stderr).toBe('');
  }, 90_000);
});

/** A node on in-memory ports with `logger`, run through start, a group, a failing subscriber and stop. */
async function runNodeWith(logger: Logger): Promise<void> {
  const node = createNode({ node_id: 'node-a', external_ipv4_address: '127.0.0.2', group_fqdn: 'app.example.test' }, { ...inMemoryPorts(), logger });
  let told = 0;
  node.subscribe(EventId.NODE_ROLE_CHANGED, () => {
    told += 1;
    throw new Error('subscriber failure');
  });
  await node.start();
  await node.createGroup();
  await node.stop();
  expect(told).toBe(2);
}

describe('a pino-compatible logger', () => {
  it("fastify's app.log is accepted and receives the node's lines", async () => {
    const lines: Record<string, unknown>[] = [];
    const app = fastify({ logger: { level: 'info', stream: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } } });
    await runNodeWith(app.log);
    await app.close();
    const messages = lines.filter((line) => line.node === 'node-a').map((line) => line.msg);
    expect(messages).toEqual(expect.arrayContaining(['node started', 'NODE_ROLE_CHANGED', 'subscriber callback failed', 'node stopped']));
  });

  it('a child of a pino logger is accepted, and its bindings stay on every line', async () => {
    const lines: Record<string, unknown>[] = [];
    const child = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }).child({ service: 'billing' });
    await runNodeWith(child);
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(line).toMatchObject({ service: 'billing', node: 'node-a' });
    expect(lines.map((line) => line.msg)).toContain('node started');
  });
});
