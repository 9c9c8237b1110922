/**
 * `agctl dns-server`: runs the embedded authoritative DNS server for one zone until SIGTERM or SIGINT.
 */
import { parseArgs } from 'node:util';
import { isIP } from 'node:net';
import { pino, type Logger } from 'pino';
import { startDnsServer } from '../dns/dnsServer.js';
import { TSIG_ALGORITHMS, type TsigAlgorithm } from '../dns/tsig.js';

const USAGE = `Usage: agctl dns-server --zone <zone> --listen <ip>:<port> --tsig-name <name> --tsig-secret <base64>
                        [--tsig-algorithm hmac-sha256|hmac-sha512] [--data <file>]

Runs an authoritative DNS server for <zone> on UDP and TCP, accepting RFC 2136 updates signed with the TSIG key.

  --zone <zone>              the zone served, e.g. example.test
  --listen <ip>:<port>       address and port for UDP and TCP, e.g. 127.0.0.1:5353 ([::1]:5353 for IPv6)
  --tsig-name <name>         name of the TSIG key updates must be signed with
  --tsig-secret <base64>     the key's secret, base64 (as in BIND's key block)
  --tsig-algorithm <alg>     ${TSIG_ALGORITHMS.join(', ')} (default hmac-sha256)
  --data <file>              keep the zone in this JSON file, rewritten atomically on each change
  --help                     show this text

Logs are JSON lines on stdout. Stops cleanly on SIGTERM or SIGINT.`;

/** A command-line mistake: the message names the flag. */
class UsageError extends Error {}

/**
 * Runs `agctl dns-server` with `argv` (the arguments after `dns-server`). Resolves with the exit code: 0 after a
 * clean stop, 2 for invalid arguments, 1 when the server cannot start.
 *
 * @example
 * process.exitCode = await dnsServerCommand(['--zone', 'example.test', '--listen', '127.0.0.1:5353', '--tsig-name', 'ag-key', '--tsig-secret', secret]);
 */
export async function dnsServerCommand(argv: string[], io: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream } = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  let settings: ReturnType<typeof parseSettings>;
  try {
    settings = parseSettings(argv);
  } catch (error) {
    stderr.write(`agctl dns-server: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (settings === 'help') {
    stdout.write(`${USAGE}\n`);
    return 0;
  }
  const logger: Logger = pino({ level: process.env.AG_LOG_LEVEL ?? 'info', base: { component: 'dns-server' } }, pino.destination({ dest: 1, sync: true }));
  let server;
  try {
    server = await startDnsServer({ ...settings, logger });
  } catch (error) {
    logger.error({ err: error }, 'DNS server could not start');
    return 1;
  }
  const running = server;
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      logger.info({ signal }, 'stopping DNS server');
      running.stop().then(
        () => resolve(0),
        (error: unknown) => {
          logger.error({ err: error }, 'DNS server did not stop cleanly');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

function parseSettings(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        zone: { type: 'string' },
        listen: { type: 'string' },
        'tsig-name': { type: 'string' },
        'tsig-secret': { type: 'string' },
        'tsig-algorithm': { type: 'string', default: 'hmac-sha256' },
        data: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    // parseArgs names the flag in its message ("Unknown option '--x'", "Option '--zone <value>' argument missing").
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values;
  if (values.help) return 'help' as const;
  const required = (flag: 'zone' | 'listen' | 'tsig-name' | 'tsig-secret'): string => {
    const value = values[flag];
    if (value === undefined || value === '') throw new UsageError(`--${flag} is required`);
    return value;
  };
  const zone = required('zone');
  if (!/^([A-Za-z0-9_-]{1,63}\.)*[A-Za-z0-9_-]{1,63}\.?$/.test(zone)) throw new UsageError(`--zone: not a domain name: ${JSON.stringify(zone)}`);
  const listenText = required('listen');
  const listen = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listenText);
  const host = listen?.[1] ?? listen?.[2];
  const port = Number(listen?.[3]);
  if (host === undefined || isIP(host) === 0 || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(`--listen: expected <ip>:<port>, e.g. 127.0.0.1:5353, got ${JSON.stringify(listenText)}`);
  }
  const name = required('tsig-name');
  const secret = required('tsig-secret');
  // The secret itself is never echoed back, only the fact that it is wrong.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(secret) || secret.length % 4 !== 0) throw new UsageError('--tsig-secret: not base64');
  const algorithm = values['tsig-algorithm'] as string;
  if (!(TSIG_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new UsageError(`--tsig-algorithm: expected one of ${TSIG_ALGORITHMS.join(', ')}, got ${JSON.stringify(algorithm)}`);
  }
  return {
    zone,
    listen: { host, port },
    tsig: { name, algorithm: algorithm as TsigAlgorithm, secret },
    ...(values.data === undefined ? {} : { dataFile: values.data }),
  };
}
