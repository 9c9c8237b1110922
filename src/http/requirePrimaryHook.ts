import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AvailabilityNode } from '../node/createNode.js';
import { ApiError } from './apiError.js';

/**
 * A fastify `preHandler` that lets a request through only while `node` acts as Primary (role primary and a lease
 * valid at that instant, docs/design.md rule 7); otherwise it answers 503 `{code: "ServiceUnavailable", ...}` and the
 * route handler never runs.
 *
 * @example
 * app.post('/jobs', { preHandler: requirePrimaryHook(node) }, runJob);
 */
export function requirePrimaryHook(node: AvailabilityNode) {
  return async function requirePrimary(_request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (node.isActingPrimary()) return;
    const error = new ApiError(503, 'ServiceUnavailable', 'This node is not acting as Primary.', { node_role: roleOf(node) });
    await reply.code(503).header('retry-after', '1').send(error.body());
  };
}

/** The node's role, or `stopped` when it does not run. */
export function roleOf(node: AvailabilityNode): string {
  return node.actor === null ? 'stopped' : node.getNodeState().nodeRole;
}
