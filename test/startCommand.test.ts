/**
 * `agctl start` refuses what it cannot run with exit 78 (EX_CONFIG) and a message naming the file, the field and
 * the rule, before anything starts: timers above their bound, a dns_server port out of range, a data_dir that is not
 * a writable directory, a node.json that is not valid. A dns_server host name that does not resolve is not refused:
 * a real node process starts with it, reports DNS disconnected, and keeps running.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgctlProcess, freePort, waitFor } from '../src/cli/agctlProcess.js';
import { EXIT_CONFIG, startCommand } from '../src/cli/startCommand.js';
import { loadSettings } from '../src/node/settings.js';
import { captureCli } from './support/networkedGroup.js';

const TOKEN = 'api-token-start-0123456789';
const PEER_SECRET = 'peer-secret-start-0123456789';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ag-start-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fileCount = 0;
/** Writes a config file: a valid node config with `overrides` (a value of undefined removes the field). */
async function configFile(overrides: Record<string, unknown> = {}): Promise<string> {
  fileCount += 1;
  const config: Record<string, unknown> = {
    node_id: 'a',
    external_ipv4_address: '127.0.0.9',
    dns_server: '127.0.0.1:5353',
    api_token: TOKEN,
    peer_secret: PEER_SECRET,
    data_dir: join(dir, `data-${fileCount}`),
    ...overrides,
  };
  for (const [key, value] of Object.entries(config)) if (value === undefined) delete config[key];
  const file = join(dir, `node-${fileCount}.json`);
  await writeFile(file, JSON.stringify(config));
  return file;
}

/**
 * Runs `agctl start --config file` in this process: only for configs it refuses before starting anything. A config
 * it accepts would run a node until SIGTERM: that fails the test at a deadline instead.
 */
function start(file: string) {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`agctl start --config ${file} was not refused within 10 s: it started a node`)), 10_000);
  });
  return Promise.race([captureCli(() => startCommand.run(['--config', file])), deadline]).finally(() => clearTimeout(timer));
}

describe('agctl start refuses with 78, naming the field and the rule', () => {
  it.each([
    ['health_report_interval', 90_000],
    ['health_check_interval', 90_000],
    ['allowed_absence_interval', 1e8],
    ['lease_duration', 1e8],
  ])('%s above 86400 s', async (field, value) => {
    const file = await configFile({ [field]: value });
    const { code, stderr } = await start(file);
    expect(code).toBe(EXIT_CONFIG);
    expect(stderr).toContain(`the config file ${file} is refused`);
    expect(stderr).toContain(`${field}: must be at most 86400 seconds (1 day)`);
  });

  it.each(['127.0.0.1:0', '127.0.0.1:65536', '127.0.0.1:99999'])('dns_server %s', async (value) => {
    const { code, stderr } = await start(await configFile({ dns_server: value }));
    expect(code).toBe(EXIT_CONFIG);
    expect(stderr).toContain('dns_server: must be host:port with a port from 1 to 65535');
  });

  it('a syntactically invalid dns_server host', async () => {
    const { code, stderr } = await start(await configFile({ dns_server: 'bad_host!:53' }));
    expect(code).toBe(EXIT_CONFIG);
    expect(stderr).toContain('dns_server: must be host:port: the host must be an IPv4 address, an IPv6 address in brackets or a host name');
  });

  it('a data_dir that is a regular file', async () => {
    const plain = join(dir, 'plain-file');
    await writeFile(plain, 'x');
    const { code, stderr } = await start(await configFile({ data_dir: plain }));
    expect(code).toBe(EXIT_CONFIG);
    expect(stderr).toContain(`data_dir: must be a directory: ${plain} exists and is not one`);
  });

  it('a data_dir that cannot be created', async () => {
    const plain = join(dir, 'plain-file-2');
    await writeFile(plain, 'x');
    const { code, stderr } = await start(await configFile({ data_dir: join(plain, 'data') }));
    expect(code).toBe(EXIT_CONFIG);
    expect(stderr).toMatch(/data_dir: must be a directory this node can (create|write)/);
  });
});

