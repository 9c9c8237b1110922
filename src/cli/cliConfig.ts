import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT_USAGE } from './command.js';

/** A command-line mistake; the message names the flag or file. Commands print it and exit with EXIT_USAGE. */
export class CliUsageError extends Error {
  readonly exitCode = EXIT_USAGE;
}

/**
 * Reads a JSON config file into an object. Throws `CliUsageError` naming the file when it cannot be read or is
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
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliUsageError(`the config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CliUsageError(`the config file ${path} must hold a JSON object of settings`);
  return parsed as Record<string, unknown>;
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
    throw new CliUsageError((error as Error).message);
  }
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
