/**
 * The command line of the failover benches (keepalived, etcd): `--runs N` (failovers per figure, default 7) and
 * `--seed S` (the kill phases' seed, default 1). A bad value is refused naming the flag and the rule.
 */

export interface BenchOptions {
  readonly runs: number;
  readonly seed: number;
}

/**
 * Parses the arguments after the bench's name; `bench` names the bench in the message for an unknown option.
 *
 * @example
 * parseBenchOptions(['--runs', '3'], 'keepalived'); // { runs: 3, seed: 1 }
 */
export function parseBenchOptions(args: readonly string[], bench: string): BenchOptions {
  const values: Record<'runs' | 'seed', number> = { runs: 7, seed: 1 };
  for (let index = 0; index < args.length; index += 2) {
    const flag = args[index]!;
    const name = flag.replace(/^--/, '');
    if (name !== 'runs' && name !== 'seed') throw new Error(`Unknown option ${flag}: the ${bench} bench takes --runs N and --seed S.`);
    const value = Number(args[index + 1]);
    if (!Number.isInteger(value) || value < (name === 'runs' ? 1 : 0)) throw new Error(`--${name} must be a whole number${name === 'runs' ? ' of at least 1' : ' of 0 or more'} (got ${args[index + 1] ?? 'nothing'}).`);
    values[name] = value;
  }
  return values;
}
