/** One `agctl` subcommand: its name, a one-line summary for `agctl --help`, and its entry point. */
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  /** Runs the command with the arguments after its name; resolves with the process exit code. */
  run(argv: readonly string[]): Promise<number>;
}

/** Exit code for a usage error (unknown flag, missing value), as BSD's sysexits EX_USAGE is too specific. */
export const EXIT_USAGE = 2;
