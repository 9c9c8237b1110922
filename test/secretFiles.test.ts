/**
 * Secrets kept out of config files and command lines: `tsig_secret_file`, `api_token_file` and `peer_secret_file` in
 * a node's config, `--tsig-secret-file` and `AG_TSIG_SECRET` for `agctl dns-server`. A file is read at load, its
 * trailing newline trimmed; one that cannot be read is refused naming the field; the secret is never logged or
 * served; and the Primary hands its Secondary the secret itself, never its path.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../src/api/errors.js';
import { AgctlProcess, freePort } from '../src/cli/agctlProcess.js';
import { EXIT_CONFIG, startCommand } from '../src/cli/startCommand.js';
import { stateCommand } from '../src/cli/stateCommand.js';
import { startDnsServer, type RunningDnsServer } from '../src/dns/dnsServer.js';
import { DnsUpdateClient } from '../src/dns/dnsUpdateClient.js';
import { startNetworkedNode, type NetworkedNode } from '../src/http/networkedNode.js';
import { readSecretFiles } from '../src/node/secretFiles.js';
import { loadSettings } from '../src/node/settings.js';
import { captureCli } from './support/networkedGroup.js';

const ZONE = 'example.test';
const FQDN = `app.${ZONE}`;
const TSIG_SECRET = randomBytes(32).toString('base64');
const API_TOKEN = `api-token-${randomBytes(12).toString('hex')}`;
const PEER_SECRET = `peer-secret-${randomBytes(12).toString('hex')}`;
const KEY = { name: `ag-key.${ZONE}`, algorithm: 'hmac-sha256' as const, secret: TSIG_SECRET };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ag-secrets-'));
  await writeFile(join(dir, 'tsig'), `${TSIG_SECRET}\r\n`, { mode: 0o600 });
  await writeFile(join(dir, 'api-token'), `${API_TOKEN}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'peer-secret'), `${PEER_SECRET}\n\n`, { mode: 0o600 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const base = { node_id: 'a', external_ipv4_address: '127.0.0.2' };

describe('readSecretFiles', () => {
  it('replaces each <secret>_file by the secret it holds, trailing newlines trimmed', () => {
    const read = readSecretFiles({ ...base, tsig_secret_file: join(dir, 'tsig'), api_token_file: join(dir, 'api-token'), peer_secret_file: join(dir, 'peer-secret') });
    expect(read).toEqual({ ...base, tsig_secret: TSIG_SECRET, api_token: API_TOKEN, peer_secret: PEER_SECRET });
    const settings = loadSettings(read);
    expect(settings.tsigSecret).toBe(TSIG_SECRET);
    expect(JSON.stringify(settings.record)).not.toContain('_file');
  });

  /** The issues `readSecretFiles(config)` is refused with. */
  function issuesOf(config: Record<string, unknown>) {
    try {
      readSecretFiles(config);
    } catch (error) {
      expect(error).toBeInstanceOf(SettingsError);
      return (error as SettingsError).issues;
    }
    throw new Error('not refused');
  }

  it('refuses a file that cannot be read, naming the field, the path and the error code', () => {
    const missing = join(dir, 'missing');
    expect(issuesOf({ ...base, tsig_secret_file: missing })).toEqual([{ field: 'tsig_secret_file', rule: `cannot be read: ${missing} (ENOENT)` }]);
    expect(issuesOf({ ...base, api_token_file: dir })).toEqual([{ field: 'api_token_file', rule: `cannot be read: ${dir} (EISDIR)` }]);
  });

  it('refuses a secret given both inline and in a file, and a path that is not a string', () => {
    expect(issuesOf({ ...base, peer_secret: PEER_SECRET, peer_secret_file: join(dir, 'peer-secret') })).toEqual([
      { field: 'peer_secret_file', rule: 'cannot be given together with peer_secret: give the secret inline or in a file, not both' },
    ]);
    expect(issuesOf({ ...base, api_token_file: 42 })).toEqual([{ field: 'api_token_file', rule: 'must be the path of a file' }]);
  });

  it('refuses content that breaks the secret’s rule, naming the field, without echoing the content', async () => {
    const weak = join(dir, 'weak');
    await writeFile(weak, 'short-token\n');
    const notBase64 = join(dir, 'not-base64');
    await writeFile(notBase64, 'not base64 at all!\n');
    const issues = issuesOf({ ...base, api_token_file: weak, tsig_secret_file: notBase64 });
    expect(issues).toEqual([
      { field: 'tsig_secret_file', rule: `the content of ${notBase64} must be base64` },
      { field: 'api_token_file', rule: `the content of ${weak} must be at least 16 characters` },
    ]);
    expect(JSON.stringify(issues)).not.toMatch(/short-token|base64 at all/);
  });
});

