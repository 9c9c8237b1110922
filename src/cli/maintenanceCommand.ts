import { API_CLIENT_OPTION_HELP, API_CLIENT_OPTIONS, ApiClient } from './apiClient.js';
import { parseCli, runCli } from './cliConfig.js';
import type { CliCommand } from './command.js';
import { EXIT_USAGE } from './command.js';
import { helpText } from './helpText.js';
import { maintenanceLine, printActionAnswer } from './actionAnswer.js';
import { OUTPUT_OPTION, outputFormatOf } from './outputFormat.js';

const PAUSE_SUMMARY = "pause the group's automatic takeover: maintenance mode on (PUT /ag/api/v1/maintenance)";
const RESUME_SUMMARY = "resume the group's automatic takeover: maintenance mode off (PUT /ag/api/v1/maintenance)";

const SHARED = `Maintenance mode is group-wide: the node you ask applies it at once and persists it, and the other
member learns it with the next heartbeat (from the Primary) or acknowledgement (from the Secondary); a newer
change wins. Ask either node; a Secondary whose Primary is gone applies it alone.`;

/** The `--output` entry of pause and resume: one line for people, or the API's answer. */
const OUTPUT_HELP: readonly [string, string] = ['-o, --output <format>', "table (default: one line for people), json or yaml (the API's answer)"];

/** The help of `pause` or `resume`: what it switches, an example of its line, and its exit 0 meaning differ. */
function maintenanceHelp(command: 'pause' | 'resume', summary: string, effect: string, exampleLine: string, exitZero: string, examples: readonly string[]): string {
  return helpText({
    command,
    summary,
    usage: [`${command} [--config <file> | --url <url> --token <token>] [-o table|json|yaml]`],
    description: `${effect}

${SHARED}

It prints one line, e.g. "${exampleLine}"; with -o json
the API's answer (message, enabled, by, version).`,
    options: [...API_CLIENT_OPTION_HELP, OUTPUT_HELP],
    exitCodes: [
      [0, exitZero],
      [1, 'the node answered with an error (e.g. 409: not in a group) or could not be reached'],
      [EXIT_USAGE, 'usage error'],
    ],
    examples,
  });
}

const PAUSE_HELP = maintenanceHelp(
  'pause',
  PAUSE_SUMMARY,
  `Switches maintenance mode on: while it is on, no node takes over for the Primary's absence (a Secondary
still runs its standby check and reports PRIMARY_SUSPECTED) and no Primary hands over for application health
(health_command, health_url). Heartbeats, the API, the state and manual failover ("agctl failover") keep working.
"agctl state" shows maintenance: true on both nodes once the other member has heard.`,
  'paused: automatic takeover is suspended group-wide (by a, version 3)',
  'maintenance mode is on at the node asked',
  ['pause --config /etc/availability-group/node.json', 'pause --url http://127.0.0.2:8080 --token "$AG_API_TOKEN" -o json'],
);

const RESUME_HELP = maintenanceHelp(
  'resume',
  RESUME_SUMMARY,
  `Switches maintenance mode off: automatic takeover works again. A Secondary that is resumed runs its
standby check at once, so if its Primary has been silent for the failover period (allowed_absence_interval) it
takes over right away.`,
  'resumed: automatic takeover works again group-wide (by b, version 4)',
  'maintenance mode is off at the node asked',
  ['resume --config /etc/availability-group/node.json', 'resume --config /etc/availability-group/node.json -o json'],
);

/** `agctl pause` and `agctl resume`: one `PUT /maintenance` call. */
function maintenanceCommand(name: 'pause' | 'resume', summary: string, help: string, enabled: boolean): CliCommand {
  return {
    name,
    summary,
    run: (argv) =>
      runCli(name, async () => {
        const { values } = parseCli(argv, { ...API_CLIENT_OPTIONS, ...OUTPUT_OPTION });
        if (values.help) {
          process.stdout.write(help);
          return 0;
        }
        const format = outputFormatOf(values.output);
        const client = await ApiClient.fromFlags(values);
        const answer = await client.call('PUT', '/maintenance', { enabled });
        return printActionAnswer(name, answer, format, () => maintenanceLine(answer.body));
      }),
  };
}

/** `agctl pause`: maintenance mode on. */
export const pauseCommand: CliCommand = maintenanceCommand('pause', PAUSE_SUMMARY, PAUSE_HELP, true);

/** `agctl resume`: maintenance mode off. */
export const resumeCommand: CliCommand = maintenanceCommand('resume', RESUME_SUMMARY, RESUME_HELP, false);
