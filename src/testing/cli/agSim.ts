/**
 * `ag-sim`, the simulator command of an installed package (bin/ag-sim.js): the same command as `npm run sim` in a
 * clone (simCommand.ts), loaded only once fast-check, an optional peer dependency that the scenarios are drawn with,
 * is known to be installed.
 */
import { OptionalDependencyMissingError } from '../../api/errors.js';
import { importOptional } from '../../api/importOptional.js';

/** The install command `ag-sim` names when fast-check is missing (QA installs it as a dev dependency). */
export const AG_SIM_NEEDS = 'npm install --save-dev fast-check';

/**
 * Runs `ag-sim` with `argv`; resolves with the exit code: 0 every property held, 1 one failed, 2 a usage error or
 * fast-check missing (with the message `ag-sim needs fast-check: npm install --save-dev fast-check`).
 *
 * @example
 * process.exitCode = await runAgSim(['--seed', '42']);
 */
export async function runAgSim(argv: readonly string[]): Promise<number> {
  let simCommand: typeof import('./simCommand.js');
  try {
    simCommand = await importOptional('fast-check', 'ag-sim', () => import('./simCommand.js'), AG_SIM_NEEDS);
  } catch (error) {
    if (!(error instanceof OptionalDependencyMissingError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  return simCommand.runSimCommand(argv, 'ag-sim');
}
