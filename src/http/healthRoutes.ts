import type { FastifyPluginAsync } from 'fastify';
import type { AvailabilityNode } from '../node/createNode.js';
import { NodeRole } from '../api/constants.js';
import { roleOf } from './requirePrimaryHook.js';

/**
 * Health endpoints for load balancers, without a token (register with `{ prefix: '/ag/api/v1' }`):
 * - `GET /health`: 200 while the node runs;
 * - `GET /health/primary`: 200 only while it acts as Primary (lease checked now), else 503;
 * - `GET /health/secondary`: 200 only while it is a Secondary ready to take over, else 503: a Secondary whose
 *   application health check (docs/design.md rule 10) is not healthy cannot take over, so it answers 503.
 * Bodies are `{status, node_role, acting_primary, application_health}`; nothing else is revealed.
 *
 * @example
 * await app.register(healthRoutes, { prefix: '/ag/api/v1', node });
 */
export const healthRoutes: FastifyPluginAsync<{ node: AvailabilityNode }> = async (app, { node }) => {
  const applicationHealth = () => (node.actor === null ? null : node.getNodeState().applicationHealth);
  const answer = (healthy: boolean) => ({ status: healthy ? 'ok' : 'unavailable', node_role: roleOf(node), acting_primary: node.isActingPrimary(), application_health: applicationHealth() });
  app.get('/health', async (_request, reply) => {
    const up = node.actor !== null;
    return reply.code(up ? 200 : 503).send(answer(up));
  });
  app.get('/health/primary', async (_request, reply) => {
    const healthy = node.isActingPrimary();
    return reply.code(healthy ? 200 : 503).send(answer(healthy));
  });
  app.get('/health/secondary', async (_request, reply) => {
    const state = node.actor === null ? null : node.getNodeState();
    // Rule 10: a Secondary whose application is not healthy (or not yet known) could not take over.
    const healthy = state !== null && !node.isActingPrimary() && state.nodeRole === NodeRole.SECONDARY && (state.applicationHealth === null || state.applicationHealth === 'healthy');
    return reply.code(healthy ? 200 : 503).send(answer(healthy));
  });
};
