#!/usr/bin/env node
// The ag-sim entry point: QA's simulator from an installed package (`ag-sim --help`). Runs the compiled command,
// the same one as `npm run sim` in a clone; it needs fast-check installed next to this package.
import { runAgSim } from '../dist/src/testing/cli/agSim.js';

runAgSim(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`ag-sim: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