describe('agctl start', () => {
  it('refuses a secret file that cannot be read with 78, naming the field', async () => {
    const file = join(dir, 'unreadable-secret.json');
    const missing = join(dir, 'no-such-secret');
    await writeFile(file, JSON.stringify({ ...base, dns_server: '127.0.0.1:5353', api_token: API_TOKEN, peer_secret_file: missing }));
    const { code, stderr } = await captureCli(() => startCommand.run(['--config', file]));
    expect(code).toBe(EXIT_CONFIG);
    expect(stderr).toContain(`the config file ${file} is refused: peer_secret_file: cannot be read: ${missing} (ENOENT)`);
  });

  it('--help says how to keep secrets in files', async () => {
    const { stdout } = await captureCli(() => startCommand.run(['--help']));
    expect(stdout).toMatch(/tsig_secret_file, api_token_file and peer_secret_file/);
  });
});

describe('two nodes whose secrets are in files', () => {
  let dns: RunningDnsServer;
  let port: number;
  const nodes: Record<'a' | 'b', NetworkedNode | null> = { a: null, b: null };
  let logged = '';
  const configOf = (id: 'a' | 'b') => ({
    node_id: id,
    external_ipv4_address: id === 'a' ? '127.0.0.2' : '127.0.0.3',
    external_port: port,
    group_fqdn: FQDN,
    dns_server: `127.0.0.1:${dns.port}`,
    api_token_file: join(dir, 'api-token'),
    peer_secret_file: join(dir, 'peer-secret'),
    data_dir: join(dir, `data-${id}`),
    health_report_interval: 0.5,
    health_check_interval: 0.5,
    allowed_absence_interval: 3,
    // Only the node that creates the group has the TSIG key; the other gets it when it joins.
    ...(id === 'a' ? { tsig_name: KEY.name, tsig_secret_file: join(dir, 'tsig') } : {}),
  });
  const api = async (id: 'a' | 'b', method: string, path: string, body?: unknown) => {
    const response = await fetch(`${nodes[id]!.url}/ag/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${API_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    dns = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY });
    port = await freePort(['127.0.0.2', '127.0.0.3'], { from: 18000, to: 18999 });
    // Every log line of both nodes, at the most talkative level.
    const sink = new Writable({ write: (chunk, _encoding, done) => ((logged += String(chunk)), done()) });
    const logger = pino({ level: 'trace' }, sink);
    for (const id of ['a', 'b'] as const) {
      await writeFile(join(dir, `${id}.json`), JSON.stringify(configOf(id)));
      nodes[id] = await startNetworkedNode(configOf(id), { logger: logger.child({ node: id }), processMetrics: false });
    }
  }, 60_000);
  afterAll(async () => {
    for (const node of Object.values(nodes)) await node?.stop({ handOver: false });
    await dns?.stop();
  });

  it('run with the secrets from the files: the API takes the token, the peers sign with the secret, the group is formed with the key', async () => {
    // The API needs at least one setting: the node's own address creates the group with the settings in force.
    expect((await api('a', 'POST', '/group', { external_ipv4_address: '127.0.0.2' })).status).toBe(201);
    expect((await api('b', 'PUT', '/group/members', {})).status).toBe(200);
    // b got the TSIG secret itself from a (sealed on the way), not a's path to it.
    expect(nodes.b!.node.settings.tsigSecret).toBe(TSIG_SECRET);
    const stored = await readFile(join(dir, 'data-b', 'node.json'), 'utf8');
    expect(JSON.parse(stored).settings.tsig_secret).toBe(TSIG_SECRET);
    expect(stored).not.toContain('_file');
    expect(stored).not.toContain(join(dir, 'tsig'));
  });

  it('GET /group blanks the TSIG secret and shows neither the token, the peer secret nor a secret file', async () => {
    for (const id of ['a', 'b'] as const) {
      const group = await api(id, 'GET', '/group');
      expect(group.status).toBe(200);
      expect(group.body.configuration.tsig_secret).toBe('');
      const served = JSON.stringify(group.body);
      for (const secret of [TSIG_SECRET, API_TOKEN, PEER_SECRET]) expect(served).not.toContain(secret);
      expect(served).not.toContain('_file');
    }
  });

  it('PUT /group pushes the group settings with the secret value to the Secondary, which stores the value', async () => {
    const changed = await api('a', 'PUT', '/group', { group_fqdn_ttl: 45 });
    expect(changed.body).toMatchObject({ secondary: 'updated' });
    expect(nodes.b!.node.settings.groupFqdnTtl).toBe(45);
    expect(nodes.b!.node.settings.tsigSecret).toBe(TSIG_SECRET);
    const stored = JSON.parse(await readFile(join(dir, 'data-b', 'node.json'), 'utf8'));
    expect(stored.settings).toMatchObject({ group_fqdn_ttl: 45, tsig_secret: TSIG_SECRET });
    // The Primary's own record holds the value as well: what it persists and pushes never depends on its file.
    expect(nodes.a!.node.settings.record.tsig_secret).toBe(TSIG_SECRET);
  });

  it('agctl state --config reads the token from api_token_file', async () => {
    const { code, stdout } = await captureCli(() => stateCommand.run(['--config', join(dir, 'a.json'), '--output', 'json']));
    expect(code).toBe(0);
    expect(JSON.parse(stdout).node_id).toBe('a');
  });

  it('no log line holds a secret', () => {
    expect(logged.length).toBeGreaterThan(0);
    for (const secret of [TSIG_SECRET, API_TOKEN, PEER_SECRET]) expect(logged).not.toContain(secret);
  });
});

describe('agctl dns-server', () => {
  /** Runs `agctl dns-server` for ZONE on a free port with `flags` and `env`; resolves once it listens, or with its exit. */
  async function dnsServer(flags: string[], env: Record<string, string> = {}) {
    const port = await freePort(['127.0.0.1'], { from: 18000, to: 18999 });
    const child = AgctlProcess.spawn('dns', ['dns-server', '--zone', ZONE, '--listen', `127.0.0.1:${port}`, '--tsig-name', KEY.name, ...flags], env);
    return { child, port };
  }

  /** Whether a client signing with KEY can update the server on `port`. */
  async function acceptsTheKey(port: number): Promise<boolean> {
    const client = new DnsUpdateClient({ server: { host: '127.0.0.1', port }, zone: ZONE, tsig: KEY, timeoutMs: 1000, retries: 1 });
    try {
      await client.compareAndSwap(FQDN, { address: null }, { address: '127.0.0.9' }, { ttl: 30 });
      return (await client.read(FQDN)).address === '127.0.0.9';
    } finally {
      client.close();
    }
  }

  it.each<[string, string[], Record<string, string>]>([
    ['--tsig-secret-file (trailing newline trimmed)', ['--tsig-secret-file', 'TSIG_FILE'], {}],
    ['AG_TSIG_SECRET', [], { AG_TSIG_SECRET: TSIG_SECRET }],
  ])('takes the secret from %s, so that it is not on the command line', async (_how, flags, env) => {
    const { child, port } = await dnsServer(flags.map((flag) => (flag === 'TSIG_FILE' ? join(dir, 'tsig') : flag)), env);
    try {
      await child.waitForLog((line) => line.msg === 'DNS server listening', 20_000);
      expect(await acceptsTheKey(port)).toBe(true);
    } finally {
      expect(await child.kill('SIGTERM')).toBe(0);
    }
    expect(child.logs.map((line) => JSON.stringify(line)).join('\n')).not.toContain(TSIG_SECRET);
  });

  it.each<[string, string[], Record<string, string>, RegExp]>([
    ['both flags', ['--tsig-secret', TSIG_SECRET, '--tsig-secret-file', 'TSIG_FILE'], {}, /--tsig-secret and --tsig-secret-file exclude each other/],
    ['a file that cannot be read', ['--tsig-secret-file', 'MISSING'], {}, /--tsig-secret-file: cannot be read: .*no-such-file \(ENOENT\)/],
    ['no secret at all', [], {}, /--tsig-secret-file, --tsig-secret or AG_TSIG_SECRET is required/],
    ['a file that is not base64', ['--tsig-secret-file', 'BAD_FILE'], {}, /--tsig-secret-file: not base64/],
  ])('exits 2 for %s, naming the flag, never echoing a secret', async (_how, flags, env, message) => {
    await writeFile(join(dir, 'bad-tsig'), 'not base64 at all!\n');
    const named = flags.map((flag) => ({ TSIG_FILE: join(dir, 'tsig'), MISSING: join(dir, 'no-such-file'), BAD_FILE: join(dir, 'bad-tsig') })[flag] ?? flag);
    const { child } = await dnsServer(named, { AG_TSIG_SECRET: '', ...env });
    expect(await child.exited()).toBe(2);
    expect(child.stderr).toMatch(message);
    expect(child.stderr).not.toContain(TSIG_SECRET);
    expect(child.stderr).not.toContain('base64 at all');
  });

  it('--help names the file flag and the environment variable', async () => {
    const { child } = await dnsServer(['--help']);
    expect(await child.exited()).toBe(0);
    const help = child.logs.map((line) => String(line.msg)).join('\n');
    expect(help).toContain('--tsig-secret-file <file>');
    expect(help).toContain('AG_TSIG_SECRET');
  });
});
