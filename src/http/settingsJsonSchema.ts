/**
 * The JSON Schema of settings for the OpenAPI document, generated from the zod schema that validates them
 * (`settingsSchema` in src/node/settings.ts) with zod's `z.toJSONSchema`: types, ranges, enums, patterns and
 * defaults come from the code that enforces them, so the document cannot drift from it and a new setting appears in
 * it as soon as the API takes it. Only the meaning of each setting, which zod does not hold, is written here.
 */
import { zod } from '../api/lazyZod.js';
import { settingsSchema, type SettingsRecord } from '../node/settings.js';

/** A JSON Schema object, as the OpenAPI document holds it. */
export type JsonSchema = Record<string, unknown>;

/**
 * The input JSON Schema of each of `fields` (what a client sends: defaults shown, none required), with the
 * description of `descriptions` where there is one. `tsig_secret` also allows "" (the API's "keep the current
 * secret"), which the schema of a config file does not.
 *
 * @example
 * settingsJsonSchema(['group_fqdn_ttl'], { group_fqdn_ttl: 'TTL, seconds.' })
 * // { group_fqdn_ttl: { default: 30, type: 'integer', minimum: 0, maximum: 2147483647, description: 'TTL, seconds.' } }
 */
export function settingsJsonSchema<Field extends keyof SettingsRecord & string>(
  fields: readonly Field[],
  descriptions: Partial<Record<Field, string>> = {},
): Record<Field, JsonSchema> {
  const generated = zod().toJSONSchema(settingsSchema(), { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, JsonSchema> };
  const properties = generated.properties ?? {};
  return Object.fromEntries(
    fields.map((field) => {
      const schema = properties[field];
      if (schema === undefined) throw new Error(`settingsJsonSchema: "${field}" is not in settingsSchema.`);
      const { minLength, ...rest } = schema;
      const api = field === 'tsig_secret' ? rest : { ...rest, ...(minLength === undefined ? {} : { minLength }) };
      const description = descriptions[field];
      return [field, description === undefined ? api : { ...api, description }];
    }),
  ) as Record<Field, JsonSchema>;
}
