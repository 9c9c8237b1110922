/**
 * The settings in the OpenAPI document agree with the zod schema that validates them: the same fields as the API
 * takes, generated from the schema, and what the document says (defaults, ranges, enums) is what loadSettings does.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SettingsError } from '../src/api/errors.js';
import { API_SETTING_FIELDS } from '../src/http/apiBodies.js';
import { openApiDocument } from '../src/http/openApiDocument.js';
import { settingsJsonSchema, type JsonSchema } from '../src/http/settingsJsonSchema.js';
import { loadSettings, settingsSchema } from '../src/node/settings.js';

const documented = openApiDocument.components.schemas.Settings.properties as Record<string, JsonSchema>;
const base = { node_id: 'a', external_ipv4_address: '127.0.0.2' };

/** The fields loadSettings refuses `input` for (none when it accepts it). */
function refusedFields(input: Record<string, unknown>): string[] {
  try {
    loadSettings({ ...base, ...input });
    return [];
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    return error.issues.map((issue) => issue.field);
  }
}

describe('the settings in the OpenAPI document', () => {
  it('are the fields the API takes, each a setting of the zod schema, as the schema generates them', () => {
    expect(Object.keys(documented).sort()).toEqual([...API_SETTING_FIELDS].sort());
    const generated = (z.toJSONSchema(settingsSchema(), { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, JsonSchema> }).properties;
    for (const field of API_SETTING_FIELDS) {
      expect(Object.keys(settingsSchema().shape), field).toContain(field);
      const { description: _description, ...schema } = documented[field]!;
      const { minLength: _minLength, ...withoutMinLength } = generated[field]!;
      // tsig_secret: "" keeps the current secret in the API, so the document drops the config file's minLength.
      expect(schema, field).toEqual(field === 'tsig_secret' ? withoutMinLength : generated[field]);
    }
    expect(documented.group_fqdn_ttl).toEqual(settingsJsonSchema(['group_fqdn_ttl'], { group_fqdn_ttl: 'TTL of the A and TXT records, seconds.' }).group_fqdn_ttl);
  });

  it('name the defaults loadSettings fills in', () => {
    const record = loadSettings(base).record as Record<string, unknown>;
    const withDefaults = API_SETTING_FIELDS.filter((field) => 'default' in documented[field]!);
    expect(withDefaults).toEqual(expect.arrayContaining(['health_report_interval', 'health_check_interval', 'allowed_absence_interval', 'group_fqdn_ttl', 'external_port']));
    for (const field of withDefaults) expect(record[field], field).toEqual(documented[field]!.default);
  });

  it('name the bounds and enums loadSettings enforces', () => {
    let checked = 0;
    for (const field of API_SETTING_FIELDS) {
      const schema = documented[field]!;
      if (typeof schema.maximum === 'number') {
        checked += 1;
        expect(refusedFields({ [field]: schema.maximum + 1 }), field).toContain(field);
      }
      if (typeof schema.minimum === 'number') {
        checked += 1;
        expect(refusedFields({ [field]: schema.minimum - 1 }), field).toContain(field);
      }
      if (typeof schema.exclusiveMinimum === 'number') {
        checked += 1;
        expect(refusedFields({ [field]: schema.exclusiveMinimum }), field).toContain(field);
      }
      if (schema.type === 'integer') {
        checked += 1;
        expect(refusedFields({ [field]: 1.5 }), field).toContain(field);
      }
      if (Array.isArray(schema.enum)) {
        checked += 1;
        for (const value of schema.enum) expect(refusedFields({ [field]: value }), `${field} = ${String(value)}`).not.toContain(field);
        expect(refusedFields({ [field]: 'not-one-of-them' }), field).toContain(field);
      }
      if (typeof schema.pattern === 'string') {
        checked += 1;
        expect(refusedFields({ [field]: '!! not valid !!' }), field).toContain(field);
        expect('!! not valid !!').not.toMatch(new RegExp(schema.pattern));
      }
    }
    expect(checked).toBeGreaterThan(15);
  });
});
