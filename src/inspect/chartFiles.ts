/**
 * The generated chart files under `docs/`: which exist, and their content regenerated from the machine. One list,
 * shared by `npm run chart` (which writes them) and the test that fails when they are stale.
 */
import { chartModel, type ChartModel } from './chartModel.js';
import { toMermaid } from './mermaid.js';
import { renderChartSvg } from './svg.js';

/** The generated files, relative to the package root. */
export const CHART_FILES = ['docs/statechart.svg', 'docs/statechart.mmd'] as const;

/**
 * The content each generated file should have now, regenerated in memory from the machine definition.
 *
 * @example
 * const files = await generateChartFiles();
 * files.get('docs/statechart.mmd')!.startsWith('---') // true
 */
export async function generateChartFiles(model: ChartModel = chartModel()): Promise<Map<(typeof CHART_FILES)[number], string>> {
  return new Map([
    ['docs/statechart.svg', await renderChartSvg(model)],
    ['docs/statechart.mmd', toMermaid(model)],
  ]);
}
