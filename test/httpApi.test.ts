/**
 * The /ag/api/v1 API, the health endpoints, /metrics and the OpenAPI document, in process (fastify inject): the
 * product's shapes, token checks, content types, bad bodies, oversized bodies, and no secret in any answer.
 */
import { readFile } from 'node:fs/promises';
import { fastify, type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNode, type AvailabilityNode } from '../src/node/createNode.js';
import { inMemoryPorts } from '../src/node/inMemoryPorts.js';
import { silentLogger } from '../src/api/logger.js';
import { availabilityGroupPlugin } from '../src/http/availabilityGroupPlugin.js';
import { openApiDocument } from '../src/http/openApiDocument.js';
import { waitFor } from '../src/cli/agctlProcess.js';

const TOKEN = 'api-token-0123456789';
const TSIG_SECRET = Buffer.alloc(32, 9).toString('base64');
const auth = { authorization: `Bearer ${TOKEN}` };
const json = { ...auth, 'content-type': 'application/json' };

let node: AvailabilityNode;
let app: FastifyInstance;

beforeEach(async () => {
  node = createNode(
    {
      node_id: 'a',
      external_ipv4_address: '127.0.0.2',
      external_port: 18080,
      group_fqdn: 'app.example.test',
      api_token: TOKEN,
      peer_secret: 'peer-secret-0123456789',
      data_dir: '/var/lib/ag-test-data-dir-0123',
      tsig_name: 'key.example.test',
      tsig_secret: TSIG_SECRET,
      health_report_interval: 0.1,
      health_check_interval: 0.1,
      allowed_absence_interval: 0.5,
    },
    { ...inMemoryPorts(), logger: silentLogger() },
  );
  app = fastify();
  await app.register(availabilityGroupPlugin, { node, apiToken: TOKEN });
  app.post('/work', { preHandler: app.requirePrimary }, async () => ({ done: true }));
  await node.start();
});

afterEach(async () => {
  await node.stop({ handOver: false });
  await app.close();
});

describe('authentication', () => {
  it('answers 401 in the product shape without a token', async () => {
    const response = await app.inject({ method: 'GET', url: '/ag/api/v1/state' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ code: 'Unauthorized', details: {}, message: 'Authentication is required.', status: 401 });
  });

  it('answers 403 in the product shape with a wrong token', async () => {
    const response = await app.inject({ method: 'GET', url: '/ag/api/v1/group', headers: { authorization: 'Bearer wrong-token-000000' } });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ code: 'Forbidden', details: {}, message: 'Insufficient access rights.', status: 403 });
  });

  it('checks the token before the body', async () => {
    const response = await app.inject({ method: 'PUT', url: '/ag/api/v1/configuration', headers: { 'content-type': 'text/plain' }, payload: 'x' });
    expect(response.statusCode).toBe(401);
  });
});

