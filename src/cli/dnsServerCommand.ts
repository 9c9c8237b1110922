/**
 * `agctl dns-server`: runs the embedded authoritative DNS server for one zone until SIGTERM or SIGINT.
 */
import { isIP } from 'node:net';
import { pino, type Logger } from 'pino';
import { DEFAULT_DNS_TCP_LIMITS, startDnsServer } from '../dns/dnsServer.js';
import { ZoneFileCorruptError } from '../dns/errors.js';
import { CliUsageError } from '../api/errors.js';
import { TSIG_ALGORITHMS, type TsigAlgorithm } from '../dns/tsig.js';
import { SettingsError } from '../api/errors.js';
import { readSecretFile } from '../node/secretFiles.js';
import { parseCli } from './cliConfig.js';

const USAGE = `agctl dns-server: run the embedded authoritative DNS server for one zone

Usage: agctl dns-server --zone <zone> --listen <ip>:<port> --tsig-name <name>
                        [--tsig-secret-file <file> | --tsig-secret <base64>]
                        [--tsig-algorithm hmac-sha256|hmac-sha512] [--data <file>]
                        [--tcp-idle-timeout <s>] [--max-tcp-connections <n>] [--max-tcp-per-address <n>]

Runs an authoritative DNS server for <zone> on UDP and TCP, accepting RFC 2136 updates signed with the TSIG key.
Without --tsig-secret-file or --tsig-secret, the secret is read from the environment variable AG_TSIG_SECRET.
Logs are JSON lines on stdout. Stops cleanly on SIGTERM or SIGINT.

Options:
  --zone <zone>              the zone served, e.g. example.test
  --listen <ip>:<port>       address and port for UDP and TCP, e.g. 127.0.0.1:5353 ([::1]:5353 for IPv6)
  --tsig-name <name>         name of the TSIG key updates must be signed with
  --tsig-secret-file <file>  a file holding the key's secret, base64 (trailing newline trimmed)
  --tsig-secret <base64>     the key's secret itself (shows in ps: prefer the file or AG_TSIG_SECRET)
  --tsig-algorithm <alg>     ${TSIG_ALGORITHMS.join(', ')} (default hmac-sha256)
  --data <file>              keep the zone in this JSON file (snapshot) and <file>.jnl (journal); each change is
                             made durable in the journal before it is answered
  --tcp-idle-timeout <s>     close a TCP connection on which no whole message arrived for this long
                             (default ${DEFAULT_DNS_TCP_LIMITS.idleTimeoutMs / 1000}; fractions allowed)
  --max-tcp-connections <n>  TCP connections held at once (default ${DEFAULT_DNS_TCP_LIMITS.maxConnections})
  --max-tcp-per-address <n>  TCP connections held at once from one client address (default ${DEFAULT_DNS_TCP_LIMITS.maxConnectionsPerAddress})
  -h, --help                 show this help

Exit codes:
  0   stopped by SIGTERM or SIGINT
  1   the server cannot start (other than below)
  2   usage error (invalid flags)
  65  the --data file or its journal is damaged: nothing is changed; the message names the file and line

Examples:
  agctl dns-server --zone example.test --listen 127.0.0.1:5353 --tsig-name ag-key --tsig-secret-file tsig.key
  AG_TSIG_SECRET=... agctl dns-server --zone example.test --listen 127.0.0.1:5353 --tsig-name ag-key --data zone.json`;

/**
 * Exit code when the zone data (`--data` or its journal) is damaged: BSD sysexits' EX_DATAERR, "the input data was
 * incorrect". Distinct from 1 so that a supervisor does not restart the server in a loop over files that need a
 * person, and from 78 (`agctl start`'s refused config file).
 */
export const EXIT_DATA_CORRUPT = 65;

/** A command-line mistake: the message names the flag. */
const UsageError = CliUsageError;

/** The environment variable the TSIG secret is read from when neither --tsig-secret-file nor --tsig-secret gives it. */
export const TSIG_SECRET_ENV = 'AG_TSIG_SECRET';

