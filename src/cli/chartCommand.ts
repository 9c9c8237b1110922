import { writeFile } from 'node:fs/promises';
import type { CliCommand } from './command.js';
import { CliUsageError, parseCli, runCli } from './cliConfig.js';

const FORMATS = ['svg', 'mermaid', 'dot'] as const;
type ChartFormat = (typeof FORMATS)[number];

const HELP = `agctl chart: export the node statechart, drawn from the machine definition

Usage: agctl chart [--format svg|mermaid|dot] [--out <file>]

Options:
  --format <f>   svg (default; laid out with elkjs, an optional dependency: npm install elkjs), mermaid
                 (stateDiagram-v2) or dot (Graphviz)
  --out <file>   write to <file> instead of standard output
  -h, --help     show this help

docs/statechart.svg and docs/statechart.mmd are generated the same way by "npm run chart".

Exit codes:
  0  written
  1  the chart could not be drawn or written
  2  usage error

Examples:
  agctl chart --format svg --out statechart.svg
  agctl chart --format mermaid
`;

/** `agctl chart`. */
export const chartCommand: CliCommand = {
  name: 'chart',
  summary: 'export the statechart as SVG, Mermaid or DOT',
  run: (argv) =>
    runCli('chart', async () => {
      const { values } = parseCli(argv, { format: { type: 'string', default: 'svg' }, out: { type: 'string' } });
      if (values.help) {
        process.stdout.write(HELP);
        return 0;
      }
      const format = values.format as string;
      if (!(FORMATS as readonly string[]).includes(format)) throw new CliUsageError(`--format must be one of ${FORMATS.join(', ')}, not "${format}".`);
      const text = await renderChart(format as ChartFormat);
      if (values.out === undefined) {
        process.stdout.write(text);
      } else {
        await writeFile(values.out as string, text);
        process.stderr.write(`agctl chart: wrote ${values.out as string}\n`);
      }
      return 0;
    }),
};

/** The chart in `format`; each exporter loads only when asked for (the SVG one brings elkjs). */
async function renderChart(format: ChartFormat): Promise<string> {
  switch (format) {
    case 'svg':
      return (await import('../inspect/svg.js')).renderChartSvg();
    case 'mermaid':
      return (await import('../inspect/mermaid.js')).toMermaid();
    case 'dot':
      return (await import('../inspect/dot.js')).toDot();
  }
}