describe('state and group', () => {
  it('serves the state with the product keys and ISO times', async () => {
    await node.createGroup();
    // The first confirmed heartbeat sets last_heartbeat_time.
    const body = await waitFor('a confirmed heartbeat', async () => {
      const state = (await app.inject({ method: 'GET', url: '/ag/api/v1/state', headers: auth })).json();
      return state.last_heartbeat_time !== null ? state : undefined;
    }, 5000);
    expect(body).toMatchObject({ node_role: 'primary', node_dns_connection_state: 'connected', node_id: 'a', epoch: 1, acting_primary: true });
    for (const key of ['heartbeat_method', 'last_heartbeat_time', 'last_updated']) expect(body).toHaveProperty(key);
    expect(body.last_heartbeat_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
  });

  it('serves the group in the product shape: members as addresses, details apart, tsig_secret "" and no token or peer secret', async () => {
    await node.createGroup();
    const response = await app.inject({ method: 'GET', url: '/ag/api/v1/group', headers: auth });
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(['all_members', 'configuration', 'configuration_extensions', 'member_details', 'members', 'state']);
    expect(body.all_members).toEqual([{ node_id: 'a', address: '127.0.0.2', port: 18080, scheme: 'http', priority: 100, role: 'primary' }]);
    expect(body.configuration.tsig_secret).toBe('');
    expect(body.members).toEqual({ primary: '127.0.0.2', secondary: null });
    expect(body.member_details).toEqual({ primary: { node_id: 'a', address: '127.0.0.2', port: 18080, scheme: 'http' }, secondary: null });
    expect(body.configuration_extensions).toEqual({ lease_duration: 0.375, dns_server: null, coordination: 'dns', etcd_endpoints: null, etcd_prefix: '/availability-group' });
    expect(response.body).not.toContain(TSIG_SECRET);
    expect(response.body).not.toContain(TOKEN);
    expect(response.body).not.toContain('peer-secret-0123456789');
    expect(response.body).not.toContain('ag-test-data-dir');
  });

  it('serves the product configuration keys only: no node_id, no data_dir, no secret, nothing of this project', async () => {
    await node.createGroup();
    const body = (await app.inject({ method: 'GET', url: '/ag/api/v1/group', headers: auth })).json();
    expect(body.configuration).toEqual({
      allowed_absence_interval: 0.5,
      external_ipv4_address: '127.0.0.2',
      external_port: 18080,
      external_scheme: 'http',
      group_fqdn: 'app.example.test',
      group_fqdn_ttl: 30,
      health_check_interval: 0.1,
      health_report_interval: 0.1,
      tsig_algorithm: 'hmac-sha256',
      tsig_name: 'key.example.test',
      tsig_secret: '',
    });
  });

  it('a GET /group configuration sent back as it is changes nothing and is accepted', async () => {
    await node.createGroup();
    const { configuration } = (await app.inject({ method: 'GET', url: '/ag/api/v1/group', headers: auth })).json();
    const response = await app.inject({ method: 'PUT', url: '/ag/api/v1/group', headers: json, payload: configuration });
    expect(response.json()).toEqual({ message: 'Availability group configuration updated.', secondary: 'none' });
    expect(node.settings.tsigSecret).toBe(TSIG_SECRET);
  });

  it('refuses {} with 400 naming the rule on POST /group, PUT /group and PUT /configuration, and applies nothing', async () => {
    const routes = [
      ['POST', '/ag/api/v1/group'],
      ['PUT', '/ag/api/v1/configuration'],
    ] as const;
    for (const [method, url] of routes) {
      const response = await app.inject({ method, url, headers: json, payload: {} });
      expect(response.statusCode, `${method} ${url}`).toBe(400);
      expect(response.json()).toMatchObject({ code: 'BadRequest', details: { fields: { '(body)': expect.stringContaining('at least one setting') } } });
    }
    expect(node.getNodeState().nodeRole).toBe('not_in_group');
    await node.createGroup();
    const put = await app.inject({ method: 'PUT', url: '/ag/api/v1/group', headers: json, payload: {} });
    expect(put.statusCode).toBe(400);
    expect(put.json().message).toContain('(body): must include at least one setting');
  });

  it('creates a group with POST /group and refuses a second one with 409', async () => {
    const created = await app.inject({ method: 'POST', url: '/ag/api/v1/group', headers: json, payload: { health_report_interval: 0.1 } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({ message: 'Availability group created.' });
    expect(node.getNodeState().nodeRole).toBe('primary');
    const again = await app.inject({ method: 'POST', url: '/ag/api/v1/group', headers: json, payload: { external_ipv4_address: '127.0.0.2' } });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'Conflict', status: 409 });
  });

  it('updates settings on the Primary with PUT /group; tsig_secret "" keeps the secret', async () => {
    await node.createGroup();
    const response = await app.inject({ method: 'PUT', url: '/ag/api/v1/group', headers: json, payload: { group_fqdn_ttl: 45, tsig_secret: '' } });
    // A group without a Secondary has nobody to push the settings to.
    expect(response.json()).toEqual({ message: 'Availability group configuration updated.', secondary: 'none' });
    expect(node.settings.groupFqdnTtl).toBe(45);
    expect(node.settings.tsigSecret).toBe(TSIG_SECRET);
  });

  it('refuses with 400 a timer change too large for the moment one node still runs the old timers, and takes a smaller step', async () => {
    await node.createGroup();
    // Failover period 0.5 s -> 0.3 s: the old 0.375 s lease would outlast the new period.
    const tooFar = await app.inject({ method: 'PUT', url: '/ag/api/v1/group', headers: json, payload: { allowed_absence_interval: 0.3 } });
    expect(tooFar.statusCode).toBe(400);
    expect(tooFar.json().details.fields).toEqual({ allowed_absence_interval: expect.stringContaining('rule 3: while the change reaches both nodes') });
    expect(node.settings.allowedAbsenceInterval).toBe(0.5);
    const step = await app.inject({ method: 'PUT', url: '/ag/api/v1/group', headers: json, payload: { allowed_absence_interval: 0.4 } });
    expect(step.statusCode).toBe(200);
    expect(node.settings.allowedAbsenceInterval).toBe(0.4);
  });

  it('refuses PUT /group when not in a group, and PUT /configuration when in one', async () => {
    expect((await app.inject({ method: 'PUT', url: '/ag/api/v1/group', headers: json, payload: { group_fqdn_ttl: 45 } })).statusCode).toBe(409);
    expect((await app.inject({ method: 'PUT', url: '/ag/api/v1/configuration', headers: json, payload: { group_fqdn_ttl: 45 } })).statusCode).toBe(200);
    await node.createGroup();
    expect((await app.inject({ method: 'PUT', url: '/ag/api/v1/configuration', headers: json, payload: { group_fqdn_ttl: 50 } })).statusCode).toBe(409);
    expect(node.settings.groupFqdnTtl).toBe(45);
  });

  it('leaves with DELETE /group (409 outside a group); a Primary alone tells nobody', async () => {
    expect(await app.inject({ method: 'DELETE', url: '/ag/api/v1/group', headers: auth })).toMatchObject({ statusCode: 409 });
    await node.createGroup();
    const left = await app.inject({ method: 'DELETE', url: '/ag/api/v1/group', headers: auth });
    expect(left.statusCode).toBe(200);
    expect(left.json()).toEqual({ message: 'Node left the availability group.', peer: 'none' });
    expect(node.getNodeState().nodeRole).toBe('not_in_group');
  });

  it('removes members with DELETE /group/members/{node_id}: 409 outside a group, 404 for no such member', async () => {
    expect((await app.inject({ method: 'DELETE', url: '/ag/api/v1/group/members/b', headers: auth })).statusCode).toBe(409);
    await node.createGroup();
    const missing = await app.inject({ method: 'DELETE', url: '/ag/api/v1/group/members/b', headers: auth });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'NotFound', details: { error_code: 'AG_NO_SUCH_MEMBER', node_id: 'b' } });
    expect(missing.json().message).toMatch(/no Secondary/);
  });

  it('refuses a failover outside a group with 409', async () => {
    const response = await app.inject({ method: 'PUT', url: '/ag/api/v1/failover', headers: auth });
    expect(response.statusCode).toBe(409);
  });

  it('refuses a join without a way to find the Primary, naming dns_server', async () => {
    const response = await app.inject({ method: 'PUT', url: '/ag/api/v1/group/members', headers: json, payload: { group_fqdn: 'app.example.test' } });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toContain('dns_server');
  });
});

