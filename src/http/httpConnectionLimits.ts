/**
 * Limits on the connections a node's HTTP server holds, so that slow or idle clients cannot use up its file
 * descriptors and starve what matters: the peer's heartbeats, `GET /state`, the load balancer's health check, and
 * the node's own DNS and peer sockets. Node.js and fastify close nothing on their own for minutes (no connection cap,
 * a 300 s request timeout checked every 30 s); a node applies the limits below instead.
 */
import type { Server } from 'node:http';
import type { FastifyServerOptions } from 'fastify';
import type { Logger } from '../api/logger.js';
import { SettingsError, type SettingsIssue } from '../api/errors.js';
import { ConnectionGate } from '../net/connectionGate.js';

/** The limits, in connections and milliseconds. */
export interface HttpConnectionLimits {
  /** Connections held at once; more are closed at once. */
  readonly maxConnections: number;
  /** Connections held at once from one client address; more are closed at once. */
  readonly maxConnectionsPerAddress: number;
  /** A request's headers must arrive within this long (Node's `headersTimeout`); else 408 and close. */
  readonly headersTimeoutMs: number;
  /** A whole request must arrive within this long (Node's `requestTimeout`); else 408 and close. */
  readonly requestTimeoutMs: number;
  /** A connection on which nothing moves either way for this long is closed (fastify's `connectionTimeout`). */
  readonly connectionTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long (fastify's `keepAliveTimeout`). */
  readonly keepAliveTimeoutMs: number;
  /** Requests served on one connection before it is closed (Node's `maxRequestsPerSocket`). */
  readonly maxRequestsPerSocket: number;
}

/**
 * The defaults: well below the usual 1,024 file descriptors per process, timeouts that a client on a slow link
 * still meets, and fastify's own keep-alive timeout (72 s, longer than load balancers' idle timeouts, so a load
 * balancer never reuses a connection the node is closing).
 */
export const DEFAULT_HTTP_CONNECTION_LIMITS: HttpConnectionLimits = {
  maxConnections: 512,
  maxConnectionsPerAddress: 64,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  connectionTimeoutMs: 60_000,
  keepAliveTimeoutMs: 72_000,
  maxRequestsPerSocket: 1000,
};

/** The environment variable of each limit; timeouts are in seconds (fractions allowed), the rest are counts. */
export const HTTP_LIMIT_ENV: Readonly<Record<keyof HttpConnectionLimits, string>> = {
  maxConnections: 'AG_HTTP_MAX_CONNECTIONS',
  maxConnectionsPerAddress: 'AG_HTTP_MAX_CONNECTIONS_PER_ADDRESS',
  headersTimeoutMs: 'AG_HTTP_HEADERS_TIMEOUT',
  requestTimeoutMs: 'AG_HTTP_REQUEST_TIMEOUT',
  connectionTimeoutMs: 'AG_HTTP_CONNECTION_TIMEOUT',
  keepAliveTimeoutMs: 'AG_HTTP_KEEP_ALIVE_TIMEOUT',
  maxRequestsPerSocket: 'AG_HTTP_MAX_REQUESTS_PER_SOCKET',
};

const isTimeout = (name: keyof HttpConnectionLimits): boolean => name.endsWith('Ms');

/**
 * The limits set in `env` (see {@link HTTP_LIMIT_ENV}); throws `SettingsError` naming each variable that is not a
 * number above 0.
 *
 * @example
 * httpConnectionLimitsFromEnv({ AG_HTTP_HEADERS_TIMEOUT: '2.5' }) // { headersTimeoutMs: 2500 }
 */
export function httpConnectionLimitsFromEnv(env: Readonly<Record<string, string | undefined>>): Partial<HttpConnectionLimits> {
  const limits: Partial<Record<keyof HttpConnectionLimits, number>> = {};
  const issues: SettingsIssue[] = [];
  for (const [name, variable] of Object.entries(HTTP_LIMIT_ENV) as Array<[keyof HttpConnectionLimits, string]>) {
    const text = env[variable];
    if (text === undefined || text === '') continue;
    const value = Number(text);
    if (isTimeout(name)) {
      if (!/^\d+(\.\d+)?$/.test(text) || !(value >= 0.001) || value > 86_400) issues.push({ field: variable, rule: `must be seconds between 0.001 and 86400, got ${JSON.stringify(text)}` });
      else limits[name] = Math.round(value * 1000);
    } else if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
      issues.push({ field: variable, rule: `must be a whole number above 0, got ${JSON.stringify(text)}` });
    } else limits[name] = value;
  }
  if (issues.length > 0) throw new SettingsError(issues);
  return limits;
}

