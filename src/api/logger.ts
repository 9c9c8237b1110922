import { createRequire } from 'node:module';
import type { pino as pinoFactory, Logger as PinoLogger } from 'pino';

/**
 * pino, loaded on the first {@link createLogger} call rather than when the package is imported: code that passes
 * its own logger, or none, never loads it. pino is CommonJS only, so `require` gives the same module an import would.
 */
function loadPino(): typeof pinoFactory {
  return (createRequire(import.meta.url)('pino') as { pino: typeof pinoFactory }).pino;
}

/**
 * One log method, as pino and fastify's `app.log` have it: a merge object then a message, or a message alone.
 */
export interface LogFn {
  (object: object, message?: string): void;
  (message: string): void;
}

/**
 * The logger the library writes to: the least a pino-compatible logger has, so that pino's own logger, a child
 * of it, or fastify's `app.log` (`FastifyBaseLogger`) can be passed as it is. The library calls the level methods
 * and `child`; `isLevelEnabled` is used when present (pino has it) to skip building debug details nobody reads.
 *
 * @example
 * const app = fastify({ logger: true });
 * const node = createNode(settings, { ...inMemoryPorts(), logger: app.log });
 */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
  isLevelEnabled?(level: string): boolean;
}

/**
 * The machine's monotonic clock in ms, with a fraction (CLOCK_MONOTONIC on Linux, through `process.hrtime`). Unlike
 * `performance.now()`, which counts from each process's own start, it is one clock for every process on the
 * machine, so log lines of two node processes order by it exactly (pino's `time` has whole milliseconds only).
 */
export function machineMonotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * A pino logger writing JSON lines to stdout, level from `AG_LOG_LEVEL` (default `info`; the test suite sets
 * `silent`): what `agctl` logs with. The library itself writes nothing unless given a logger (`createNode`'s and
 * `startNetworkedNode`'s `logger`): pass this one, your own pino logger, or fastify's `app.log`. The TSIG secret, the API token and
 * the peer secret are redacted wherever they appear in a logged object. Every line carries `time` (wall clock, whole
 * ms) and `mono` ({@link machineMonotonicMs}).
 *
 * @example
 * const logger = createLogger({ name: 'node-a' });
 */
export function createLogger(options: { name?: string; level?: string } = {}): PinoLogger {
  return loadPino()({
    name: options.name ?? 'availability-group',
    level: options.level ?? process.env.AG_LOG_LEVEL ?? 'info',
    timestamp: () => `,"time":${Date.now()},"mono":${machineMonotonicMs()}`,
    redact: {
      paths: ['tsig_secret', 'tsigSecret', 'api_token', 'apiToken', 'peer_secret', 'peerSecret', '*.tsig_secret', '*.tsigSecret', '*.api_token', '*.apiToken', '*.peer_secret', '*.peerSecret', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}

/** A logger that writes nothing: the library's default when no logger is given. */
export function silentLogger(): Logger {
  return SILENT;
}

const ignore: LogFn = () => undefined;
const SILENT: Logger = {
  trace: ignore,
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
  fatal: ignore,
  child: () => SILENT,
  isLevelEnabled: () => false,
};