describe('bad requests lose nothing', () => {
  it('answers 415 for a body that is not declared JSON, and for a missing Content-Type', async () => {
    const plain = await app.inject({ method: 'PUT', url: '/ag/api/v1/configuration', headers: { ...auth, 'content-type': 'text/plain' }, payload: '{"group_fqdn_ttl":5}' });
    expect(plain.statusCode).toBe(415);
    expect(plain.json()).toMatchObject({ code: 'UnsupportedMediaType', status: 415 });
    const missing = await app.inject({ method: 'PUT', url: '/ag/api/v1/configuration', headers: auth });
    expect(missing.statusCode).toBe(415);
    expect(node.settings.groupFqdnTtl).toBe(30);
  });

  it('answers 400 naming each bad field and the rule, and applies nothing', async () => {
    const response = await app.inject({ method: 'PUT', url: '/ag/api/v1/configuration', headers: json, payload: { group_fqdn_ttl: 60, health_report_interval: -1, colour: 'blue' } });
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body.code).toBe('BadRequest');
    expect(body.details.fields).toHaveProperty('health_report_interval');
    expect(body.details.fields.colour).toBe('is not a known setting');
    expect(body.message).toContain('health_report_interval');
    expect(node.settings.groupFqdnTtl).toBe(30);
  });

  it('refuses node-only fields and a listening address other than the one in force', async () => {
    const token = await app.inject({ method: 'PUT', url: '/ag/api/v1/configuration', headers: json, payload: { api_token: 'x'.repeat(20) } });
    expect(token.json().details.fields.api_token).toMatch(/config file/);
    const port = await app.inject({ method: 'PUT', url: '/ag/api/v1/configuration', headers: json, payload: { external_port: 9999 } });
    expect(port.statusCode).toBe(400);
    expect(port.json().details.fields.external_port).toMatch(/18080/);
  });

  it('answers 400 for malformed JSON and for a body that is not an object', async () => {
    expect((await app.inject({ method: 'PUT', url: '/ag/api/v1/configuration', headers: json, payload: '{"group_fqdn_ttl":' })).statusCode).toBe(400);
    const array = await app.inject({ method: 'PUT', url: '/ag/api/v1/configuration', headers: json, payload: '[1]' });
    expect(array.statusCode).toBe(400);
    expect(array.json().message).toContain('(body)');
  });

  it('answers 413 for an oversized body', async () => {
    const response = await app.inject({ method: 'PUT', url: '/ag/api/v1/configuration', headers: json, payload: JSON.stringify({ tsig_name: 'a'.repeat(100_000) }) });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ code: 'PayloadTooLarge', status: 413 });
  });

  it('answers 404 in the error shape for an unknown API route', async () => {
    const response = await app.inject({ method: 'GET', url: '/ag/api/v1/nothing', headers: auth });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ code: 'NotFound', status: 404 });
  });
});

