/**
 * The inspector's HTTP face on a real node: the token rule, the views, the event log, the server-sent events, and
 * no secret in any answer.
 */
import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fastify from 'fastify';
import { createNode } from '../src/node/createNode.js';
import { inMemoryPorts } from '../src/node/inMemoryPorts.js';
import { silentLogger } from '../src/api/logger.js';
import { InspectorConfigError, inspectorPlugin, type LiveView } from '../src/http/inspector/inspectorPlugin.js';
import { readReplayTrace } from '../src/http/inspector/replayTrace.js';
import { listenInTestRange, startTwoNodes, testApp, TEST_TOKEN, waitFor, type TwoNodes } from './support/inspector.js';

const PATHS = ['/ag/inspect', '/ag/inspect/state.json', '/ag/inspect/log', '/ag/inspect/chart.svg'];

describe('inspectorPlugin', () => {
  let nodes: TwoNodes;
  const app = testApp();

  beforeAll(async () => {
    nodes = await startTwoNodes();
    await app.register(inspectorPlugin, { node: nodes.b, log: nodes.log, apiToken: TEST_TOKEN });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await nodes.stop();
  });

  it.each(PATHS)('%s answers 401 without a token and 403 with a wrong one, in the API error shape', async (url) => {
    const none = await app.inject({ url });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ code: 'Unauthorized', message: 'Authentication is required.', details: {}, status: 401 });
    const wrong = await app.inject({ url, headers: { authorization: 'Bearer not-the-token-at-all' } });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json()).toMatchObject({ code: 'Forbidden', status: 403 });
    const wrongQuery = await app.inject({ url: `${url}?token=nope` });
    expect(wrongQuery.statusCode).toBe(403);
  });

  it.each(PATHS)('%s answers with the token as a bearer header or as ?token=', async (url) => {
    expect((await app.inject({ url, headers: { authorization: `Bearer ${TEST_TOKEN}` } })).statusCode).toBe(200);
    expect((await app.inject({ url: `${url}?token=${TEST_TOKEN}` })).statusCode).toBe(200);
  });

  it('serves the page with the chart inline and nothing from elsewhere', async () => {
    const page = await app.inject({ url: `/ag/inspect?token=${TEST_TOKEN}` });
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('id="state-member.following.secondary.watching"');
    expect(page.body).not.toMatch(/<script[^>]+src=|<link[^>]+href="http|@import/);
  });

  it('shows the node state and the transitions that led to it', async () => {
    const view = (await app.inject({ url: `/ag/inspect/state.json?token=${TEST_TOKEN}` })).json() as LiveView;
    expect(view.node).toBe('b');
    expect(view.state).toMatch(/^secondary\./);
    expect(view.activeIds).toContain('member.following.secondary');
    expect(view.nodeState?.nodeRole).toBe('secondary');
    const states = view.entries.map((entry) => entry.state);
    expect(states[0]).toBe('notInGroup');
    expect(states).toContain('resolving');
    expect(view.entries.find((entry) => entry.state === 'resolving')?.eventLabel).toBe('JOIN_GROUP');
  });

  it('serves the event log as JSON lines that the replay reader accepts', async () => {
    const log = await app.inject({ url: `/ag/inspect/log?token=${TEST_TOKEN}&download` });
    expect(log.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(log.headers['content-disposition']).toContain('ag-node-b.log.jsonl');
    const trace = readReplayTrace(log.body);
    expect(trace.nodes).toEqual(['b']);
    expect(trace.steps.length).toBe(nodes.log.entries().length);
  });

  it('never answers with a secret', async () => {
    const secrets = { tsig_secret: 'c2VjcmV0LXRzaWcta2V5LWZvci10ZXN0cw==', peer_secret: 'peer-secret-for-inspector-tests', api_token: TEST_TOKEN };
    const node = createNode({ node_id: 'c', external_ipv4_address: '127.0.0.4', group_fqdn: 'c.inspect.test', tsig_name: 'key.inspect.test', ...secrets }, { ...inMemoryPorts(), logger: silentLogger() });
    await node.start();
    await node.createGroup();
    const own = fastify({ logger: false });
    await own.register(inspectorPlugin, { node, apiToken: TEST_TOKEN });
    try {
      for (const url of PATHS) {
        const body = (await own.inject({ url, headers: { authorization: `Bearer ${TEST_TOKEN}` } })).body;
        expect(body).not.toContain(secrets.tsig_secret);
        expect(body).not.toContain(secrets.peer_secret);
        expect(body).not.toContain(TEST_TOKEN);
      }
    } finally {
      await own.close();
      await node.stop();
    }
  });

  it('streams a snapshot, then each state change, as server-sent events', async () => {
    const streamApp = testApp();
    await streamApp.register(inspectorPlugin, { node: nodes.b, log: nodes.log, apiToken: TEST_TOKEN });
    const base = await listenInTestRange(streamApp, 19460);
    let text = '';
    const request = get(`${base}/ag/inspect/stream?token=${TEST_TOKEN}`, (response) => {
      expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
    });
    try {
      await waitFor('the snapshot event', () => text.includes('event: snapshot\n'));
      await nodes.b.failover();
      await waitFor('a transition to primary', () => /event: transition\ndata: .*"state":"primary\{/.test(text));
      const events = text.split('\n\n').filter((block) => block.startsWith('event: transition'));
      const entry = JSON.parse(events.at(-1)!.split('data: ')[1]!).entry;
      expect(entry.node).toBe('b');
    } finally {
      request.destroy();
      await streamApp.close();
    }
  });
});

describe('inspectorPlugin configuration', () => {
  it('refuses to register without a token unless open', async () => {
    const node = createNode({ node_id: 'd', external_ipv4_address: '127.0.0.5' }, { ...inMemoryPorts(), logger: silentLogger() });
    await expect(fastify({ logger: false }).register(inspectorPlugin, { node })).rejects.toThrow(InspectorConfigError);
    const open = fastify({ logger: false });
    await open.register(inspectorPlugin, { node, open: true });
    const view = (await open.inject({ url: '/ag/inspect/state.json' })).json() as LiveView;
    expect(view).toMatchObject({ node: 'd', state: null, nodeState: null });
    await node.start();
    expect(((await open.inject({ url: '/ag/inspect/state.json' })).json() as LiveView).state).toBe('notInGroup');
    await open.close();
    await node.stop();
  });
});
