import { GROUP_SETTING_FIELDS, loadSettings, SECRET_FILE_FIELDS, settingsSchema, type Settings, type SettingsInput } from '../node/settings.js';
import { SettingsError, type SettingsIssue } from '../api/errors.js';
import { invalidInput } from './apiError.js';
import { isValidNodeId } from '../dns/heartbeatRecord.js';

/** The settings an API body may set: the product's group settings, plus this project's `dns_server` and `lease_duration`. */
export const API_SETTING_FIELDS = [...GROUP_SETTING_FIELDS, 'external_ipv4_address', 'external_port', 'dns_server'] as const;

/** The fields `PUT /group/members` takes; every other group setting comes from the Primary. */
export const JOIN_FIELDS = ['external_ipv4_address', 'external_port', 'external_scheme', 'group_fqdn'] as const;

/**
 * The product's rule for `POST /group`, `PUT /group` and `PUT /configuration`: at least one setting, even one in
 * force already (to create a group with the settings configured, send e.g. the node's `external_ipv4_address`).
 */
const AT_LEAST_ONE_SETTING_RULE =
  'must include at least one setting (POST /group, PUT /group and PUT /configuration need one, as in the product; to use the settings in force, send one of them, e.g. this node\'s external_ipv4_address)';

/** Fields the node listens on: they can only change in the config file, with a restart. */
const LISTENING_FIELDS = { external_ipv4_address: 'externalIpv4Address', external_port: 'externalPort' } as const;

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidInput([{ field: '(body)', rule: 'must be a JSON object' }]);
  return body as Record<string, unknown>;
}

function knownFieldIssue(field: string): SettingsIssue {
  // A secret file is read by the node at start only: through the API it would read any file the node can.
  return field in settingsSchema().shape || field in SECRET_FILE_FIELDS
    ? { field, rule: 'cannot be set through the API (it belongs in the config file)' }
    : { field, rule: 'is not a known setting' };
}

/** The listening fields may appear (a GET /group answer sent back), but only with the values in force. */
function listeningIssues(body: Record<string, unknown>, current: Settings): SettingsIssue[] {
  const issues: SettingsIssue[] = [];
  for (const [field, key] of Object.entries(LISTENING_FIELDS)) {
    if (body[field] !== undefined && body[field] !== current[key]) {
      issues.push({ field, rule: `must be ${JSON.stringify(current[key])}, the value this node listens on; change it in the config file and restart` });
    }
  }
  return issues;
}

/**
 * Reads a settings body (`POST /group`, `PUT /group`, `PUT /configuration`): a JSON object of settable fields,
 * at least one (`{}` is refused with 400, {@link AT_LEAST_ONE_SETTING_RULE}).
 * `tsig_secret: ""` (as `GET /group` serves it) keeps the current secret. The result is validated together with
 * the settings in force, so a 400 names every bad field and nothing is applied.
 *
 * @example
 * const changes = settingsChangesFrom({ health_report_interval: 0.5 }, node.settings);
 * await node.updateSettings(changes);
 */
export function settingsChangesFrom(body: unknown, current: Settings): Partial<SettingsInput> {
  const fields = objectBody(body);
  if (Object.keys(fields).length === 0) throw invalidInput([{ field: '(body)', rule: AT_LEAST_ONE_SETTING_RULE }]);
  const issues: SettingsIssue[] = [];
  const changes: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(fields)) {
    if (!(API_SETTING_FIELDS as readonly string[]).includes(field)) issues.push(knownFieldIssue(field));
    else if (field === 'tsig_secret' && value === '') continue;
    else if (!(field in LISTENING_FIELDS)) changes[field] = value;
  }
  issues.push(...listeningIssues(fields, current));
  try {
    loadSettings({ ...current.record, ...changes });
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    issues.push(...error.issues);
  }
  if (issues.length > 0) throw invalidInput(issues);
  return changes as Partial<SettingsInput>;
}

/**
 * Reads the body of `PUT /maintenance`: exactly `{"enabled": true}` (pause automatic takeover) or
 * `{"enabled": false}` (resume it). Anything else is refused with 400, naming the field and the rule.
 *
 * @example
 * maintenanceRequestFrom({ enabled: true }); // true
 */
export function maintenanceRequestFrom(body: unknown): boolean {
  const fields = objectBody(body);
  const issues: SettingsIssue[] = Object.keys(fields)
    .filter((field) => field !== 'enabled')
    .map((field) => ({ field, rule: 'is not a known field (the body is {"enabled": true|false})' }));
  if (typeof fields.enabled !== 'boolean') issues.unshift({ field: 'enabled', rule: fields.enabled === undefined ? 'is required: true pauses automatic takeover, false resumes it' : 'must be true or false' });
  if (issues.length > 0) throw invalidInput(issues);
  return fields.enabled as boolean;
}

/**
 * Reads the optional body of `PUT /failover`: none (or `{}`), or `{"to": "<node id>"}`, the member that becomes
 * Primary. Anything else is refused with 400, naming the field and the rule.
 *
 * @example
 * failoverRequestFrom({ to: 'c' }); // { to: 'c' }
 * failoverRequestFrom(undefined); // {}
 */
export function failoverRequestFrom(body: unknown): { to?: string } {
  if (body === undefined || body === null || body === '') return {};
  const fields = objectBody(body);
  const issues: SettingsIssue[] = Object.keys(fields)
    .filter((field) => field !== 'to')
    .map((field) => ({ field, rule: 'is not a known field (the body is empty or {"to": "<node id>"})' }));
  if (fields.to !== undefined && (typeof fields.to !== 'string' || !isValidNodeId(fields.to))) {
    issues.unshift({ field: 'to', rule: "must be a member's node id: 1 to 63 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit" });
  }
  if (issues.length > 0) throw invalidInput(issues);
  return fields.to === undefined ? {} : { to: fields.to as string };
}

/** What a join request asks: which group, and how to reach its Primary. */
export interface JoinRequest {
  readonly groupFqdn: string;
  readonly scheme: 'http' | 'https';
}

/**
 * Reads a `PUT /group/members` body: `group_fqdn` (required unless configured) and this node's
 * `external_ipv4_address`, `external_port`, `external_scheme`. Other known settings are ignored (they come from
 * the Primary); unknown fields are refused.
 *
 * @example
 * joinRequestFrom({ group_fqdn: 'app.example.test' }, node.settings) // { groupFqdn: 'app.example.test', scheme: 'http' }
 */
export function joinRequestFrom(body: unknown, current: Settings): JoinRequest {
  const fields = objectBody(body);
  const issues: SettingsIssue[] = [];
  for (const field of Object.keys(fields)) if (!(field in settingsSchema().shape)) issues.push({ field, rule: 'is not a known setting' });
  issues.push(...listeningIssues(fields, current));
  const group = settingsSchema().shape.group_fqdn.safeParse(fields.group_fqdn ?? current.groupFqdn);
  if (!group.success || group.data === undefined) {
    issues.push({ field: 'group_fqdn', rule: group.success ? 'is required to join a group' : (group.error.issues[0]?.message ?? 'is invalid') });
  }
  const scheme = settingsSchema().shape.external_scheme.safeParse(fields.external_scheme ?? current.externalScheme);
  if (!scheme.success) issues.push({ field: 'external_scheme', rule: scheme.error.issues[0]?.message ?? 'is invalid' });
  if (issues.length > 0 || !group.success || group.data === undefined || !scheme.success) throw invalidInput(issues);
  return { groupFqdn: group.data, scheme: scheme.data };
}
