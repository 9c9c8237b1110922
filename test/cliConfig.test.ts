/**
 * `agctl config validate` lists every problem of a config file (field, value, rule; exit 78) or prints "ok" and a
 * summary; `agctl config example` prints a commented config that validate accepts; loadSettings says "required"
 * for a missing field.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../src/api/errors.js';
import { readConfigFile, withoutCommentLines } from '../src/cli/cliConfig.js';
import { configCommand, EXAMPLE_CONFIG } from '../src/cli/configCommand.js';
import { EXAMPLE_SECRETS } from '../src/cli/configValidation.js';
import { EXIT_CONFIG } from '../src/cli/startCommand.js';
import { loadSettings } from '../src/node/settings.js';
import { captureCli } from './support/networkedGroup.js';

const TOKEN = 'api-token-config-0123456789';
const PEER_SECRET = 'peer-secret-config-0123456789';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ag-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let count = 0;
async function file(content: string | Record<string, unknown>): Promise<string> {
  count += 1;
  const path = join(dir, `node-${count}.json`);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

const VALID = {
  node_id: 'a',
  external_ipv4_address: '127.0.0.2',
  dns_server: '127.0.0.1:5353',
  api_token: TOKEN,
  peer_secret: PEER_SECRET,
  group_fqdn: 'app.example.test',
};

const validate = (path: string, ...flags: string[]) => captureCli(() => configCommand.run(['validate', '--config', path, ...flags]));

describe('loadSettings names a missing field "required"', () => {
  it('node_id: required, not zod\'s "Invalid input"', () => {
    const { node_id: _omitted, ...rest } = VALID;
    expect(() => loadSettings(rest)).toThrow(SettingsError);
    expect(() => loadSettings(rest)).toThrow('node_id: required');
    try {
      loadSettings(rest);
    } catch (error) {
      expect((error as SettingsError).issues).toEqual([{ field: 'node_id', rule: 'required' }]);
      expect((error as Error).message).not.toContain('Invalid input');
    }
  });

  it('a value of the wrong type: "must be a <type>"', () => {
    expect(() => loadSettings({ ...VALID, node_id: 7 })).toThrow('node_id: must be a string');
    expect(() => loadSettings({ ...VALID, inspect: 'yes' })).toThrow('inspect: must be a boolean');
    expect(() => loadSettings('a string')).toThrow('(settings): must be an object');
  });
});

describe('agctl config validate', () => {
  it('a valid file: exit 0, "ok" and a summary that shows no secret', async () => {
    const { code, stdout, stderr } = await validate(await file(VALID));
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^ok: /);
    expect(stdout).toMatch(/node\s+a at http:\/\/127\.0\.0\.2:8080/);
    expect(stdout).toMatch(/timers\s+heartbeat 20 s, standby check 30 s, failover period 60 s, lease 45 s/);
    expect(stdout).toMatch(/secrets\s+api_token \(inline\), peer_secret \(inline\)/);
    expect(stdout).not.toContain(TOKEN);
    expect(stdout).not.toContain(PEER_SECRET);
  });

  it('exit 78 with every problem listed: field, value and rule, secrets hidden', async () => {
    const path = await file({
      external_ipv4_address: '127.0.0.300',
      external_port: 0,
      health_report_interval: 'fast',
      api_token: 'short-secret',
      tsig_secret_file: join(dir, 'no-such-file'),
      colour: 'blue',
    });
    const { code, stdout, stderr } = await validate(path);
    expect(code).toBe(EXIT_CONFIG);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${path} has 9 problems`);
    const rows = stderr.split('\n').slice(2).filter((line) => line !== '');
    const byField = new Map(rows.map((line) => [line.split(/\s{2,}/)[0], line.split(/\s{2,}/).slice(1)]));
    expect(byField.get('node_id')).toEqual(['(missing)', 'required']);
    expect(byField.get('external_ipv4_address')).toEqual(['"127.0.0.300"', 'must be an IPv4 address']);
    expect(byField.get('external_port')).toEqual(['0', 'must be from 1 to 65535']);
    expect(byField.get('health_report_interval')).toEqual(['"fast"', 'must be a number of seconds']);
    expect(byField.get('api_token')).toEqual(['(hidden)', 'must be at least 16 characters']);
    expect(byField.get('tsig_secret_file')?.[1]).toMatch(/^cannot be read: .*no-such-file \(ENOENT\)$/);
    expect(byField.get('colour')).toEqual(['"blue"', 'is not a known setting']);
    expect(byField.get('peer_secret')?.[1]).toMatch(/^is required to run a networked node/);
    expect(byField.get('dns_server')?.[1]).toMatch(/^is required to run a networked node/);
    expect(stderr).not.toContain('short-secret');
  });

  it('the timer rules, once every field is valid', async () => {
    const { code, stderr } = await validate(await file({ ...VALID, health_report_interval: 30, health_check_interval: 90 }));
    expect(code).toBe(EXIT_CONFIG);
    expect(stderr).toMatch(/health_report_interval\s+30\s+rule 3: 2 heartbeats must fit into the lease/);
    expect(stderr).toMatch(/health_check_interval\s+90\s+rule 1: /);
  });

  it('https without TLS files, a TLS file that cannot be read, a data_dir that is a file', async () => {
    const notADir = await file('{}');
    const { code, stderr } = await validate(await file({ ...VALID, external_scheme: 'https', tls_cert_file: join(dir, 'missing.pem'), data_dir: notADir }));
    expect(code).toBe(EXIT_CONFIG);
    expect(stderr).toMatch(/tls_key_file\s+\(missing\)\s+is required when external_scheme is https/);
    expect(stderr).toMatch(/tls_cert_file\s+".*missing\.pem"\s+cannot be read: .*\(ENOENT\)/);
    expect(stderr).toMatch(/data_dir\s+".*"\s+must be a directory/);
  });

  it.each([
    ['not JSON', '{ "node_id": "a", }', /is not valid JSON/],
    ['not an object', '[1, 2]', /must hold a JSON object/],
  ])('a file that is %s: 78 naming the file', async (_what, content, rule) => {
    const path = await file(content);
    const { code, stderr } = await validate(path);
    expect(code).toBe(EXIT_CONFIG);
    expect(stderr).toContain('(file)');
    expect(stderr).toMatch(rule);
  });

  it('a file that does not exist: 78', async () => {
    const { code, stderr } = await validate(join(dir, 'absent.json'));
    expect(code).toBe(EXIT_CONFIG);
    expect(stderr).toMatch(/cannot read the config file .*absent\.json: ENOENT/);
  });

  it('--output json lists the problems for tools, on stdout', async () => {
    const { code, stdout } = await validate(await file({ ...VALID, node_id: undefined, external_port: 'x' }), '--output', 'json');
    expect(code).toBe(EXIT_CONFIG);
    const report = JSON.parse(stdout);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual(
      expect.arrayContaining([
        { field: 'node_id', value: '(missing)', rule: 'required' },
        { field: 'external_port', value: '"x"', rule: 'must be a number' },
      ]),
    );
  });

  it('usage errors: no action, an unknown action, no --config, a bad --output', async () => {
    expect((await captureCli(() => configCommand.run([]))).code).toBe(2);
    expect((await captureCli(() => configCommand.run(['check']))).stderr).toContain('give an action: validate or example');
    expect((await captureCli(() => configCommand.run(['validate']))).stderr).toContain('config validate needs --config <file>');
    const bad = await captureCli(() => configCommand.run(['validate', '--config', 'x.json', '--output', 'xml']));
    expect(bad).toMatchObject({ code: 2 });
    expect(bad.stderr).toContain('--output must be table, json or yaml');
  });
});

describe('agctl config example', () => {
  it('prints a commented example that config validate accepts, warning about its placeholder secrets', async () => {
    const example = await captureCli(() => configCommand.run(['example']));
    expect(example.code).toBe(0);
    expect(example.stdout).toBe(EXAMPLE_CONFIG);
    expect(example.stdout.split('\n').filter((line) => line.trimStart().startsWith('//')).length).toBeGreaterThan(10);
    const path = await file(example.stdout);
    const { code, stdout, stderr } = await validate(path);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ok: /);
    for (const field of Object.keys(EXAMPLE_SECRETS)) expect(stderr).toContain(`warning: ${field} is still the placeholder`);
    for (const secret of Object.values(EXAMPLE_SECRETS)) expect(stdout + stderr).not.toContain(secret);
  });

  it('a real secret instead of the placeholder: no warning', async () => {
    const config = await readConfigFile(await file(EXAMPLE_CONFIG));
    const { code, stderr } = await validate(await file({ ...config, api_token: TOKEN, peer_secret: PEER_SECRET, tsig_secret: Buffer.from('a real key').toString('base64') }));
    expect(code).toBe(0);
    expect(stderr).toBe('');
  });
});

describe('comment lines in config files', () => {
  it('whole-line // comments are blanked (line numbers kept); a comment after a value is still an error', async () => {
    expect(withoutCommentLines('{\n  // a comment\n  "node_id": "a"\n}')).toBe('{\n\n  "node_id": "a"\n}');
    expect(await readConfigFile(await file('// top\n{\n    // x\n  "node_id": "a"\n}\n'))).toEqual({ node_id: 'a' });
    await expect(readConfigFile(await file('{ "node_id": "a" // trailing\n}'))).rejects.toThrow(/is not valid JSON/);
    // "//" inside a string is data, not a comment.
    expect(await readConfigFile(await file('{ "health_url": "http://127.0.0.1:8000/healthz" }'))).toEqual({ health_url: 'http://127.0.0.1:8000/healthz' });
  });
});