describe('agctl start refuses a node.json that is not valid with 78, naming the file, the field and the rule', () => {
  /** A config whose data_dir holds `content` as node.json. */
  async function withState(content: string): Promise<{ file: string; state: string }> {
    const dataDir = await mkdtemp(join(dir, 'state-'));
    const state = join(dataDir, 'node.json');
    await writeFile(state, content);
    return { file: await configFile({ data_dir: dataDir }), state };
  }

  const validState = () => ({
    settings: loadSettings({ node_id: 'a', external_ipv4_address: '127.0.0.9', dns_server: '127.0.0.1:5353', api_token: TOKEN, peer_secret: PEER_SECRET, group_fqdn: 'app.example.test' }).record,
    membership: { inGroup: true, peer: null, epoch: 1 },
  });

  it.each([
    ['{}', 'settings: must be an object of settings; membership: must be an object with inGroup, peer and epoch'],
    ['null', '(file): must be a JSON object with settings and membership'],
    [JSON.stringify({ ...validState(), membership: { inGroup: true, peer: null, epoch: 'x' } }), 'membership.epoch: must be a number'],
    ['{"settings":', '(file): must be JSON'],
  ])('%s', async (content, issue) => {
    const { file, state } = await withState(content);
    const { code, stderr } = await start(file);
    expect(code).toBe(EXIT_CONFIG);
    expect(stderr).toContain(`agctl start: the state file ${state} is refused: ${issue}`);
    expect(stderr).not.toMatch(/TypeError|    at /);
  });
});

describe('a dns_server host name that does not resolve', () => {
  it('does not stop a node from starting: it runs with DNS disconnected, keeps serving, and stops cleanly', async () => {
    const port = await freePort(['127.0.0.2'], { from: 18000, to: 18999 });
    const dataDir = join(dir, 'unresolvable');
    const config = {
      node_id: 'a',
      external_ipv4_address: '127.0.0.2',
      external_port: port,
      dns_server: 'no-such-host.invalid:53',
      api_token: TOKEN,
      peer_secret: PEER_SECRET,
      data_dir: dataDir,
      group_fqdn: 'app.example.test',
      tsig_name: 'ag-key.example.test',
      tsig_secret: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ=',
      health_report_interval: 0.1,
      health_check_interval: 0.1,
      allowed_absence_interval: 0.5,
    };
    // A node that was in a group: at start it resolves its role from DNS, so it talks to dns_server at once.
    await mkdir(dataDir, { recursive: true });
    await writeFile(
      join(dataDir, 'node.json'),
      JSON.stringify({ settings: loadSettings(config).record, membership: { inGroup: true, peer: { nodeId: 'b', address: '127.0.0.3', port, scheme: 'http' }, epoch: 1 } }),
    );
    const file = join(dir, 'unresolvable.json');
    await writeFile(file, JSON.stringify(config));
    const node = AgctlProcess.spawn('a', ['start', '--config', file]);
    try {
      await node.waitForLog((line) => line.msg === 'node listening', 30_000);
      await node.waitForLog((line) => String(line.msg).startsWith('dns_server does not resolve now'), 10_000);
      const state = async () => {
        const response = await fetch(`http://127.0.0.2:${port}/ag/api/v1/state`, { headers: { authorization: `Bearer ${TOKEN}` } });
        return (await response.json()) as { node_dns_connection_state: string; node_role: string };
      };
      expect(await waitFor('the node to report DNS disconnected', async () => ((await state()).node_dns_connection_state === 'disconnected' ? true : undefined), 10_000, 100)).toBe(true);
      // It keeps trying the name and keeps running: its failed DNS requests rise in /metrics.
      const failed = async () => {
        const text = await (await fetch(`http://127.0.0.2:${port}/metrics`)).text();
        return Number(/^ag_dns_errors_total\{kind="unreachable"\} (\d+)/m.exec(text)?.[1] ?? 0);
      };
      const seen = await failed();
      await waitFor('3 more failed DNS requests', async () => (await failed()) >= seen + 3, 15_000, 100);
      expect(node.exitCode).toBeUndefined();
      expect((await state()).node_role).toBe('secondary');
    } finally {
      const code = await node.kill('SIGTERM');
      expect(node.stderr).not.toMatch(/ERR_SOCKET_BAD_PORT|RangeError|    at /);
      expect(code).toBe(0);
    }
    expect(JSON.parse(await readFile(join(dataDir, 'node.json'), 'utf8')).membership.inGroup).toBe(true);
  }, 90_000);
});
