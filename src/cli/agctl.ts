/**
 * The `agctl` entry point as a module of the package (bin/agctl.js does the same from dist): child processes are
 * started with this file, compiled or through tsx.
 */
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`agctl: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
