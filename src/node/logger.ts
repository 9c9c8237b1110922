import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * The machine's monotonic clock in ms, with a fraction (CLOCK_MONOTONIC on Linux, through `process.hrtime`). Unlike
 * `performance.now()`, which counts from each process's own start, it is one clock for every process on the
 * machine, so log lines of two node processes order by it exactly (pino's `time` has whole milliseconds only).
 */
export function machineMonotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * The library's logger: pino JSON on stdout, level from `AG_LOG_LEVEL` (default `info`; the test suite sets
 * `silent`). Pass your own pino logger to `createNode` to route logs elsewhere. The TSIG secret, the API token and
 * the peer secret are redacted wherever they appear in a logged object. Every line carries `time` (wall clock, whole
 * ms) and `mono` ({@link machineMonotonicMs}).
 *
 * @example
 * const logger = createLogger({ name: 'node-a' });
 */
export function createLogger(options: { name?: string; level?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'availability-group',
    level: options.level ?? process.env.AG_LOG_LEVEL ?? 'info',
    timestamp: () => `,"time":${Date.now()},"mono":${machineMonotonicMs()}`,
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
