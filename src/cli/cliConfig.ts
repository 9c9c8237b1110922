import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliUsageError } from '../api/errors.js';
import { didYouMean } from './didYouMean.js';

/** A command-line mistake (defined in the error catalogue); commands print it and exit with EXIT_USAGE. */
export { CliUsageError };

/**
 * Reads a JSON config file into an object (whole-line `//` comments allowed). Throws `CliUsageError` naming the file when it cannot be read or is
 * not a JSON object (the settings themselves are checked by `loadSettings`).
 *
 * @example
 * const input = await readConfigFile('node-a.json');
 */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliUsageError(`cannot read the config file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(withoutCommentLines(text));
  } catch (error) {
    throw new CliUsageError(`the config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CliUsageError(`the config file ${path} must hold a JSON object of settings`);
  return parsed as Record<string, unknown>;
}

/**
 * The config text without its comment lines: a line whose first non-blank characters are `//` (as `agctl config
 * example` writes) is blanked, so line numbers in JSON errors stay right. Comments after a value are not allowed.
 *
 * @example
 * JSON.parse(withoutCommentLines('{\n  // the node\n  "node_id": "a"\n}')) // { node_id: 'a' }
 */
export function withoutCommentLines(text: string): string {
  return text.replace(/^[ \t]*\/\/.*$/gm, '');
}

/** The option declarations `parseArgs` takes. */
export type CliOptions = NonNullable<ParseArgsConfig['options']>;
const HELP_OPTION = { help: { type: 'boolean', short: 'h', default: false } } as const;
/** What {@link parseCli} returns: the values of `O` and of `--help`, and the positionals. */
export type ParsedCli<O extends CliOptions> = ReturnType<typeof parseArgs<{ args: string[]; options: O & typeof HELP_OPTION; strict: true; allowPositionals: boolean }>>;

/**
 * `parseArgs` in strict mode with `--help`; throws `CliUsageError` for an unknown flag or a missing value.
 *
 * @example
 * const { values } = parseCli(argv, { config: { type: 'string' } });
 */
export function parseCli<O extends CliOptions>(argv: readonly string[], options: O, allowPositionals = false): ParsedCli<O> {
  try {
    return parseArgs({ args: [...argv], options: { ...options, ...HELP_OPTION }, strict: true, allowPositionals });
  } catch (error) {
    throw new CliUsageError(unknownOptionMessage(error as Error & { code?: string }, { ...options, ...HELP_OPTION }) ?? (error as Error).message);
  }
}

/** `unknown option --confg (did you mean --config?)` for parseArgs's unknown-option error; undefined for any other. */
function unknownOptionMessage(error: Error & { code?: string }, options: CliOptions): string | undefined {
  if (error.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return undefined;
  const given = /'([^']+)'/.exec(error.message)?.[1];
  if (given === undefined) return undefined;
  const flags = Object.keys(options).map((name) => `--${name}`);
  const suggestion = given.startsWith('--') ? didYouMean(given.split('=')[0]!, flags) : undefined;
  return `unknown option ${given}${suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`}; see --help`;
}

/**
 * Runs a command body, turning `CliUsageError` into its message on stderr and the usage exit code, and any other
 * error into its message and exit code 1.
 */
export async function runCli(name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    process.stderr.write(`agctl ${name}: ${(error as Error).message}\n`);
    return error instanceof CliUsageError ? error.exitCode : 1;
  }
}
