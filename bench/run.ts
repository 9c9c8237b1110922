/**
 * `npm run bench`: runs every `bench/*.bench.ts` in its own process, one after another (they measure timing, so
 * never in parallel), and prints their tables. `npm run bench -- dns` runs only the files whose name contains `dns`;
 * arguments after the name go to each file run (`npm run bench -- keepalived --runs 3`).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2] ?? '';
const benchArgs = process.argv.slice(3);
const files = readdirSync(here)
  .filter((name) => name.endsWith('.bench.ts') && name.includes(filter))
  .sort();
let failed = 0;
for (const file of files) {
  console.log(`\n# ${file}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, file), ...benchArgs], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed += 1;
    console.log(`(${file} exited with ${result.status ?? result.signal})`);
  }
}
process.exit(failed === 0 ? 0 : 1);
