import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { EXIT_USAGE, type CliCommand } from './command.js';

const FORMATS = ['svg', 'mermaid', 'dot'] as const;
type ChartFormat = (typeof FORMATS)[number];

const HELP = `agctl chart: export the node statechart, drawn from the machine definition

Usage: agctl chart [--format svg|mermaid|dot] [--out <file>]

Options:
  --format <f>   svg (default; laid out with elkjs), mermaid (stateDiagram-v2) or dot (Graphviz)
  --out <file>   write to <file> instead of standard output
  -h, --help     show this help

docs/statechart.svg and docs/statechart.mmd are generated the same way by "npm run chart".
`;

/** `agctl chart`. */
export const chartCommand: CliCommand = {
  name: 'chart',
  summary: 'export the statechart as SVG, Mermaid or DOT',
  async run(argv) {
    let values;
    try {
      ({ values } = parseArgs({
        args: [...argv],
        options: {
          format: { type: 'string', default: 'svg' },
          out: { type: 'string' },
          help: { type: 'boolean', short: 'h', default: false },
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (error) {
      process.stderr.write(`agctl chart: ${(error as Error).message}\n`);
      return EXIT_USAGE;
    }
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (!(FORMATS as readonly string[]).includes(values.format)) {
      process.stderr.write(`agctl chart: --format must be one of ${FORMATS.join(', ')}, not "${values.format}".\n`);
      return EXIT_USAGE;
    }
    const text = await renderChart(values.format as ChartFormat);
    if (values.out === undefined) {
      process.stdout.write(text);
    } else {
      await writeFile(values.out, text);
      process.stderr.write(`agctl chart: wrote ${values.out}\n`);
    }
    return 0;
  },
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
