import { readFile } from 'node:fs/promises';
import type { CliCommand } from './command.js';
import { CliUsageError, parseCli, runCli } from './cliConfig.js';

const HELP = `agctl inspect: replay a recorded trace in the statechart inspector

Usage: agctl inspect --trace <file> [--trace <file>] [--port <n>]

Serves the inspector page on 127.0.0.1 and prints its URL; stop it with Ctrl-C. The page shows the group: each
node's role and epoch as a swimlane on one time line, the chart with the state of the chosen node highlighted, and
steps forward and back through the transitions (all nodes, or one), or jumps to the next role change or fault.

<file> is a simulator trace (JSON, "format": "ag-sim-trace", docs/trace-format.md) or a node event log (JSON
lines, first line "format": "ag-node-log": what a node serves at /ag/inspect/log). Give --trace once per node's
log to see the group: the logs are lined up by their wall-clock times.

Options:
  --trace <file>   the trace to replay (required; repeat it for each node's event log)
  --port <n>       the port to listen on (default 0: any free port)
  -h, --help       show this help

Exit codes:
  0  stopped with Ctrl-C
  1  the trace cannot be read or is not a trace
  2  usage error

Examples:
  agctl inspect --trace sim-trace.json
  agctl inspect --trace node-a.log.jsonl --port 8099
  agctl inspect --trace node-a.log.jsonl --trace node-b.log.jsonl
`;

/** `agctl inspect`. */
export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: 'replay a trace or node event log in the inspector page',
  run: (argv) =>
    runCli('inspect', async () => {
      const { values } = parseCli(argv, { trace: { type: 'string', multiple: true }, port: { type: 'string', default: '0' } });
      if (values.help) {
        process.stdout.write(HELP);
        return 0;
      }
      const traces = (values.trace ?? []) as string[];
      if (traces.length === 0) throw new CliUsageError('--trace <file> is required. Run "agctl inspect --help" for usage.');
      const port = Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliUsageError(`--port must be a whole number from 0 to 65535, not "${values.port as string}".`);
      const texts: string[] = [];
      for (const trace of traces) {
        try {
          texts.push(await readFile(trace, 'utf8'));
        } catch (error) {
          throw new Error(`cannot read ${trace}: ${(error as Error).message}`);
        }
      }
      const { serveReplay } = await import('../http/inspector/serveReplay.js');
      const served = await serveReplay(texts, { port });
      process.stdout.write(`Replaying ${served.trace.title}: ${served.trace.steps.length} transitions of ${served.trace.nodes.join(', ') || 'no node'}.\n${served.url}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await served.close();
      return 0;
    }),
};