/**
 * The TSIG secret and where it came from: `--tsig-secret-file` (the file's content, trailing newline trimmed),
 * `--tsig-secret`, or else the environment variable {@link TSIG_SECRET_ENV}; the two flags exclude each other. Keeping
 * it in a file or the environment keeps it out of `ps`.
 */
function tsigSecretFrom(values: { readonly 'tsig-secret'?: string | undefined; readonly 'tsig-secret-file'?: string | undefined }): { secret: string; source: string } {
  const inline = values['tsig-secret'];
  const file = values['tsig-secret-file'];
  if (inline !== undefined && file !== undefined) throw new UsageError('--tsig-secret and --tsig-secret-file exclude each other: give one');
  if (file !== undefined) {
    try {
      return { secret: readSecretFile('--tsig-secret-file', file), source: '--tsig-secret-file' };
    } catch (error) {
      throw new UsageError(error instanceof SettingsError ? `--tsig-secret-file: ${error.issues[0]?.rule ?? 'cannot be read'}` : (error as Error).message);
    }
  }
  if (inline !== undefined && inline !== '') return { secret: inline, source: '--tsig-secret' };
  const fromEnv = process.env[TSIG_SECRET_ENV];
  if (inline === undefined && fromEnv !== undefined && fromEnv !== '') return { secret: fromEnv, source: TSIG_SECRET_ENV };
  throw new UsageError(`--tsig-secret-file, --tsig-secret or ${TSIG_SECRET_ENV} is required`);
}

/**
 * Runs `agctl dns-server` with `argv` (the arguments after `dns-server`). Resolves with the exit code: 0 after a
 * clean stop, 2 for invalid arguments, {@link EXIT_DATA_CORRUPT} (65) for damaged zone data, 1 when the server
 * cannot start otherwise.
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
    if (error instanceof ZoneFileCorruptError) {
      stderr.write(`agctl dns-server: the zone data is damaged: ${error.message}\n`);
      return EXIT_DATA_CORRUPT;
    }
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
  // The shared strict parsing: an unknown flag is a usage error naming the flag meant ("did you mean --listen?").
  const parsed = parseCli(argv, {
    zone: { type: 'string' },
    listen: { type: 'string' },
    'tsig-name': { type: 'string' },
    'tsig-secret': { type: 'string' },
    'tsig-secret-file': { type: 'string' },
    'tsig-algorithm': { type: 'string', default: 'hmac-sha256' },
    data: { type: 'string' },
    'tcp-idle-timeout': { type: 'string' },
    'max-tcp-connections': { type: 'string' },
    'max-tcp-per-address': { type: 'string' },
  });
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
  const { secret, source } = tsigSecretFrom(values);
  // The secret itself is never echoed back, only the fact that it is wrong.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(secret) || secret.length % 4 !== 0) throw new UsageError(`${source}: not base64`);
  const algorithm = values['tsig-algorithm'] as string;
  if (!(TSIG_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new UsageError(`--tsig-algorithm: expected one of ${TSIG_ALGORITHMS.join(', ')}, got ${JSON.stringify(algorithm)}`);
  }
  const count = (flag: 'max-tcp-connections' | 'max-tcp-per-address'): number | undefined => {
    const text = values[flag];
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) throw new UsageError(`--${flag}: expected a whole number above 0, got ${JSON.stringify(text)}`);
    return value;
  };
  const idleText = values['tcp-idle-timeout'];
  const idleSeconds = idleText === undefined ? undefined : Number(idleText);
  if (idleText !== undefined && (!/^\d+(\.\d+)?$/.test(idleText) || !(idleSeconds! >= 0.001) || idleSeconds! > 86_400)) {
    throw new UsageError(`--tcp-idle-timeout: expected seconds between 0.001 and 86400, got ${JSON.stringify(idleText)}`);
  }
  return {
    zone,
    listen: { host, port },
    tsig: { name, algorithm: algorithm as TsigAlgorithm, secret },
    ...(values.data === undefined ? {} : { dataFile: values.data }),
    tcpLimits: {
      idleTimeoutMs: idleSeconds === undefined ? undefined : Math.round(idleSeconds * 1000),
      maxConnections: count('max-tcp-connections'),
      maxConnectionsPerAddress: count('max-tcp-per-address'),
    },
  };
}
