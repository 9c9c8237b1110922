import { API_CLIENT_OPTION_HELP, ApiClient } from './apiClient.js';
import { CliUsageError, parseCli, runCli } from './cliConfig.js';
import type { CliCommand } from './command.js';
import { EXIT_USAGE } from './command.js';
import { collectGroupStatus, renderGroupStatus, STATUS_CALL_TIMEOUT_MS, type GroupStatus } from './groupStatus.js';
import { helpText } from './helpText.js';
import { formatOutput, OUTPUT_OPTION, OUTPUT_OPTION_HELP, outputFormatOf, type OutputFormat } from './outputFormat.js';

/** The refresh interval of `--watch` without a value, seconds. */
export const DEFAULT_WATCH_SECONDS = 2;

const HELP = helpText({
  command: 'status',
  summary: 'both nodes of the group in one table (as patronictl list)',
  usage: ['status --config <file> [--config <file>] [-o table|json|yaml] [--watch [<s>]] [--count <n>]', 'status --url <url> [--url <url>] [--token <token>] [options]'],
  description: `Asks the node (GET /ag/api/v1/state and /group), finds the other member in the group's member_details
and asks it too, with the same token and trusted certificates; one config is enough. A second --config or --url
adds a node (a peer with another token, or a certificate not signed by tls_ca_file). One row per node: role,
whether it acts as Primary, epoch, DNS connection state, heartbeat method and the age of the last heartbeat (wall
clocks: for people only), lease left, maintenance, application health. A node that does not answer is a row
saying so, and the reason follows the table.`,
  options: [
    ['--config <file>', "a node's config file, to take its URL and token from (repeatable)"],
    ['--url <url>', 'a node, e.g. http://127.0.0.2:8080 (repeatable)'],
    ['--token <token>', 'the API token for --url (default: AG_API_TOKEN)'],
    OUTPUT_OPTION_HELP,
    ['-w, --watch [<s>]', `redraw every <s> seconds (default ${DEFAULT_WATCH_SECONDS}) until Ctrl-C; with -o json one\nline per report (JSON Lines), with -o yaml one document each`],
    ['--count <n>', 'with --watch: stop after <n> tables'],
    ['--timeout <s>', `how long to wait for each node's answer (default ${STATUS_CALL_TIMEOUT_MS / 1000})`],
  ],
  exitCodes: [
    [0, 'every node answered'],
    [1, 'a node did not answer or answered with an error (its row says so); with --watch, of the last table'],
    [EXIT_USAGE, 'usage error (unknown flag, missing value, nothing to ask)'],
  ],
  examples: ['status --config /etc/availability-group/node.json', 'status --config node-a.json -o yaml', 'status --config node-a.json --watch 1'],
});

/**
 * `--watch` takes an optional value, which parseArgs cannot express: a `--watch` (or `-w`) not followed by a number
 * gets the default.
 */
function withWatchValue(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index]!;
    out.push(arg);
    if ((arg === '--watch' || arg === '-w') && !/^\d+(?:\.\d+)?$/.test(argv[index + 1] ?? '')) out.push(String(DEFAULT_WATCH_SECONDS));
  }
  return out;
}

function positiveNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!(parsed > 0) || !Number.isFinite(parsed)) throw new CliUsageError(`${flag} must be a number above 0 (got ${JSON.stringify(value)})`);
  return parsed;
}

/** The text of one status report in `format`. */
export function statusOutput(status: GroupStatus, format: OutputFormat): string {
  return formatOutput(status, format, () => renderGroupStatus(status));
}

/** `agctl status`. */
export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'both nodes of the group in one table: role, acting, epoch, DNS, heartbeat, lease, maintenance, app health (as patronictl list)',
  run: (argv) =>
    runCli('status', async () => {
      const { values } = parseCli(withWatchValue(argv), {
        config: { type: 'string', multiple: true },
        url: { type: 'string', multiple: true },
        token: { type: 'string' },
        watch: { type: 'string', short: 'w' },
        count: { type: 'string' },
        timeout: { type: 'string' },
        ...OUTPUT_OPTION,
      });
      if (values.help) {
        process.stdout.write(HELP);
        return 0;
      }
      const format = outputFormatOf(values.output);
      const watchS = positiveNumber('--watch', values.watch);
      const count = positiveNumber('--count', values.count);
      if (count !== undefined && (!Number.isInteger(count) || watchS === undefined)) throw new CliUsageError('--count needs --watch and a whole number');
      const timeoutMs = (positiveNumber('--timeout', values.timeout) ?? STATUS_CALL_TIMEOUT_MS / 1000) * 1000;
      const configs = values.config ?? [];
      const urls = values.url ?? [];
      if (configs.length === 0 && urls.length === 0) throw new CliUsageError('give --config <file> or --url <url> (agctl status --help)');
      const clients = [
        ...(await Promise.all(configs.map((config) => ApiClient.fromFlags({ config })))),
        ...(await Promise.all(urls.map((url) => ApiClient.fromFlags({ url, token: values.token })))),
      ];
      const once = async () => {
        const status = await collectGroupStatus(clients, timeoutMs);
        return { status, code: status.nodes.every((node) => node.error === null) ? 0 : 1 };
      };
      if (watchS === undefined) {
        const { status, code } = await once();
        process.stdout.write(statusOutput(status, format));
        return code;
      }
      return watch(once, format, watchS * 1000, count);
    }),
};

/**
 * Redraws until SIGINT or SIGTERM (or `count` tables): on a terminal the screen is cleared and a title line shows
 * the interval and time; otherwise tables follow each other, each after a line with the time. JSON is one line per
 * report (JSON Lines), YAML one document per report (`---`), without titles.
 */
async function watch(once: () => Promise<{ status: GroupStatus; code: number }>, format: OutputFormat, intervalMs: number, count: number | undefined): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let code = 0;
  try {
    for (let drawn = 0; !stop.signal.aborted && (count === undefined || drawn < count); drawn += 1) {
      const frame = await once();
      code = frame.code;
      const title = `Every ${intervalMs / 1000}s: agctl status    ${new Date().toISOString()}\n\n`;
      if (format === 'json') process.stdout.write(`${JSON.stringify(frame.status)}\n`);
      else if (format === 'yaml') process.stdout.write(`---\n${statusOutput(frame.status, format)}`);
      else process.stdout.write(process.stdout.isTTY ? `\x1b[H\x1b[2J${title}${statusOutput(frame.status, format)}` : `${drawn === 0 ? '' : '\n'}${title}${statusOutput(frame.status, format)}`);
      if (count !== undefined && drawn + 1 >= count) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        stop.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  return code;
}
