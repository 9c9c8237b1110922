import { API_CLIENT_OPTION_HELP, API_CLIENT_OPTIONS, ApiClient, printObjectAnswer } from './apiClient.js';
import { parseCli, runCli } from './cliConfig.js';
import type { CliCommand } from './command.js';
import { EXIT_USAGE } from './command.js';
import { helpText } from './helpText.js';
import { OUTPUT_OPTION, OUTPUT_OPTION_HELP, outputFormatOf } from './outputFormat.js';

const HELP = helpText({
  command: 'state',
  summary: "print a node's state (GET /ag/api/v1/state)",
  usage: ['state [--config <file> | --url <url> --token <token>] [-o table|json|yaml]'],
  description: `Prints the state, one key per line (or as JSON or YAML): node_role, node_dns_connection_state,
heartbeat_method, last_heartbeat_time, last_updated (the product's keys), node_id, epoch, acting_primary,
lease_remaining_ms, state, and what else the node reports. "agctl status" shows both nodes in one table.`,
  options: [...API_CLIENT_OPTION_HELP, OUTPUT_OPTION_HELP],
  exitCodes: [
    [0, 'the node answered'],
    [1, 'the node answered with an error or could not be reached'],
    [EXIT_USAGE, 'usage error'],
  ],
  examples: ['state --config /etc/availability-group/node.json', 'state --url http://127.0.0.2:8080 -o json'],
});

/** `agctl state`. */
export const stateCommand: CliCommand = {
  name: 'state',
  summary: "print a node's state (GET /ag/api/v1/state)",
  run: (argv) =>
    runCli('state', async () => {
      const { values } = parseCli(argv, { ...API_CLIENT_OPTIONS, ...OUTPUT_OPTION });
      if (values.help) {
        process.stdout.write(HELP);
        return 0;
      }
      const format = outputFormatOf(values.output);
      const client = await ApiClient.fromFlags(values);
      return printObjectAnswer('state', await client.call('GET', '/state'), format);
    }),
};
