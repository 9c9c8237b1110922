import type { HistoryEntry } from '../node/historyLog.js';
import { API_CLIENT_OPTION_HELP, ApiClient } from './apiClient.js';
import { CliUsageError, parseCli, runCli } from './cliConfig.js';
import type { CliCommand } from './command.js';
import { helpText } from './helpText.js';
import { mergeHistories } from './mergeHistories.js';
import { formatOutput, OUTPUT_FORMATS, outputFormatOf } from './outputFormat.js';
import { renderTable } from './renderTable.js';

const SUMMARY = "show a node's history, or both nodes' merged (GET /ag/api/v1/history)";

const HELP = helpText({
  command: 'history',
  summary: SUMMARY,
  usage: ['history [--config <file>]... [--url <url>] [--token <token>] [--limit <n>] [-o table|json|yaml]'],
  description: `Prints what happened to the node, oldest first: role changes (with their reason), takeovers (mode
absence, handover or forced; completed or abandoned; how long from the start of the takeover to the role change),
manual failovers asked on the node (asked, then how they ended), lease losses, maintenance switched on or off, and
role-change hooks that failed or timed out. Each entry has its wall time (for display), epoch and node id. The
history is kept in the node's data_dir (history.jsonl, one rotated file) and survives restarts.

Give --config once per node to merge the nodes' histories: entries are ordered by epoch, then by time, and the
NODE column says which node each came from. A node that cannot be reached is named on stderr; the others are
still shown (exit code 1).`,
  options: [
    ...API_CLIENT_OPTION_HELP.map(([flags, text]): readonly [string, string] => (flags.startsWith('--config') ? ['--config <file>', "a node's config file, to take its URL and token from;\ngive it once per node to merge their histories"] : [flags, text])),
    ['--limit <n>', 'show only the newest n entries (of each node, then merged)'],
    ['-o, --output <format>', `${OUTPUT_FORMATS.join(', ')} (default table)`],
  ],
  exitCodes: [
    [0, 'the history of every node asked was shown'],
    [1, 'a node answered with an error or could not be reached (the others are shown)'],
    [2, 'usage error'],
  ],
  examples: ['history --config node-a.json', 'history --config node-a.json --config node-b.json', 'history --config node-a.json --output json --limit 20'],
});

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  config: { type: 'string', multiple: true },
  limit: { type: 'string' },
  output: { type: 'string', short: 'o', default: 'table' },
} as const;

/** `agctl history`. */
export const historyCommand: CliCommand = {
  name: 'history',
  summary: SUMMARY,
  run: (argv) =>
    runCli('history', async () => {
      const { values } = parseCli(argv, OPTIONS);
      if (values.help) {
        process.stdout.write(HELP);
        return 0;
      }
      const format = outputFormatOf(values.output);
      const configs = values.config ?? [];
      if (configs.length > 1 && values.url !== undefined) throw new CliUsageError('--url names one node: with several --config files, leave it out');
      if (values.limit !== undefined && !/^[1-9]\d{0,5}$/.test(values.limit)) throw new CliUsageError(`--limit must be a whole number from 1 to 100000 (got ${JSON.stringify(values.limit)})`);
      const query = values.limit === undefined ? '' : `?limit=${values.limit}`;
      const targets = configs.length === 0 ? [undefined] : configs;
      const clients = await Promise.all(targets.map((config) => ApiClient.fromFlags({ url: values.url, token: values.token, config })));
      const answers = await Promise.all(
        clients.map(async (client) => {
          try {
            const answer = await client.call('GET', `/history${query}`);
            if (answer.status === 200 && isHistoryBody(answer.body)) return answer.body;
            const message = (answer.body as { message?: unknown } | null)?.message;
            return new Error(`${client.baseUrl}: ${answer.status} ${typeof message === 'string' ? message : JSON.stringify(answer.body)}`);
          } catch (error) {
            return new Error((error as Error).message);
          }
        }),
      );
      let failed = false;
      for (const answer of answers) {
        if (answer instanceof Error) {
          failed = true;
          process.stderr.write(`agctl history: ${answer.message}\n`);
        }
      }
      const bodies = answers.filter((answer): answer is HistoryBody => !(answer instanceof Error));
      if (bodies.length === 0) return 1;
      let entries = mergeHistories(bodies.map((body) => body.entries));
      if (values.limit !== undefined) entries = entries.slice(-Number(values.limit));
      const data = { nodes: bodies.map((body) => body.node_id), entries };
      process.stdout.write(formatOutput(data, format, () => historyTable(entries)));
      return failed ? 1 : 0;
    }),
};

