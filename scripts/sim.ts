/** `npm run sim -- --seed N [...]`: see src/testing/cli/simCommand.ts or `npm run sim -- --help`. */
import { runSimCommand } from '../src/testing/cli/simCommand.js';

process.exitCode = await runSimCommand(process.argv.slice(2));
