/**
 * `npm run chart`: regenerates docs/statechart.svg and docs/statechart.mmd from the machine definition. Run it after
 * changing machines/nodeMachine.ts; test/chart.docs.test.ts fails until you do.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateChartFiles } from '../src/inspect/chartFiles.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
for (const [file, content] of await generateChartFiles()) {
  const path = resolve(root, file);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  console.log(`wrote ${file} (${content.length} bytes)`);
}
