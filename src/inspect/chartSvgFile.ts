import { readFile } from 'node:fs/promises';

/**
 * The node machine's chart SVG for a running node: read from the generated `docs/statechart.svg` (shipped in the
 * package, and kept equal to the machine by test/chart.docs.test.ts), because laying it out takes elkjs a second or
 * two of synchronous work, which would stall a node's heartbeats and could cost it its lease. Only when the file is
 * missing (a checkout without docs/) is the chart laid out here.
 *
 * @example
 * const svg = await loadChartSvg();
 */
export async function loadChartSvg(): Promise<string> {
  // From src/inspect/ under tsx, or dist/src/inspect/ when compiled.
  for (const relative of ['../../docs/statechart.svg', '../../../docs/statechart.svg']) {
    try {
      const text = await readFile(new URL(relative, import.meta.url), 'utf8');
      if (text.startsWith('<svg')) return text;
    } catch {
      // not at this level
    }
  }
  // Loaded only here: elkjs is megabytes of code that a running node should not carry in memory.
  const { renderChartSvg } = await import('./svg.js');
  return renderChartSvg();
}
