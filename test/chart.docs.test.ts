/**
 * docs/statechart.svg and docs/statechart.mmd are generated from the machine: this fails when someone changed the
 * machine and did not run `npm run chart`.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CHART_FILES, generateChartFiles } from '../src/inspect/chartFiles.js';

describe('generated chart files', () => {
  it.each(CHART_FILES)('%s matches the machine definition (run "npm run chart" to regenerate)', async (file) => {
    const expected = (await generateChartFiles()).get(file);
    const actual = await readFile(new URL(`../${file}`, import.meta.url), 'utf8').catch(() => '(missing)');
    expect(actual === expected, `${file} is stale: run "npm run chart"`).toBe(true);
  });
});
