/**
 * `agctl status`: the table, JSON and YAML renderings, the row of a node that does not answer, and a real group of
 * two networked nodes (in this process) seen from one node's config: both nodes in one table, then the Secondary
 * gone and its row saying so. Also `agctl state` and `group show` in table form.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../src/cli/agctlProcess.js';
import { ApiCallError } from '../src/cli/apiClient.js';
import { membersOf, nodeStatusFrom, renderGroupStatus, type GroupStatus } from '../src/cli/groupStatus.js';
import { groupCommand } from '../src/cli/groupCommand.js';
import { renderKeyValues, renderTable } from '../src/cli/renderTable.js';
import { stateCommand } from '../src/cli/stateCommand.js';
import { statusCommand } from '../src/cli/statusCommand.js';
import { toYaml } from '../src/cli/toYaml.js';
import { captureCli, startNetworkedGroup, type NetworkedGroup } from './support/networkedGroup.js';

const NOW = Date.parse('2026-11-29T12:00:10.000Z');
const STATE_A = {
  heartbeat_method: 'direct',
  last_heartbeat_time: '2026-11-29T12:00:08.500+00:00',
  last_updated: '2026-11-29T12:00:08.500+00:00',
  node_dns_connection_state: 'connected',
  node_role: 'primary',
  node_id: 'a',
  epoch: 7,
  acting_primary: true,
  lease_remaining_ms: 44_200,
  state: 'primary{authority.acting,lease.valid}',
  maintenance: false,
  application_health: 'healthy',
};

describe('rendering', () => {
  it('renderTable pads every column but the last, "-" for null', () => {
    expect(renderTable(['NODE', 'ROLE', 'X'], [['a', 'primary', null], ['bb', undefined, 1]])).toBe('NODE  ROLE     X\na     primary  -\nbb    -        1\n');
  });

  it('renderKeyValues flattens nested objects and aligns the values', () => {
    expect(renderKeyValues({ node_role: 'primary', members: { primary: '127.0.0.2', secondary: null }, tsig_secret: '' })).toBe(
      'node_role          primary\nmembers.primary    127.0.0.2\nmembers.secondary  -\ntsig_secret        ""\n',
    );
  });

  it('toYaml writes block YAML and quotes what YAML would read as another type', () => {
    expect(toYaml({ node: 'a', epoch: 7, acting: true, lease: null, tags: ['x', { k: 'v' }], none: [], empty: {} })).toBe(
      'node: a\nepoch: 7\nacting: true\nlease: null\ntags:\n  - x\n  - k: v\nnone: []\nempty: {}\n',
    );
    for (const text of ['true', 'no', 'null', '1.5', '-1', '', ' lead', 'a: b', 'a #b', '- x', '[x]', '~', "'quoted"]) {
      expect(toYaml({ value: text })).toBe(`value: ${JSON.stringify(text)}\n`);
    }
    expect(toYaml({ time: '2026-11-29T12:00:08.500+00:00' })).toBe('time: "2026-11-29T12:00:08.500+00:00"\n');
    expect(toYaml({ url: 'http://127.0.0.2:8080', text: "it's fine" })).toBe("url: http://127.0.0.2:8080\ntext: it's fine\n");
  });

  it('a row from a node state: heartbeat age on this clock, maintenance and application health', () => {
    const row = nodeStatusFrom('http://127.0.0.2:8080', { status: 200, body: STATE_A }, null, NOW);
    expect(row).toMatchObject({ node_id: 'a', reachable: true, error: null, heartbeat_age_s: 1.5, maintenance: false, application_health: 'healthy', epoch: 7 });
  });

  it('a node without maintenance and application_health shows "-" there', () => {
    const { maintenance: _m, application_health: _h, ...older } = STATE_A;
    const status: GroupStatus = { group_fqdn: 'app.example.test', nodes: [nodeStatusFrom('http://127.0.0.2:8080', { status: 200, body: older }, null, NOW)] };
    const [title, header, row] = renderGroupStatus(status).split('\n');
    expect(title).toBe('Group: app.example.test');
    expect(header!.split(/\s{2,}/)).toEqual(['NODE', 'ADDRESS', 'ROLE', 'ACTING', 'EPOCH', 'DNS', 'HEARTBEAT', 'LEASE LEFT', 'MAINTENANCE', 'APP HEALTH']);
    expect(row!.split(/\s{2,}/)).toEqual(['a', 'http://127.0.0.2:8080', 'primary', 'yes', '7', 'connected', 'direct 1.5s ago', '44.2s', '-', '-']);
  });

  it('a node that does not answer is a row saying so, and the reason follows the table', () => {
    const status: GroupStatus = {
      group_fqdn: 'app.example.test',
      nodes: [
        nodeStatusFrom('http://127.0.0.2:8080', { status: 200, body: STATE_A }, null, NOW),
        nodeStatusFrom('http://127.0.0.3:8080', null, new ApiCallError('unreachable', 'cannot reach http://127.0.0.3:8080: connect ECONNREFUSED'), NOW, 'b'),
        nodeStatusFrom('http://127.0.0.4:8080', { status: 403, body: { message: 'Insufficient access rights.' } }, null, NOW, 'c'),
      ],
    };
    const lines = renderGroupStatus(status).split('\n');
    expect(lines[2]!.split(/\s{2,}/)).toEqual(['a', 'http://127.0.0.2:8080', 'primary', 'yes', '7', 'connected', 'direct 1.5s ago', '44.2s', 'off', 'healthy']);
    expect(lines[3]!.split(/\s{2,}/).slice(0, 4)).toEqual(['b', 'http://127.0.0.3:8080', 'unreachable', '-']);
    expect(lines[4]!.split(/\s{2,}/).slice(0, 3)).toEqual(['c', 'http://127.0.0.4:8080', 'error']);
    expect(lines[5]).toBe('b: cannot reach http://127.0.0.3:8080: connect ECONNREFUSED');
    expect(lines[6]).toBe('c: 403 Insufficient access rights.');
  });

  it('membersOf reads member_details only', () => {
    const body = {
      members: { primary: '127.0.0.2', secondary: '127.0.0.3' },
      member_details: { primary: { node_id: 'a', address: '127.0.0.2', port: 8080, scheme: 'http' }, secondary: { node_id: 'b', address: '127.0.0.3', port: 8443, scheme: 'https' } },
    };
    expect(membersOf(body)).toEqual([
      { nodeId: 'a', url: 'http://127.0.0.2:8080' },
      { nodeId: 'b', url: 'https://127.0.0.3:8443' },
    ]);
    expect(membersOf({ members: body.members })).toEqual([]);
    expect(membersOf({ member_details: { primary: null, secondary: null } })).toEqual([]);
  });
});

describe('agctl status on a real group of two networked nodes', () => {
  let net: NetworkedGroup;
  beforeAll(async () => {
    net = await startNetworkedGroup(['a', 'b']);
    expect((await net.api('a', 'POST', '/group', net.createBody)).status).toBe(201);
    expect((await net.api('b', 'PUT', '/group/members', {})).status).toBe(200);
    await waitFor('b to see direct heartbeats', async () => (await net.api('b', 'GET', '/state')).body.heartbeat_method === 'direct', 15_000, 20);
  }, 60_000);
  afterAll(async () => {
    await net?.stop();
  });

  it("one node's config shows both nodes: a acting Primary, b Secondary", async () => {
    const { code, stdout, stderr } = await captureCli(() => statusCommand.run(['--config', net.configFile('a')]));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe('Group: app.example.test');
    const rows = lines.slice(2, 4).map((line) => line.split(/\s{2,}/));
    expect(rows.map((row) => row.slice(0, 4))).toEqual([
      ['a', `http://127.0.0.2:${net.port}`, 'primary', 'yes'],
      ['b', `http://127.0.0.3:${net.port}`, 'secondary', 'no'],
    ]);
    expect(rows[1]![6]).toMatch(/^direct \d+\.\ds ago$/);
  });

  it("the Secondary's config finds the Primary too; --output json and yaml", async () => {
    const json = await captureCli(() => statusCommand.run(['--config', net.configFile('b'), '--output', 'json']));
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout) as GroupStatus;
    expect(status.group_fqdn).toBe('app.example.test');
    expect(status.nodes.map((node) => [node.node_id, node.node_role, node.acting_primary, node.reachable])).toEqual([
      ['a', 'primary', true, true],
      ['b', 'secondary', false, true],
    ]);
    expect(status.nodes[0]!.epoch).toBe(status.nodes[1]!.epoch);
    const yaml = await captureCli(() => statusCommand.run(['--config', net.configFile('b'), '-o', 'yaml']));
    expect(yaml.stdout).toMatch(/^group_fqdn: app\.example\.test\nnodes:\n {2}- node_id: a\n/);
  });

  it('--watch with --count redraws that many tables, then exits', async () => {
    const { code, stdout } = await captureCli(() => statusCommand.run(['--config', net.configFile('a'), '--watch', '0.05', '--count', '3']));
    expect(code).toBe(0);
    expect(stdout.match(/^Every 0\.05s: agctl status/gm)).toHaveLength(3);
    expect(stdout.match(/^Group: app\.example\.test$/gm)).toHaveLength(3);
    const json = await captureCli(() => statusCommand.run(['--config', net.configFile('a'), '-w', '0.05', '--count', '2', '-o', 'json']));
    const reports = json.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as GroupStatus);
    expect(reports.map((report) => report.nodes.map((node) => node.node_id))).toEqual([['a', 'b'], ['a', 'b']]);
  });

  it('agctl state and group show print tables by default, JSON on request', async () => {
    const state = await captureCli(() => stateCommand.run(['--config', net.configFile('a')]));
    expect(state.code).toBe(0);
    expect(state.stdout).toMatch(/^node_role\s+primary$/m);
    expect(state.stdout).toMatch(/^acting_primary\s+true$/m);
    const stateJson = await captureCli(() => stateCommand.run(['--config', net.configFile('a'), '-o', 'json']));
    expect(JSON.parse(stateJson.stdout).node_id).toBe('a');
    const group = await captureCli(() => groupCommand.run(['show', '--config', net.configFile('b')]));
    expect(group.code).toBe(0);
    expect(group.stdout).toMatch(/^member_details\.primary\.node_id\s+a$/m);
    expect(group.stdout).toMatch(/^configuration\.tsig_secret\s+""$/m);
    expect(group.stdout).not.toContain(net.key.secret);
  });

  it('with the Secondary gone, its row says unreachable and the exit code is 1', async () => {
    await net.crash('b');
    const { code, stdout } = await captureCli(() => statusCommand.run(['--config', net.configFile('a'), '--timeout', '2']));
    expect(code).toBe(1);
    const lines = stdout.split('\n');
    expect(lines[2]!.split(/\s{2,}/).slice(0, 4)).toEqual(['a', `http://127.0.0.2:${net.port}`, 'primary', 'yes']);
    expect(lines[3]!.split(/\s{2,}/).slice(0, 3)).toEqual(['b', `http://127.0.0.3:${net.port}`, 'unreachable']);
    expect(lines[4]).toMatch(/^b: cannot reach http:\/\/127\.0\.0\.3:\d+: /);
  });

  it("with only the gone node's config: one row saying so, no crash", async () => {
    const { code, stdout, stderr } = await captureCli(() => statusCommand.run(['--config', net.configFile('b'), '--timeout', '2']));
    expect(stderr).toBe('');
    expect(code).toBe(1);
    expect(stdout).toContain('Group: (unknown)');
    expect(stdout.split('\n')[2]!.split(/\s{2,}/).slice(1, 3)).toEqual([`http://127.0.0.3:${net.port}`, 'unreachable']);
  });

  it('usage errors: nothing to ask, a bad --output, --count without --watch', async () => {
    expect(await captureCli(() => statusCommand.run([]))).toMatchObject({ code: 2 });
    expect((await captureCli(() => statusCommand.run(['--config', net.configFile('a'), '-o', 'xml']))).code).toBe(2);
    expect((await captureCli(() => statusCommand.run(['--config', net.configFile('a'), '--count', '2']))).stderr).toContain('--count needs --watch');
  });
});
