import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { ApiCallError, SettingsError } from '../api/errors.js';
import { readSecretFile } from '../node/secretFiles.js';
import { CliUsageError, readConfigFile } from './cliConfig.js';
import { formatOutput, type OutputFormat } from './outputFormat.js';
import { renderKeyValues } from './renderTable.js';

/** The token in the file a node config's `api_token_file` names, or undefined when it names none. */
function tokenFromFile(path: unknown): string | undefined {
  if (typeof path !== 'string') return undefined;
  try {
    return readSecretFile('api_token_file', path);
  } catch (error) {
    throw new CliUsageError(error instanceof SettingsError ? error.issues.map((issue) => `${issue.field}: ${issue.rule}`).join('; ') : (error as Error).message);
  }
}

/** An answer of the node's API. */
export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** The client options every API command takes. */
export const API_CLIENT_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  config: { type: 'string' },
} as const;

/** The help entries for {@link API_CLIENT_OPTIONS}, for `helpText`. */
export const API_CLIENT_OPTION_HELP: readonly (readonly [string, string])[] = [
  ['--url <url>', 'the node, e.g. http://127.0.0.2:8080 (default: from --config)'],
  ['--token <token>', 'the API token (default: api_token or api_token_file from --config, or AG_API_TOKEN)'],
  ['--config <file>', "the node's config file, to take the URL and token from"],
];

/** A call to a node's API that got no answer (defined in the error catalogue). */
export { ApiCallError };

/**
 * The help lines for {@link API_CLIENT_OPTIONS}, their descriptions starting at `column` (to align with a command's
 * other options).
 */
export function apiClientHelp(column = 21): string {
  return API_CLIENT_OPTION_HELP.map(([flags, description]) => `  ${flags.padEnd(column - 2)}${description}`).join('\n');
}

/**
 * A small client of one node's `/ag/api/v1` API, for the `agctl` client commands. The URL and token come from the
 * flags, or from the node's config file (`external_scheme://external_ipv4_address:external_port`, `api_token` or
 * the file `api_token_file` names);
 * an https node's own certificate (`tls_cert_file`) and its private CA (`tls_ca_file`) are trusted.
 *
 * @example
 * const client = await ApiClient.fromFlags({ config: 'node-a.json' });
 * const { status, body } = await client.call('GET', '/state');
 */
export class ApiClient {
  private constructor(
    readonly baseUrl: string,
    readonly token: string,
    readonly ca: readonly (string | Buffer)[] | undefined,
  ) {}

  /** Builds a client from `--url`, `--token`, `--config` (and `AG_API_TOKEN`); throws `CliUsageError` when something is missing. */
  static async fromFlags(flags: { url?: string | undefined; token?: string | undefined; config?: string | undefined }): Promise<ApiClient> {
    const config = flags.config === undefined ? {} : await readConfigFile(flags.config);
    const scheme = typeof config.external_scheme === 'string' ? config.external_scheme : 'http';
    const url = flags.url ?? (typeof config.external_ipv4_address === 'string' ? `${scheme}://${config.external_ipv4_address}:${typeof config.external_port === 'number' ? config.external_port : 8080}` : undefined);
    const token = flags.token ?? (typeof config.api_token === 'string' ? config.api_token : tokenFromFile(config.api_token_file)) ?? process.env.AG_API_TOKEN;
    if (url === undefined) throw new CliUsageError('the node is unknown: give --url or --config');
    if (token === undefined) throw new CliUsageError('the API token is unknown: give --token, --config or AG_API_TOKEN');
    try {
      new URL(url);
    } catch {
      throw new CliUsageError(`--url ${url} is not a URL`);
    }
    const trusted = [config.tls_cert_file, config.tls_ca_file].filter((file): file is string => typeof file === 'string');
    const ca = trusted.length === 0 ? undefined : [...rootCertificates, ...(await Promise.all(trusted.map((file) => readFile(file))))];
    return new ApiClient(url.replace(/\/+$/, ''), token, ca);
  }

  /**
   * A client of another node with the same token and trusted certificates (the peer `GET /group` names), e.g.
   * `client.at('http://127.0.0.3:8080')`.
   */
  at(baseUrl: string): ApiClient {
    return new ApiClient(baseUrl.replace(/\/+$/, ''), this.token, this.ca);
  }

  /**
   * Calls `method path` under `/ag/api/v1` with an optional JSON body; resolves with the status and parsed body.
   * Rejects with {@link ApiCallError}: `timeout` when the node sent nothing for `timeoutMs` (no answer yet),
   * `unreachable` when it could not be reached or the connection broke, `aborted` when `signal` aborts (the request
   * is then dropped; the node may still carry it out).
   */
  call(method: string, path: string, body?: unknown, timeoutMs = 30_000, signal?: AbortSignal): Promise<ApiAnswer> {
    const url = new URL(`${this.baseUrl}/ag/api/v1${path}`);
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { authorization: `Bearer ${this.token}` };
    if (text !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method, headers, timeout: timeoutMs, ...(this.ca === undefined ? {} : { ca: [...this.ca] }) }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = raw;
          try {
            parsed = JSON.parse(raw);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: response.statusCode ?? 0, body: parsed });
        });
        response.on('error', reject);
      });
      let failure: ApiCallError | null = null;
      const fail = (error: ApiCallError) => {
        failure ??= error;
        req.destroy(failure);
      };
      req.on('timeout', () => fail(new ApiCallError('timeout', `${url.origin} did not answer ${method} ${url.pathname} within ${timeoutMs / 1000} s`)));
      const onAbort = () => fail(new ApiCallError('aborted', `${method} ${url.pathname} on ${url.origin} was given up`));
      if (signal?.aborted === true) onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('close', () => signal?.removeEventListener('abort', onAbort));
      req.on('error', (error) => reject(failure ?? new ApiCallError('unreachable', `cannot reach ${url.origin}: ${error.message}`)));
      req.end(text);
    });
  }
}

/**
 * Prints an API answer (JSON, indented) to stdout on success, or its error message to stderr; returns the exit
 * code (0 for 2xx, 1 otherwise).
 */
export function printAnswer(command: string, answer: ApiAnswer): number {
  if (answer.status >= 200 && answer.status < 300) {
    process.stdout.write(`${JSON.stringify(answer.body, null, 2)}\n`);
    return 0;
  }
  const body = answer.body as { message?: unknown } | null;
  const message = typeof body?.message === 'string' ? body.message : JSON.stringify(answer.body);
  process.stderr.write(`agctl ${command}: ${answer.status} ${message}\n`);
  return 1;
}

/**
 * Prints the answer of a `GET` that returns one object (`/state`, `/group`) in `format`: one key per line, JSON or
 * YAML; an error answer as {@link printAnswer} does. Returns the exit code.
 *
 * @example
 * return printObjectAnswer('state', await client.call('GET', '/state'), format);
 */
export function printObjectAnswer(command: string, answer: ApiAnswer, format: OutputFormat): number {
  if (answer.status !== 200 || answer.body === null || typeof answer.body !== 'object') return printAnswer(command, answer);
  const body = answer.body as Record<string, unknown>;
  process.stdout.write(formatOutput(body, format, () => renderKeyValues(body)));
  return 0;
}
