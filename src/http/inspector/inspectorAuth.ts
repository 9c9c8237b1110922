import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { forbidden, unauthorized } from '../apiError.js';

/**
 * The inspector's token check, as an onRequest hook: `Authorization: Bearer <token>`, or `?token=<token>` because
 * the page's EventSource cannot set headers. No credentials: 401; wrong ones: 403; both in the API's error shape.
 * Compared in constant time over SHA-256 digests, so neither the token nor its length leaks through timing.
 *
 * @example
 * app.addHook('onRequest', inspectorAuth(settings.apiToken));
 */
export function inspectorAuth(apiToken: string): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = digest(apiToken);
  return async (request, reply) => {
    const presented = presentedToken(request);
    const error = presented === null ? unauthorized() : timingSafeEqual(digest(presented), expected) ? null : forbidden();
    if (error !== null) await reply.code(error.status).header('cache-control', 'no-store').send(error.body());
  };
}

function presentedToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header !== undefined) return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? null;
  const query = request.query as Record<string, unknown> | undefined;
  return typeof query?.token === 'string' && query.token !== '' ? query.token : null;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
