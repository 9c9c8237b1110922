/**
 * The keepalived bench's command line: `--runs N` (failovers per figure, default 7) and `--seed S` (the kill
 * phases' seed, default 1). A bad value is refused naming the flag and the rule.
 */

export interface KeepalivedBenchOptions {
  readonly runs: number;
  readonly seed: number;
}

/**
 * Parses the arguments after the bench's name.
 *
 * @example
 * parseKeepalivedBenchOptions(['--runs', '3']); // { runs: 3, seed: 1 }
 */
export function parseKeepalivedBenchOptions(args: readonly string[]): KeepalivedBenchOptions {
  const values: Record<'runs' | 'seed', number> = { runs: 7, seed: 1 };
  for (let index = 0; index < args.length; index += 2) {
    const flag = args[index]!;
    const name = flag.replace(/^--/, '');
    if (name !== 'runs' && name !== 'seed') throw new Error(`Unknown option ${flag}: the keepalived bench takes --runs N and --seed S.`);
    const value = Number(args[index + 1]);
    if (!Number.isInteger(value) || value < (name === 'runs' ? 1 : 0)) throw new Error(`--${name} must be a whole number${name === 'runs' ? ' of at least 1' : ' of 0 or more'} (got ${args[index + 1] ?? 'nothing'}).`);
    values[name] = value;
  }
  return values;
}
