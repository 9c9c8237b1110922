import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { z } from 'zod';
import { SettingsError, type SettingsIssue } from '../api/errors.js';
import { isValidNodeId } from '../dns/heartbeatRecord.js';
import type { NodeTimers } from '../../machines/nodeMachine.types.js';
import { lazySchema, zod } from './lazyZod.js';

/**
 * The largest clock-rate drift between two nodes' monotonic clocks that the lease rule allows for (1 %: real
 * oscillators stay within 0.01 %, so this is a wide margin). The simulator draws drift inside this bound.
 */
export const MAX_CLOCK_RATE_DRIFT = 0.01;

/**
 * How much longer one node's interval can look on the other's clock at the largest allowed drift: a lease times this
 * factor must still end before the failover period (rule 3).
 */
const LEASE_DRIFT_FACTOR = (1 + MAX_CLOCK_RATE_DRIFT) / (1 - MAX_CLOCK_RATE_DRIFT);

/** The lease's default share of the failover period, when `lease_duration` is not given. */
export const DEFAULT_LEASE_FRACTION = 0.75;

/** How many heartbeats must fit into one lease, so that one lost heartbeat does not lose the lease. */
export const HEARTBEATS_PER_LEASE = 2;

/** The TSIG algorithms the DNS client and the embedded server speak. */
export const TSIG_ALGORITHMS = ['hmac-sha256', 'hmac-sha512', 'hmac-sha384', 'hmac-sha224', 'hmac-sha1'] as const;
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];

