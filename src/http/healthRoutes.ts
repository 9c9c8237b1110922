import type { FastifyPluginAsync } from 'fastify';
import type { AvailabilityNode } from '../node/createNode.js';
import { NodeRole } from '../api/constants.js';
import { roleOf } from './requirePrimaryHook.js';

/**
 * Health endpoints for load balancers, without a token (register with `{ prefix: '/ag/api/v1' }`):
 * - `GET /health`: 200 while the node runs;
 * - `GET /health/primary`: 200 only while it acts as Primary (lease checked now), else 503;
 * - `GET /health/secondary`: 200 only while it is a Secondary, else 503.
 * Bodies are `{status, node_role, acting_primary}`; nothing else is revealed.
 *
 * @example
 * await app.register(healthRoutes, { prefix: '/ag/api/v1', node });
 */
export const healthRoutes: FastifyPluginAsync<{ node: AvailabilityNode }> = async (app, { node }) => {
  const answer = (healthy: boolean) => ({ status: healthy ? 'ok' : 'unavailable', node_role: roleOf(node), acting_primary: node.isActingPrimary() });
  app.get('/health', async (_request, reply) => {
    const up = node.actor !== null;
    return reply.code(up ? 200 : 503).send(answer(up));
  });
  app.get('/health/primary', async (_request, reply) => {
    const healthy = node.isActingPrimary();
    return reply.code(healthy ? 200 : 503).send(answer(healthy));
  });
  app.get('/health/secondary', async (_request, reply) => {
    const healthy = node.actor !== null && !node.isActingPrimary() && node.getNodeState().nodeRole === NodeRole.SECONDARY;
    return reply.code(healthy ? 200 : 503).send(answer(healthy));
  });
};