/**
 * `partial` over the defaults, checked; throws `SettingsError` (fields named by their environment variables) when a
 * value is not a positive integer or the headers timeout exceeds the request timeout.
 *
 * @example
 * const limits = resolveHttpConnectionLimits({ headersTimeoutMs: 2000 });
 */
export function resolveHttpConnectionLimits(partial: Partial<HttpConnectionLimits> = {}): HttpConnectionLimits {
  const limits: HttpConnectionLimits = { ...DEFAULT_HTTP_CONNECTION_LIMITS };
  for (const [name, value] of Object.entries(partial) as Array<[keyof HttpConnectionLimits, number | undefined]>) {
    if (value !== undefined) (limits as Record<keyof HttpConnectionLimits, number>)[name] = value;
  }
  const issues: SettingsIssue[] = [];
  for (const [name, value] of Object.entries(limits) as Array<[keyof HttpConnectionLimits, number]>) {
    if (!Number.isSafeInteger(value) || value < 1) issues.push({ field: HTTP_LIMIT_ENV[name], rule: `must be a whole number above 0${isTimeout(name) ? ' (ms)' : ''}, got ${String(value)}` });
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    issues.push({ field: HTTP_LIMIT_ENV.headersTimeoutMs, rule: `must not exceed ${HTTP_LIMIT_ENV.requestTimeoutMs} (${limits.requestTimeoutMs / 1000} s)` });
  }
  if (issues.length > 0) throw new SettingsError(issues);
  return limits;
}

/**
 * The fastify options that carry the limits (the rest are set on the server by {@link applyHttpConnectionLimits}).
 *
 * @example
 * const app = fastify({ logger: false, ...fastifyConnectionOptions(limits) });
 */
export function fastifyConnectionOptions(limits: HttpConnectionLimits): Pick<FastifyServerOptions, 'connectionTimeout' | 'keepAliveTimeout' | 'requestTimeout' | 'maxRequestsPerSocket'> {
  return {
    connectionTimeout: limits.connectionTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
  };
}

/**
 * Applies the limits to a server that does not listen yet: the headers timeout, how often Node checks the request
 * and headers timeouts (by default only every 30 s, so a 10 s timeout could take 40 s), and the connection caps,
 * counted from the server's `connection` event. Returns the gate, whose `stats` count what was refused.
 *
 * @example
 * const gate = applyHttpConnectionLimits(app.server, limits, logger);
 * await app.listen({ host, port });
 */
export function applyHttpConnectionLimits(server: Server, limits: HttpConnectionLimits, logger?: Logger): ConnectionGate {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  // Read when the server starts listening; a quarter of the shorter timeout keeps each within 25 % of its value.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(
    50,
    Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)),
  );
  const gate = new ConnectionGate(limits, { what: 'HTTP server', logger });
  server.on('connection', (socket) => gate.admit(socket));
  return gate;
}

/**
 * Closes a fastify app without letting slow clients hold the close open: once the server stops listening Node no
 * longer enforces the headers and request timeouts, so a client that never finishes its request would keep
 * `app.close()` waiting forever. Requests in flight get `graceMs` to finish; then every connection left is closed.
 *
 * @example
 * await closeWithin(app, 1000);
 */
export async function closeWithin(app: { close(): Promise<unknown>; server: Server }, graceMs: number): Promise<void> {
  const timer = setTimeout(() => app.server.closeAllConnections(), graceMs);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
}