const FQDN = /^(?=.{1,253}\.?$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$/;
/** A DNS name of one or more labels: TSIG key names are often a single label (`ag-key`). */
const DNS_NAME = /^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** One label of a host name (RFC 1123): letters, digits and hyphens, not at either end. */
const HOST_NAME = /^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * The longest any timer setting may be, in seconds (1 day). Node fires a timer longer than 2^31 − 1 ms (about 24.8
 * days) after 1 ms instead, which would turn a timer into a hot loop; every timer a node derives from these settings
 * (the lease and its drift bound, the DNS and peer timeouts) is at most the failover period, so 1 day keeps them all
 * far below that limit.
 */
export const MAX_TIMER_SECONDS = 86_400;

/** Node's largest timer delay in ms (2^31 − 1): a longer one fires after 1 ms. */
export const NODE_TIMER_LIMIT_MS = 2 ** 31 - 1;

const TIMER_RULE = `must be at most ${MAX_TIMER_SECONDS} seconds (1 day)`;

const seconds = (fallback: number) =>
  zod()
    .number({ error: 'must be a number of seconds' })
    .positive({ error: 'must be more than 0 seconds' })
    .finite()
    .max(MAX_TIMER_SECONDS, { error: TIMER_RULE })
    .default(fallback);

/**
 * Why `value` is not a usable `dns_server`, or null when it is: `host:port`, the host an IPv4 address, an IPv6
 * address in brackets or a host name (resolved when used), the port from 1 to 65535.
 *
 * @example
 * dnsServerRule('127.0.0.1:0') // 'must be host:port with a port from 1 to 65535 (got 0)'
 * dnsServerRule('ns1.example.com:53') // null
 */
export function dnsServerRule(value: string): string | null {
  const at = value.lastIndexOf(':');
  if (at <= 0) return 'must be host:port, e.g. 127.0.0.1:53, [::1]:53 or ns1.example.com:53';
  const host = value.slice(0, at);
  const port = value.slice(at + 1);
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return `must be host:port with a port from 1 to 65535 (got ${JSON.stringify(port.slice(0, 12))})`;
  if (host.startsWith('[') && host.endsWith(']')) return isIPv6(host.slice(1, -1)) ? null : 'must be host:port: the host in brackets must be an IPv6 address';
  if (/^[\d.]+$/.test(host)) return isIPv4(host) ? null : 'must be host:port: the host must be an IPv4 address (four numbers from 0 to 255)';
  return HOST_NAME.test(host) ? null : 'must be host:port: the host must be an IPv4 address, an IPv6 address in brackets or a host name';
}

/** The coordination authorities a group can run on: DNS (RFC 2136 + TSIG, two members) or etcd (v3, up to {@link MEMBER_LIMIT}.etcd members). */
export const COORDINATIONS = ['dns', 'etcd'] as const;
export type Coordination = (typeof COORDINATIONS)[number];

/** The default `etcd_prefix`: every key of the groups lives under it. */
export const DEFAULT_ETCD_PREFIX = '/availability-group';

/** The most `etcd_endpoints` a node takes (an etcd cluster has at most 7 members in practice). */
export const MAX_ETCD_ENDPOINTS = 7;

/**
 * Why `value` is not a usable etcd endpoint, or null when it is: `host:port` as for `dns_server`, optionally with an
 * `http://` or `https://` scheme in front (https: TLS, with `etcd_ca_file`), nothing after the port.
 *
 * @example
 * etcdEndpointRule('https://10.0.0.5:2379') // null
 * etcdEndpointRule('10.0.0.5') // 'must be host:port, e.g. ...'
 */
export function etcdEndpointRule(value: string): string | null {
  const rest = value.replace(/^https?:\/\//i, '');
  if (rest.endsWith('/')) return 'must be [http:// or https://]host:port with no path, e.g. https://10.0.0.5:2379';
  const rule = dnsServerRule(rest);
  return rule === null ? null : rule.replace(/^must be host:port(, e\.g\. .*)?/, (_all, example: string | undefined) => `must be [http:// or https://]host:port${example === undefined ? '' : ', e.g. 127.0.0.1:2379, https://[::1]:2379 or etcd1.example.com:2379'}`);
}

/**
 * Why `value` is not a usable `etcd_prefix`, or null when it is: starts with `/`, no trailing `/`, printable ASCII
 * without spaces, at most 200 characters.
 *
 * @example
 * etcdPrefixRule('/availability-group') // null
 */
export function etcdPrefixRule(value: string): string | null {
  if (value.length > 200) return 'must be at most 200 characters';
  if (!/^[\x21-\x7e]+$/.test(value)) return 'must be printable ASCII without spaces';
  if (!value.startsWith('/')) return 'must start with "/", e.g. /availability-group';
  if (value.length > 1 && value.endsWith('/')) return 'must not end with "/"';
  if (value === '/') return 'must name a key prefix below "/", e.g. /availability-group';
  return null;
}

/**
 * A command to run, as an array: the program (a path, or a name looked up in PATH), then its arguments. It runs
 * without a shell, so nothing in it is expanded or split. `example` is shown in the message for a value of the wrong
 * shape.
 */
const commandSetting = (example: string) =>
  zod()
    .array(
      zod()
        .string({ error: 'must hold strings only: the command, then its arguments' })
        .min(1, { error: 'must not hold an empty string' })
        .refine((word) => !word.includes('\0'), { error: 'must not hold a NUL character' }),
      { error: `must be an array of strings: the command, then its arguments (it runs without a shell), e.g. ${example}` },
    )
    .min(1, { error: 'must name the command to run: an array of at least one string' });

/** The role-change hook: run on every NODE_ROLE_CHANGED. */
const roleChangeCommand = () => commandSetting('["/usr/local/bin/on-role-change", "--verbose"]');

/** How many members a group may have, by coordination authority: the product's two with DNS, up to seven with etcd. */
export const MEMBER_LIMIT: Readonly<Record<Coordination, number>> = { dns: 2, etcd: 7 };

/** A node's takeover priority when `priority` is not set: higher takes over first. */
export const DEFAULT_PRIORITY = 100;

/** Application health check defaults (seconds): a check every 2 s, each allowed 1 s. */
const DEFAULT_HEALTH_INTERVAL_S = 2;
const DEFAULT_HEALTH_TIMEOUT_S = 1;

/** The application health command: exit status 0 means healthy. */
const healthCommand = () => commandSetting('["/usr/local/bin/check-app", "--quick"]');

/**
 * Settings whose value may be kept in a file instead (`<setting>_file`: the file's path), so that it appears neither
 * in the config file nor on a command line. A config loader reads them (`readSecretFiles`); the settings in
 * force hold the secret itself, never the path.
 */
export const SECRET_FILE_FIELDS = { tsig_secret_file: 'tsig_secret', api_token_file: 'api_token', peer_secret_file: 'peer_secret' } as const;

/**
 * The settings schema: the product's snake_case names and defaults (heartbeat 20 s, check 30 s, failover period
 * 60 s, TTL 30 s; fractions of a second allowed), and this project's own fields. Unknown fields are refused, so a
 * typo never silently falls back to a default. Built (and zod loaded) on the first call, the same schema afterwards.
 *
 * @example
 * settingsSchema().shape.group_fqdn_ttl.safeParse(30).success // true
 */
export const settingsSchema = lazySchema((z) =>
  z.object({
    node_id: z.string().refine(isValidNodeId, { error: 'must be 1 to 63 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit' }),
    external_ipv4_address: z.ipv4({ error: 'must be an IPv4 address' }),
    external_port: z.number().int({ error: 'must be a whole number' }).min(1, { error: 'must be from 1 to 65535' }).max(65535, { error: 'must be from 1 to 65535' }).default(8080),
    external_scheme: z.enum(['http', 'https'], { error: 'must be "http" or "https"' }).default('http'),
    group_fqdn: z.string().regex(FQDN, { error: 'must be a fully qualified domain name' }).optional(),
    group_fqdn_ttl: z.number().int({ error: 'must be a whole number of seconds' }).min(0, { error: 'must be 0 or more' }).max(2147483647, { error: 'must be at most 2147483647 seconds (RFC 2181)' }).default(30),
    health_report_interval: seconds(20),
    health_check_interval: seconds(30),
    allowed_absence_interval: seconds(60),
    lease_duration: z.number({ error: 'must be a number of seconds' }).positive({ error: 'must be more than 0 seconds' }).finite().max(MAX_TIMER_SECONDS, { error: TIMER_RULE }).optional(),
    tsig_algorithm: z.enum(TSIG_ALGORITHMS, { error: `must be one of ${TSIG_ALGORITHMS.join(', ')}` }).default('hmac-sha256'),
    tsig_name: z.string().regex(DNS_NAME, { error: 'must be a DNS name' }).optional(),
    tsig_secret: z.string().min(1, { error: 'must not be empty' }).regex(BASE64, { error: 'must be base64' }).optional(),
    dns_server: z
      .string({ error: 'must be host:port' })
      .superRefine((value, context) => {
        const rule = dnsServerRule(value);
        if (rule !== null) context.addIssue({ code: 'custom', message: rule });
      })
      .optional(),
    api_token: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
    peer_secret: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
    data_dir: z.string().min(1).optional(),
    tls_cert_file: z.string().min(1).optional(),
    tls_key_file: z.string().min(1).optional(),
    tls_ca_file: z.string().min(1).optional(),
    inspect: z.boolean().default(false),
    on_role_change: roleChangeCommand().optional(),
    on_role_change_timeout: seconds(30),
    health_command: healthCommand().optional(),
    health_url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, e.g. http://127.0.0.1:8000/healthz' }).optional(),
    health_interval: seconds(DEFAULT_HEALTH_INTERVAL_S),
    health_failures: z
      .number({ error: 'must be a whole number of checks' })
      .int({ error: 'must be a whole number of checks' })
      .min(1, { error: 'must be at least 1' })
      .max(1000, { error: 'must be at most 1000' })
      .default(3),
    health_timeout: seconds(DEFAULT_HEALTH_TIMEOUT_S),
    coordination: z.enum(COORDINATIONS, { error: `must be one of ${COORDINATIONS.join(', ')}` }).default('dns'),
    etcd_endpoints: z
      .array(
        z.string({ error: 'must hold strings only: host:port of each etcd member' }).superRefine((value, context) => {
          const rule = etcdEndpointRule(value);
          if (rule !== null) context.addIssue({ code: 'custom', message: rule });
        }),
        { error: 'must be an array of host:port strings, e.g. ["10.0.0.5:2379", "10.0.0.6:2379", "10.0.0.7:2379"]' },
      )
      .min(1, { error: 'must name at least one etcd endpoint' })
      .max(MAX_ETCD_ENDPOINTS, { error: `must name at most ${MAX_ETCD_ENDPOINTS} etcd endpoints` })
      .optional(),
    etcd_prefix: z
      .string({ error: 'must be a string key prefix, e.g. /availability-group' })
      .superRefine((value, context) => {
        const rule = etcdPrefixRule(value);
        if (rule !== null) context.addIssue({ code: 'custom', message: rule });
      })
      .default(DEFAULT_ETCD_PREFIX),
    etcd_ca_file: z.string({ error: 'must be the path of a PEM file' }).min(1, { error: 'must be the path of a PEM file' }).optional(),
    etcd_cert_file: z.string({ error: 'must be the path of a PEM file' }).min(1, { error: 'must be the path of a PEM file' }).optional(),
    etcd_key_file: z.string({ error: 'must be the path of a PEM file' }).min(1, { error: 'must be the path of a PEM file' }).optional(),
    etcd_username: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).optional(),
    etcd_password_file: z.string({ error: 'must be the path of a file holding the password' }).min(1, { error: 'must be the path of a file holding the password' }).optional(),
    // This node's takeover priority (node-local): among Secondaries, a higher one takes over first.
    priority: z
      .number({ error: 'must be a whole number from 0 to 1000' })
      .int({ error: 'must be a whole number from 0 to 1000' })
      .min(0, { error: 'must be from 0 to 1000' })
      .max(1000, { error: 'must be from 0 to 1000' })
      .default(DEFAULT_PRIORITY),
  }).strict(),
);

/** Settings as written in a config file or an API body: snake_case, defaults optional. */
export type SettingsInput = z.input<ReturnType<typeof settingsSchema>>;

/**
 * A node's config as `startNetworkedNode` and `agctl start` take it: {@link SettingsInput} plus the secret files
 * (`tsig_secret_file`, `api_token_file`, `peer_secret_file`: the path of a file holding the secret, read at start).
 * Typed so that a misspelt field does not compile; still validated at run time.
 */
export type ConfigFileInput = SettingsInput & { readonly [File in keyof typeof SECRET_FILE_FIELDS]?: string };

/** Validated settings, snake_case as stored and served. */
export type SettingsRecord = z.output<ReturnType<typeof settingsSchema>>;

/**
 * Validated settings in camelCase, as the library uses them. Intervals are in seconds as configured; `timers`
 * holds them in milliseconds for the machine.
 */
export interface Settings {
  readonly nodeId: string;
  readonly externalIpv4Address: string;
  readonly externalPort: number;
  readonly externalScheme: 'http' | 'https';
  readonly groupFqdn: string | undefined;
  readonly groupFqdnTtl: number;
  readonly healthReportInterval: number;
  readonly healthCheckInterval: number;
  readonly allowedAbsenceInterval: number;
  /** The lease in seconds: `lease_duration`, or 0.75 of `allowed_absence_interval`. */
  readonly leaseDuration: number;
  readonly tsigAlgorithm: TsigAlgorithm;
  readonly tsigName: string | undefined;
  readonly tsigSecret: string | undefined;
  readonly dnsServer: string | undefined;
  readonly apiToken: string | undefined;
  readonly peerSecret: string | undefined;
  readonly dataDir: string | undefined;
  readonly tlsCertFile: string | undefined;
  readonly tlsKeyFile: string | undefined;
  /** PEM certificates of the CAs that sign the peer's certificate (a private CA), trusted besides the system's. */
  readonly tlsCaFile: string | undefined;
  readonly inspect: boolean;
  /** The role-change hook: command and arguments, run without a shell on every role change (node-local). */
  readonly onRoleChange: readonly string[] | undefined;
  /** Seconds a role-change hook may run before its process group is killed. */
  readonly onRoleChangeTimeout: number;
  /** The application health check (`health_command` or `health_url`), or null when none is configured (node-local). */
  readonly applicationHealth: ApplicationHealthSettings | null;
  /** The group's coordination authority: `dns` (the records on `dns_server`) or `etcd` (keys on `etcd_endpoints`). Group setting. */
  readonly coordination: Coordination;
  /** etcd members, `[http(s)://]host:port` each; set when `coordination` is etcd. Group setting. */
  readonly etcdEndpoints: readonly string[] | undefined;
  /** The prefix of every etcd key of the groups (default `/availability-group`). Group setting. */
  readonly etcdPrefix: string;
  /** PEM CA certificates that sign the etcd servers' certificates (node-local path). */
  readonly etcdCaFile: string | undefined;
  /** PEM client certificate for etcd (with `etcdKeyFile`; node-local path). */
  readonly etcdCertFile: string | undefined;
  /** PEM private key of `etcdCertFile` (node-local path). */
  readonly etcdKeyFile: string | undefined;
  /** etcd user (with `etcdPasswordFile`; node-local). */
  readonly etcdUsername: string | undefined;
  /** The path of the file holding the etcd password (node-local). The password itself is read by the etcd client, never kept here. */
  readonly etcdPasswordFile: string | undefined;
  /** `priority` (node-local, 0..1000): among Secondaries, a higher one takes over first (the takeover order). */
  readonly priority: number;
  readonly timers: NodeTimers;
  /** The snake_case record these settings came from (what is persisted and served). */
  readonly record: SettingsRecord;
}

/** The application health check of a node: what to run or fetch, how often, and when it counts as unhealthy. */
export interface ApplicationHealthSettings {
  /** `health_command`: program and arguments (no shell); exit status 0 is healthy. */
  readonly command: readonly string[] | undefined;
  /** `health_url`: an http(s) URL; a 2xx answer is healthy. */
  readonly url: string | undefined;
  /** `health_interval` in ms: a check starts this long after the previous one started (monotonic clock). */
  readonly intervalMs: number;
  /** `health_timeout` in ms: a check that has not finished by then fails (a command is killed). */
  readonly timeoutMs: number;
  /** `health_failures`: this many failed checks in a row make the application unhealthy. */
  readonly failures: number;
}

/** The rules between the application health settings, checked after the fields themselves are valid. */
function applicationHealthIssues(record: SettingsRecord): SettingsIssue[] {
  const issues: SettingsIssue[] = [];
  if (record.health_command !== undefined && record.health_url !== undefined) {
    issues.push({ field: 'health_url', rule: 'must not be set together with health_command: configure one application health check, a command or a URL' });
  }
  if (record.health_timeout >= record.health_interval) {
    issues.push({
      field: 'health_timeout',
      rule: `must be less than health_interval (${record.health_interval} s): a check ends before the next one starts, so checks never overlap`,
    });
  }
  return issues;
}

/** The application health settings in force, or null when neither `health_command` nor `health_url` is set. */
function applicationHealthOf(record: SettingsRecord): ApplicationHealthSettings | null {
  if (record.health_command === undefined && record.health_url === undefined) return null;
  return {
    command: record.health_command,
    url: record.health_url,
    intervalMs: record.health_interval * 1000,
    timeoutMs: record.health_timeout * 1000,
    failures: record.health_failures,
  };
}

/** The rules between the etcd settings, checked after the fields themselves are valid. */
function etcdIssues(record: SettingsRecord): SettingsIssue[] {
  const issues: SettingsIssue[] = [];
  if (record.coordination === 'etcd' && record.etcd_endpoints === undefined) {
    issues.push({ field: 'etcd_endpoints', rule: 'is required when coordination is etcd: host:port of each etcd member, e.g. ["10.0.0.5:2379"]' });
  }
  if ((record.etcd_cert_file === undefined) !== (record.etcd_key_file === undefined)) {
    const missing = record.etcd_cert_file === undefined ? 'etcd_cert_file' : 'etcd_key_file';
    issues.push({ field: missing, rule: 'etcd_cert_file and etcd_key_file go together (the client certificate and its key): set both or neither' });
  }
  if ((record.etcd_username === undefined) !== (record.etcd_password_file === undefined)) {
    const missing = record.etcd_username === undefined ? 'etcd_username' : 'etcd_password_file';
    issues.push({ field: missing, rule: 'etcd_username and etcd_password_file go together: set both or neither' });
  }
  return issues;
}

/** The timer rules of docs/design.md rule 3 (and rule 1), checked after the fields themselves are valid. */
function timerRuleIssues(record: SettingsRecord, leaseDuration: number): SettingsIssue[] {
  const issues: SettingsIssue[] = [];
  const absence = record.allowed_absence_interval;
  if (leaseDuration * LEASE_DRIFT_FACTOR >= absence) {
    issues.push({
      field: record.lease_duration === undefined ? 'allowed_absence_interval' : 'lease_duration',
      rule: `rule 3: the lease (${leaseDuration} s) must end before the failover period (${absence} s) with a ${MAX_CLOCK_RATE_DRIFT * 100} % clock-drift margin, so lease_duration must be less than ${round(absence / LEASE_DRIFT_FACTOR)} s`,
    });
  }
  if (record.health_report_interval * HEARTBEATS_PER_LEASE > leaseDuration) {
    issues.push({
      field: 'health_report_interval',
      rule: `rule 3: ${HEARTBEATS_PER_LEASE} heartbeats must fit into the lease (${round(leaseDuration)} s), so health_report_interval must be at most ${round(leaseDuration / HEARTBEATS_PER_LEASE)} s`,
    });
  }
  if (record.health_check_interval > absence) {
    issues.push({
      field: 'health_check_interval',
      rule: `rule 1: the standby check must run at least once per failover period, so health_check_interval must be at most allowed_absence_interval (${absence} s)`,
    });
  }
  return issues;
}

function round(value: number): number {
  return Math.floor(value * 1000) / 1000;
}

/**
 * A schema issue's rule in the project's words: `required` for a missing field, `must be a string` (not zod's
 * "Invalid input: expected string, received number") for a value of the wrong type; other rules as the schema says.
 */
function issueRule(issue: z.ZodError['issues'][number], input: unknown): string {
  if (issue.code !== 'invalid_type') return issue.message;
  const value = issue.path.reduce<unknown>((at, key) => (at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[key] : undefined), input);
  if (value === undefined) return 'required';
  if (!issue.message.startsWith('Invalid input')) return issue.message;
  return `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
}

/** The rule a `<setting>_file` breaks when it reaches `loadSettings` unread. */
const SECRET_FILE_NOT_READ = 'is read from its file by a config loader (agctl start, startNetworkedNode, readSecretFiles), not by loadSettings: pass the secret itself';

/**
 * Validates settings and returns them in camelCase. Throws {@link SettingsError} naming every field that breaks a
 * rule (type, range, format, or the timer rules of docs/design.md rule 3); nothing is partly applied.
 *
 * @example
 * const settings = loadSettings({ node_id: 'a', external_ipv4_address: '127.0.0.2', group_fqdn: 'app.example.test' });
 * settings.timers.absenceMs // 60000
 */
export function loadSettings(input: unknown): Settings {
  const parsed = settingsSchema().safeParse(input);
  if (!parsed.success) {
    throw new SettingsError(
      parsed.error.issues.flatMap((issue): SettingsIssue[] =>
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((field) => ({ field, rule: field in SECRET_FILE_FIELDS ? SECRET_FILE_NOT_READ : 'is not a known setting' }))
          : [{ field: issue.path.length > 0 ? issue.path.join('.') : '(settings)', rule: issueRule(issue, input) }],
      ),
    );
  }
  const record = parsed.data;
  const leaseDuration = record.lease_duration ?? record.allowed_absence_interval * DEFAULT_LEASE_FRACTION;
  const issues = [...timerRuleIssues(record, leaseDuration), ...applicationHealthIssues(record), ...etcdIssues(record)];
  if (issues.length > 0) throw new SettingsError(issues);
  return toSettings(record, leaseDuration);
}

function toSettings(record: SettingsRecord, leaseDuration: number): Settings {
  return {
    nodeId: record.node_id,
    externalIpv4Address: record.external_ipv4_address,
    externalPort: record.external_port,
    externalScheme: record.external_scheme,
    groupFqdn: record.group_fqdn,
    groupFqdnTtl: record.group_fqdn_ttl,
    healthReportInterval: record.health_report_interval,
    healthCheckInterval: record.health_check_interval,
    allowedAbsenceInterval: record.allowed_absence_interval,
    leaseDuration,
    tsigAlgorithm: record.tsig_algorithm,
    tsigName: record.tsig_name,
    tsigSecret: record.tsig_secret,
    dnsServer: record.dns_server,
    apiToken: record.api_token,
    peerSecret: record.peer_secret,
    dataDir: record.data_dir,
    tlsCertFile: record.tls_cert_file,
    tlsKeyFile: record.tls_key_file,
    tlsCaFile: record.tls_ca_file,
    inspect: record.inspect,
    onRoleChange: record.on_role_change,
    onRoleChangeTimeout: record.on_role_change_timeout,
    applicationHealth: applicationHealthOf(record),
    coordination: record.coordination,
    etcdEndpoints: record.etcd_endpoints,
    etcdPrefix: record.etcd_prefix,
    etcdCaFile: record.etcd_ca_file,
    etcdCertFile: record.etcd_cert_file,
    etcdKeyFile: record.etcd_key_file,
    etcdUsername: record.etcd_username,
    etcdPasswordFile: record.etcd_password_file,
    priority: record.priority,
    timers: {
      heartbeatIntervalMs: record.health_report_interval * 1000,
      checkIntervalMs: record.health_check_interval * 1000,
      absenceMs: record.allowed_absence_interval * 1000,
      leaseMs: leaseDuration * 1000,
      leaseBoundMs: leaseDuration * 1000 * LEASE_DRIFT_FACTOR,
    },
    record,
  };
}

/** The settings a Secondary takes from its Primary when it joins (docs/design.md: everything but its own address). */
export const GROUP_SETTING_FIELDS = [
  'group_fqdn',
  'group_fqdn_ttl',
  'health_report_interval',
  'health_check_interval',
  'allowed_absence_interval',
  'lease_duration',
  'tsig_algorithm',
  'tsig_name',
  'tsig_secret',
  'external_scheme',
  'coordination',
  'etcd_endpoints',
  'etcd_prefix',
] as const satisfies readonly (keyof SettingsRecord)[];

/**
 * Whether `field` is one of the {@link GROUP_SETTING_FIELDS} (set on the Primary for the whole group).
 *
 * @example
 * isGroupSettingField('group_fqdn_ttl'); // true; isGroupSettingField('node_id') is false
 */
export function isGroupSettingField(field: string): field is (typeof GROUP_SETTING_FIELDS)[number] {
  return (GROUP_SETTING_FIELDS as readonly string[]).includes(field);
}

/** The group settings of `record` that are set: what a Primary hands a joining Secondary and pushes on a change. */
export function groupSettingsOf(record: SettingsRecord): Record<string, unknown> {
  return Object.fromEntries(GROUP_SETTING_FIELDS.map((field) => [field, record[field]]).filter(([, value]) => value !== undefined));
}

/**
 * A short digest of the group settings of `record` (the TSIG secret included, hashed): two nodes with the same
 * fingerprint run the group with the same settings. A Secondary reports it in each heartbeat acknowledgement, so a
 * Primary notices a Secondary that missed a change.
 *
 * @example
 * groupSettingsFingerprint(primary.settings.record) === groupSettingsFingerprint(secondary.settings.record)
 */
export function groupSettingsFingerprint(record: SettingsRecord): string {
  const known = fingerprints.get(record);
  if (known !== undefined) return known;
  const settings = groupSettingsOf(record);
  const canonical = JSON.stringify(Object.keys(settings).sort().map((field) => [field, settings[field]]));
  const fingerprint = createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
  fingerprints.set(record, fingerprint);
  return fingerprint;
}

/** Each heartbeat acknowledgement carries the fingerprint: computed once per settings record. */
const fingerprints = new WeakMap<SettingsRecord, string>();

/** Group settings that say how the group is reached: they change by forming the group anew, never in place. */
export const FIXED_IN_GROUP_FIELDS = ['group_fqdn', 'external_scheme', 'coordination', 'etcd_prefix'] as const satisfies readonly (keyof SettingsRecord)[];

/**
 * The problems of changing a running group's settings from `current` to `next` (each valid on its own):
 * - `group_fqdn`, `external_scheme`, `coordination` and `etcd_prefix` cannot change in place (the records or keys
 *   and the peers' addresses use them);
 * - rule 3 across the change: for a moment one node runs the old timers and the other the new ones, in either
 *   order (the Secondary may miss the change and get it later), so the longer of the two leases must still end
 *   before the shorter of the two failover periods.
 *
 * @example
 * const issues = groupChangeIssues(node.settings, loadSettings({ ...node.settings.record, allowed_absence_interval: 1 }));
 */
export function groupChangeIssues(current: Settings, next: Settings): SettingsIssue[] {
  const issues: SettingsIssue[] = FIXED_IN_GROUP_FIELDS.filter((field) => next.record[field] !== current.record[field]).map((field) => ({
    field,
    rule: 'cannot change while the group runs: leave the group, then form it again with the new value',
  }));
  const lease = Math.max(current.leaseDuration, next.leaseDuration);
  const absence = Math.min(current.allowedAbsenceInterval, next.allowedAbsenceInterval);
  if (lease * LEASE_DRIFT_FACTOR < absence) return issues;
  // The field the operator moved too far: a shorter failover period, or else a longer lease (its own or derived).
  const leaseIsOwnSetting = next.record.lease_duration !== undefined && next.allowedAbsenceInterval >= current.allowedAbsenceInterval;
  issues.push({
    field: leaseIsOwnSetting ? 'lease_duration' : 'allowed_absence_interval',
    rule: `rule 3: while the change reaches both nodes, one may still hold a ${round(lease)} s lease while the other waits only ${round(absence)} s before taking over; change the timers in smaller steps, each with the longer lease ending before the shorter failover period (${MAX_CLOCK_RATE_DRIFT * 100} % clock-drift margin)`,
  });
  return issues;
}

/** The settings record with every secret blanked, as the API serves it (`tsig_secret: ""`, tokens removed). */
export function redactSettings(record: SettingsRecord): Record<string, unknown> {
  const { api_token: _token, peer_secret: _peer, ...rest } = record;
  return { ...rest, tsig_secret: '' };
}
