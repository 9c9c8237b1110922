import { CliUsageError } from './cliConfig.js';
import { toYaml } from './toYaml.js';

/** How a command prints data: a human table (the default), JSON, or YAML. */
export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The `--output` option of the commands that print data (`-o` for short, as kubectl and patronictl). */
export const OUTPUT_OPTION = { output: { type: 'string', short: 'o', default: 'table' } } as const;

/** The help entry of {@link OUTPUT_OPTION}, for {@link helpText}. */
export const OUTPUT_OPTION_HELP: readonly [string, string] = ['-o, --output <format>', 'table (default), json or yaml'];

/**
 * The `--output` value as a format; throws `CliUsageError` naming the allowed values otherwise.
 *
 * @example
 * outputFormatOf('json') // 'json'
 */
export function outputFormatOf(value: string | undefined): OutputFormat {
  const format = value ?? 'table';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) throw new CliUsageError(`--output must be table, json or yaml (got ${JSON.stringify(format)})`);
  return format as OutputFormat;
}

/**
 * `data` in `format`: JSON indented by two, YAML, or what `table` renders for people.
 *
 * @example
 * process.stdout.write(formatOutput(body, format, () => renderKeyValues(body)));
 */
export function formatOutput(data: unknown, format: OutputFormat, table: () => string): string {
  if (format === 'json') return `${JSON.stringify(data, null, 2)}\n`;
  if (format === 'yaml') return toYaml(data);
  return table();
}
