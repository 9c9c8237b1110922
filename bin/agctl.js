#!/usr/bin/env node
// The agctl entry point: runs the compiled CLI (npm ci builds it through the "prepare" script).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`agctl: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
