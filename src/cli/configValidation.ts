import { stat, access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { SettingsError } from '../api/errors.js';
import { networkIssues } from '../http/networkedNode.js';
import { readSecretFiles } from '../node/secretFiles.js';
import { loadSettings, SECRET_FILE_FIELDS, type Settings } from '../node/settings.js';
import { readConfigFile } from './cliConfig.js';

/** One problem of a config file: the field, the value found (secrets hidden) and the rule it breaks. */
export interface ConfigProblem {
  readonly field: string;
  readonly value: string;
  readonly rule: string;
}

/** What `agctl config validate` found: the settings, or every problem. `warnings` never fail the check. */
export type ConfigValidation =
  | { readonly ok: true; readonly settings: Settings; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** Settings whose value is never shown. */
const SECRET_SETTINGS: ReadonlySet<string> = new Set(Object.values(SECRET_FILE_FIELDS));

/** Stand-ins for secrets whose file could not be read, so that the other fields are still checked. */
const STAND_INS: Record<string, string> = { api_token: 'x'.repeat(16), peer_secret: 'x'.repeat(16), tsig_secret: 'eA==' };

/**
 * The placeholder secrets of `agctl config example`: valid, so that the example validates, and warned about, so
 * that nobody runs them.
 */
export const EXAMPLE_SECRETS = {
  api_token: 'REPLACE-with-a-random-api-token',
  peer_secret: 'REPLACE-with-the-same-random-peer-secret-on-both-nodes',
  tsig_secret: 'UkVQTEFDRS13aXRoLXRoZS1UU0lHLWtleQ==',
} as const;

/** A value as a problem line shows it: secrets hidden, long values cut. */
function shown(field: string, input: Record<string, unknown>): string {
  const top = field.split('.')[0]!;
  if (!(top in input)) return '(missing)';
  if (SECRET_SETTINGS.has(top)) return '(hidden)';
  const value = field.split('.').reduce<unknown>((at, key) => (at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined), input);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 48 ? `${text.slice(0, 45)}...` : text;
}

/**
 * Checks a node config file as `agctl start` would, but lists every problem instead of stopping at the first kind:
 * the file (readable, JSON, an object), the secret files, every setting's rule (`loadSettings`), the timer rules,
 * what a networked node needs besides (`api_token`, `peer_secret`, `dns_server` unless coordination is etcd, the TLS
 * files for https), that the TLS and etcd files can be read and that `data_dir` is a directory if it exists. The timer rules are checked once every
 * field is valid. Secrets are never shown.
 *
 * @example
 * const result = await validateConfigFile('/etc/availability-group/node.json');
 * if (!result.ok) for (const p of result.problems) console.log(p.field, p.value, p.rule);
 */
export async function validateConfigFile(file: string): Promise<ConfigValidation> {
  let input: Record<string, unknown>;
  try {
    input = await readConfigFile(file);
  } catch (error) {
    return { ok: false, problems: [{ field: '(file)', value: file, rule: (error as Error).message }] };
  }
  const problems: ConfigProblem[] = [];
  const add = (issues: readonly { field: string; rule: string }[]) => problems.push(...issues.map((issue) => ({ field: issue.field, value: shown(issue.field, input), rule: issue.rule })));
  let resolved: Record<string, unknown>;
  try {
    resolved = readSecretFiles(input) as Record<string, unknown>;
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    add(error.issues);
    resolved = { ...input };
    for (const [fileField, secretField] of Object.entries(SECRET_FILE_FIELDS)) {
      if (!(fileField in resolved)) continue;
      delete resolved[fileField];
      resolved[secretField] ??= STAND_INS[secretField];
    }
  }
  let settings: Settings | null = null;
  try {
    settings = loadSettings(resolved);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    add(error.issues);
  }
  // What a networked node needs besides: judged from the fields as given when the settings themselves are refused.
  const given = (field: string) => (typeof resolved[field] === 'string' ? (resolved[field] as string) : undefined);
  const needs = settings ?? ({ apiToken: given('api_token'), peerSecret: given('peer_secret'), dnsServer: given('dns_server'), coordination: given('coordination'), externalScheme: given('external_scheme'), tlsCertFile: given('tls_cert_file'), tlsKeyFile: given('tls_key_file') } as unknown as Settings);
  add(networkIssues(needs).filter((issue) => !problems.some((problem) => problem.field === issue.field)));
  // The etcd password file is only checked for access here: its content is a secret, read by the etcd client.
  for (const field of ['tls_cert_file', 'tls_key_file', 'tls_ca_file', 'etcd_ca_file', 'etcd_cert_file', 'etcd_key_file', 'etcd_password_file']) {
    const path = input[field];
    if (typeof path !== 'string' || path === '') continue;
    await access(path, constants.R_OK).catch((error: NodeJS.ErrnoException) => add([{ field, rule: `cannot be read: ${path} (${error.code ?? error.message})` }]));
  }
  if (typeof input.data_dir === 'string' && input.data_dir !== '') {
    const dataDir = input.data_dir;
    const found = await stat(dataDir).catch(() => null);
    if (found !== null && !found.isDirectory()) add([{ field: 'data_dir', rule: `must be a directory: ${dataDir} exists and is not one` }]);
  }
  if (problems.length > 0 || settings === null) return { ok: false, problems };
  const warnings = Object.entries(EXAMPLE_SECRETS)
    .filter(([field, placeholder]) => resolved[field] === placeholder)
    .map(([field]) => `${field} is still the placeholder of "agctl config example": generate a secret of your own (openssl rand -base64 32)`);
  return { ok: true, settings, warnings };
}

/**
 * The lines `agctl config validate` prints for a valid file: who the node is, its group, DNS server, timers and
 * where its secrets come from (never the secrets).
 *
 * @example
 * summarizeSettings(settings, input) // { node: 'a at http://127.0.0.2:8080', ... }
 */
export function summarizeSettings(settings: Settings, input: Record<string, unknown>): Record<string, string> {
  const secrets = Object.entries(SECRET_FILE_FIELDS)
    .map(([fileField, secretField]) => (fileField in input ? `${secretField} (file)` : secretField in input ? `${secretField} (inline)` : null))
    .filter((entry): entry is string => entry !== null);
  return {
    node: `${settings.nodeId} at ${settings.externalScheme}://${settings.externalIpv4Address}:${settings.externalPort}`,
    group: settings.groupFqdn === undefined ? '(none: set group_fqdn to create or join one)' : `${settings.groupFqdn}${settings.tsigName === undefined ? ' (to join: the TSIG key comes from the Primary)' : ` (TSIG key ${settings.tsigName}, ${settings.tsigAlgorithm})`}`,
    dns_server: settings.dnsServer ?? '-',
    coordination:
      settings.coordination === 'etcd'
        ? `etcd ${settings.etcdEndpoints?.join(', ') ?? ''} (prefix ${settings.etcdPrefix}${settings.etcdUsername === undefined ? '' : `, user ${settings.etcdUsername}`}${settings.dnsServer !== undefined && settings.tsigName !== undefined ? '; the A record is mirrored to dns_server' : ''})`
        : 'dns',
    timers: `heartbeat ${settings.healthReportInterval} s, standby check ${settings.healthCheckInterval} s, failover period ${settings.allowedAbsenceInterval} s, lease ${Math.round(settings.leaseDuration * 1000) / 1000} s`,
    secrets: secrets.length === 0 ? '(none)' : secrets.join(', '),
    data_dir: settings.dataDir ?? '(none: nothing survives a restart)',
  };
}