describe('health, requirePrimary, metrics, OpenAPI', () => {
  it('health endpoints need no token and follow the role', async () => {
    expect((await app.inject({ method: 'GET', url: '/ag/api/v1/health' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/ag/api/v1/health/primary' })).statusCode).toBe(503);
    expect((await app.inject({ method: 'POST', url: '/work' })).statusCode).toBe(503);
    await node.createGroup();
    expect((await app.inject({ method: 'GET', url: '/ag/api/v1/health/primary' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/ag/api/v1/health/secondary' })).statusCode).toBe(503);
    expect((await app.inject({ method: 'POST', url: '/work' })).json()).toEqual({ done: true });
  });

  it('requirePrimary answers 503 in the error shape once the node stops acting as Primary', async () => {
    await node.createGroup();
    await node.leaveGroup();
    const response = await app.inject({ method: 'POST', url: '/work' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ code: 'ServiceUnavailable', details: { node_role: 'not_in_group' } });
  });

  it('serves Prometheus metrics: role, epoch, heartbeat age, failovers', async () => {
    await node.createGroup();
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toMatch(/^ag_node_role\{role="primary"\} 1$/m);
    expect(response.body).toMatch(/^ag_node_epoch 1$/m);
    expect(response.body).toMatch(/^ag_heartbeat_age_seconds /m);
    expect(response.body).toMatch(/^ag_failovers_total 0$/m);
  });

  it('serves the OpenAPI document, the same as docs/openapi.json', async () => {
    const served = (await app.inject({ method: 'GET', url: '/ag/api/v1/openapi.json' })).json();
    expect(served.openapi).toBe('3.1.0');
    expect(Object.keys(served.paths)).toEqual(expect.arrayContaining(['/state', '/group', '/group/members', '/group/members/{node_id}', '/configuration', '/failover']));
    expect(Object.keys(served.paths['/group'])).toEqual(expect.arrayContaining(['get', 'post', 'put', 'delete']));
    const documented = JSON.parse(await readFile(new URL('../docs/openapi.json', import.meta.url), 'utf8'));
    expect(documented).toEqual(JSON.parse(JSON.stringify(openApiDocument)));
  });
});
