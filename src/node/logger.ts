import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * The library's logger: pino JSON on stdout, level from `AG_LOG_LEVEL` (default `info`; the test suite sets
 * `silent`). Pass your own pino logger to `createNode` to route logs elsewhere. The TSIG secret, the API token and
 * the peer secret are redacted wherever they appear in a logged object.
 *
 * @example
 * const logger = createLogger({ name: 'node-a' });
 */
export function createLogger(options: { name?: string; level?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'availability-group',
    level: options.level ?? process.env.AG_LOG_LEVEL ?? 'info',
    redact: {
      paths: ['tsig_secret', 'tsigSecret', 'api_token', 'apiToken', 'peer_secret', 'peerSecret', '*.tsig_secret', '*.tsigSecret', '*.api_token', '*.apiToken', '*.peer_secret', '*.peerSecret', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}

/** A logger that writes nothing. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
