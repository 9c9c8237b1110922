import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import type { AvailabilityNode } from '../node/createNode.js';
import type { HttpPeerTransport } from '../peer/httpPeerTransport.js';
import type { PrimaryLocator } from '../dns/primaryLocator.js';
import { apiRoutes, type HistorySource } from './apiRoutes.js';
import { healthRoutes } from './healthRoutes.js';
import { NodeMetrics } from './nodeMetrics.js';
import { requirePrimaryHook } from './requirePrimaryHook.js';

/** Where the API lives. */
export const API_PREFIX = '/ag/api/v1';
/** The largest API request body accepted (larger ones get 413). */
export const API_BODY_LIMIT = 64 * 1024;

/** Options of {@link availabilityGroupPlugin}. */
export interface AvailabilityGroupPluginOptions {
  readonly node: AvailabilityNode;
  /** The bearer token of the `/ag/api/v1` API (health, metrics and the OpenAPI document need none). */
  readonly apiToken: string;
  /** The HTTP peer transport the node was created with: its routes are registered here. */
  readonly peer?: HttpPeerTransport;
  /** How `PUT /group/members` finds the Primary; see {@link createPrimaryLocator}. */
  readonly locatePrimary?: PrimaryLocator;
  /** The node's history, served at `GET /ag/api/v1/history`; without it that route answers 404. */
  readonly history?: HistorySource;
  /** Metrics served at `/metrics`; default a fresh `NodeMetrics(node)`; false serves none. */
  readonly metrics?: NodeMetrics | false;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** A preHandler that answers 503 unless this app's node acts as Primary now (added by availabilityGroupPlugin). */
    requirePrimary: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

const availabilityGroupRoutes: FastifyPluginAsync<AvailabilityGroupPluginOptions> = async (app, options) => {
  const { node } = options;
  app.decorate('requirePrimary', requirePrimaryHook(node));
  await app.register(healthRoutes, { prefix: API_PREFIX, node });
  await app.register(
    async (api) => {
      api.addHook('onRoute', (route) => {
        route.bodyLimit ??= API_BODY_LIMIT;
      });
      await api.register(apiRoutes, { node, apiToken: options.apiToken, ...(options.locatePrimary === undefined ? {} : { locatePrimary: options.locatePrimary }), ...(options.history === undefined ? {} : { history: options.history }) });
    },
    { prefix: API_PREFIX },
  );
  // Loaded at the first request: building the document (zod's JSON schemas of every body) is no idle node's cost.
  app.get(`${API_PREFIX}/openapi.json`, async () => (await import('./openApiDocument.js')).openApiDocument);
  const metrics = options.metrics ?? new NodeMetrics(node, options.peer === undefined ? {} : { peerRefusals: () => options.peer!.stats.refused });
  if (metrics !== false) {
    app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()));
  }
  if (options.peer !== undefined) await app.register(options.peer.plugin);
};

/**
 * Embeds a node's HTTP face in a fastify app: the `/ag/api/v1` API (bearer token), the health endpoints, `GET
 * /metrics`, `GET /ag/api/v1/openapi.json`, the peer routes, and the `app.requirePrimary` preHandler for the app's
 * own routes. Start the node yourself (`node.start()`); the plugin only serves it. Wrapped by fastify-plugin: the
 * decorator and routes belong to the app that registers it, not to a child scope.
 *
 * @example
 * const peer = createHttpPeerTransport({ peerSecret, timeoutMs: 1000 });
 * const node = createNode(settings, { peer, dns });
 * const app = fastify();
 * await app.register(availabilityGroupPlugin, { node, apiToken, peer });
 * app.post('/jobs', { preHandler: app.requirePrimary }, runJob);
 * await node.start();
 * await app.listen({ host: settings.externalIpv4Address, port: settings.externalPort });
 */
export const availabilityGroupPlugin: FastifyPluginAsync<AvailabilityGroupPluginOptions> = fastifyPlugin(availabilityGroupRoutes, {
  fastify: '5.x',
  name: 'availability-group',
});