/** What `GET /history` answers. */
interface HistoryBody {
  readonly node_id: string;
  readonly entries: HistoryEntry[];
}

function isHistoryBody(body: unknown): body is HistoryBody {
  return typeof body === 'object' && body !== null && typeof (body as HistoryBody).node_id === 'string' && Array.isArray((body as HistoryBody).entries);
}

/**
 * The history as a table for people: TIME (UTC, to the millisecond), NODE, EPOCH, EVENT, DETAILS.
 *
 * @example
 * historyTable([{ time: '2026-11-29T16:19:22.123+00:00', node_id: 'b', epoch: 2, seq: 5, kind: 'role_changed', previous: 'secondary', new: 'primary', reason: 'manual failover' }])
 * // TIME                     NODE  EPOCH  EVENT         DETAILS
 * // 2026-11-29 16:19:22.123  b     2      role_changed  secondary -> primary (manual failover)
 */
export function historyTable(entries: readonly HistoryEntry[]): string {
  if (entries.length === 0) return 'No history yet.\n';
  return renderTable(
    ['TIME', 'NODE', 'EPOCH', 'EVENT', 'DETAILS'],
    entries.map((entry) => [displayTime(entry.time), entry.node_id, entry.epoch, entry.kind, describeEntry(entry)]),
  );
}

function displayTime(time: string): string {
  const parsed = Date.parse(time);
  return Number.isNaN(parsed) ? time : new Date(parsed).toISOString().replace('T', ' ').replace('Z', '');
}

/** One entry's details in words. */
export function describeEntry(entry: HistoryEntry): string {
  const text = (value: unknown) => (value === null || value === undefined ? '-' : String(value));
  switch (entry.kind) {
    case 'role_changed':
      return `${entry.previous === null ? '(start)' : text(entry.previous)} -> ${text(entry.new)} (${text(entry.reason)})`;
    case 'takeover': {
      const took = typeof entry.duration_ms === 'number' ? `, ${entry.duration_ms} ms` : '';
      return entry.outcome === 'abandoned' ? `abandoned (${text(entry.reason)}), mode ${text(entry.mode)}${took}` : `completed, mode ${text(entry.mode)}${took}`;
    }
    case 'failover':
      return entry.phase === 'asked' ? 'asked on this node' : `${text(entry.outcome)}${entry.code === 'completed' ? '' : ` (${text(entry.code)}: ${text(entry.reason)})`}`;
    case 'lease_lost':
      return text(entry.reason);
    case 'maintenance_changed':
      return `${entry.enabled === true ? 'on' : 'off'} (asked on ${text(entry.by)})`;
    case 'hook_failed': {
      const how = entry.result === 'timeout' ? `timed out after ${text(entry.duration_ms)} ms` : entry.error !== null && entry.error !== undefined ? `could not start: ${text(entry.error)}` : entry.signal !== null && entry.signal !== undefined ? `killed by ${text(entry.signal)}` : `exit ${text(entry.exit_code)}`;
      return `on_role_change for ${text(entry.role)}: ${how}`;
    }
    default:
      return JSON.stringify(Object.fromEntries(Object.entries(entry).filter(([key]) => !['time', 'node_id', 'epoch', 'seq', 'kind'].includes(key))));
  }
}
