import { readFileSync } from 'node:fs';
import { SettingsError, type SettingsIssue } from '../api/errors.js';
import { SECRET_FILE_FIELDS, settingsSchema } from './settings.js';

/** A secret setting that may be read from a file (`tsig_secret`, `api_token`, `peer_secret`). */
export type SecretField = (typeof SECRET_FILE_FIELDS)[keyof typeof SECRET_FILE_FIELDS];

/**
 * Reads one secret file: its content without the trailing newline(s) an editor or `echo` leaves. Throws
 * `SettingsError` naming `field` (e.g. `tsig_secret_file`) when the file cannot be read; the message has the path
 * and the error code, never the content.
 *
 * @example
 * const token = readSecretFile('api_token_file', '/etc/agnode/api-token');
 */
export function readSecretFile(field: string, path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/[\r\n]+$/, '');
  } catch (error) {
    throw new SettingsError([{ field, rule: `cannot be read: ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` }]);
  }
}

/**
 * A config with its secrets read from files: each `tsig_secret_file`, `api_token_file` and `peer_secret_file` is
 * replaced by the secret it names (`tsig_secret`, ...), read now, its trailing newline trimmed. The settings then
 * hold the secret, never the path, so a Primary pushes the TSIG secret itself to its Secondary. Relative paths are
 * relative to the working directory, as for the TLS files. Throws `SettingsError` naming the `..._file` field when a
 * file cannot be read, when its content breaks the secret's rule (the content is never echoed), or when the secret
 * is also given inline. Anything that is not an object is returned as it is (`loadSettings` refuses it).
 *
 * @example
 * const settings = loadSettings(readSecretFiles({ node_id: 'a', api_token_file: '/etc/agnode/api-token', ... }));
 */
export function readSecretFiles(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const config: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  const issues: SettingsIssue[] = [];
  for (const [fileField, secretField] of Object.entries(SECRET_FILE_FIELDS)) {
    const path = config[fileField];
    if (path === undefined) continue;
    delete config[fileField];
    if (typeof path !== 'string' || path === '') {
      issues.push({ field: fileField, rule: 'must be the path of a file' });
      continue;
    }
    if (config[secretField] !== undefined) {
      issues.push({ field: fileField, rule: `cannot be given together with ${secretField}: give the secret inline or in a file, not both` });
      continue;
    }
    let secret: string;
    try {
      secret = readSecretFile(fileField, path);
    } catch (error) {
      if (!(error instanceof SettingsError)) throw error;
      issues.push(...error.issues);
      continue;
    }
    const checked = settingsSchema().shape[secretField].safeParse(secret);
    if (!checked.success) {
      issues.push({ field: fileField, rule: `the content of ${path} ${checked.error.issues[0]?.message ?? 'is not a valid secret'}` });
      continue;
    }
    config[secretField] = secret;
  }
  if (issues.length > 0) throw new SettingsError(issues);
  return config;
}
