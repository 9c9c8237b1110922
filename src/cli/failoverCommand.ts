import { API_CLIENT_OPTION_HELP, API_CLIENT_OPTIONS, ApiCallError, ApiClient, type ApiAnswer } from './apiClient.js';
import { CliUsageError, parseCli, runCli } from './cliConfig.js';
import type { CliCommand } from './command.js';
import { EXIT_USAGE } from './command.js';
import { describeNode, FailoverProgress, viewOf, type FailoverNodeView } from './failoverProgress.js';
import { failoverTimeoutMs } from './failoverTimeout.js';
import { answerMessage, membersOf } from './groupStatus.js';
import { helpText } from './helpText.js';
import { isValidNodeId } from '../dns/heartbeatRecord.js';

/** Exit codes of `agctl failover`. */
export const FailoverExit = {
  /** The new Primary acts (with --no-wait: the node took the request and the failover is under way). */
  COMPLETED: 0,
  /** The node answered that the failover did not complete: refused (409) or failed (503); the message says why. */
  NOT_COMPLETED: 1,
  USAGE: EXIT_USAGE,
  /** The node could not be reached: nothing was asked. */
  UNREACHABLE: 3,
  /** No answer within --timeout, or the connection broke while the failover ran: its outcome is unknown. */
  UNKNOWN: 4,
} as const;

/** How long the first look at the group (and the last at the new Primary) may take. */
const LOOK_TIMEOUT_MS = 5000;

/** How long one state poll may take while the failover runs: a node that does not answer must not stall the others. */
const POLL_TIMEOUT_MS = 2000;

/** The pause between two polls of both nodes' states. */
const POLL_INTERVAL_MS = 50;

const HELP = helpText({
  command: 'failover',
  summary: 'manual failover, waiting until the new Primary acts (PUT /ag/api/v1/failover)',
  usage: ['failover [--config <file> | --url <url> --token <token>] [--to <node id>] [--timeout <s>] [--no-wait]'],
  description: `On the Primary, it hands over: it first checks that the Secondary could take over now (it reads DNS), then
stops acting and the Secondary takes over without waiting for the failover period. On the Secondary, it takes
over: it checks DNS, asks the Primary to hand over, or forces the takeover if the Primary cannot be asked (acting
once the old lease has certainly ended). A failover that cannot complete leaves the group as it was and says why.

In a group of more than two members, the Primary hands over to the first Secondary in the takeover order (priority
high to low, then node id); --to <node id> names the member that becomes Primary instead: ask the Primary (it
hands over to that member) or that member itself (it takes over). Asked on another Secondary it is refused (409,
naming the Primary); a node id that is no member is refused too (404).

While the request runs, both nodes' states are polled (the other member is found in GET /group's member_details)
and each step seen is printed once: "handover offered", "peer accepted", "DNS updated", "b is acting Primary
(epoch 7)". A poll may miss a short step. The default --timeout follows the group settings: failover period +
standby check interval + 8 DNS request budgets + 2 peer timeouts + 5 s (about 137 s with the defaults).`,
  options: [
    ...API_CLIENT_OPTION_HELP,
    ['--to <node id>', 'the member that becomes Primary (default: the first Secondary in the takeover order)'],
    ['--timeout <s>', 'how long to wait for the failover (default: from the group settings, see above)'],
    ['--no-wait', 'return once the node has taken the request and the failover is under way'],
  ],
  exitCodes: [
    [FailoverExit.COMPLETED, 'the new Primary acts (--no-wait: the failover is under way)'],
    [FailoverExit.NOT_COMPLETED, 'the node answered that the failover did not complete (refused or failed): the group is as it was,\nor, when "unconfirmed", the DNS records decide; the message says which node acts'],
    [FailoverExit.USAGE, 'usage error'],
    [FailoverExit.UNREACHABLE, 'the node could not be reached: nothing was asked'],
    [FailoverExit.UNKNOWN, 'no answer within --timeout, or the connection broke: the outcome is unknown (see agctl status)'],
  ],
  examples: ['failover --config /etc/availability-group/node.json', 'failover --url http://127.0.0.2:8080 --token "$TOKEN" --timeout 300', 'failover --config node-b.json --no-wait', 'failover --config node-a.json --to c'],
});

/** Milliseconds as seconds for people: `17.5 s`, `0.05 s`, `137 s`. */
function secondsText(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** A line of progress, with the seconds since the failover was asked. */
function say(startedAt: number, line: string): void {
  process.stdout.write(`[+${((performance.now() - startedAt) / 1000).toFixed(2)}s] ${line}\n`);
}

async function stateOf(client: ApiClient | null, timeoutMs = POLL_TIMEOUT_MS): Promise<FailoverNodeView | null> {
  if (client === null) return null;
  try {
    const answer = await client.call('GET', '/state', undefined, timeoutMs);
    return answer.status === 200 ? viewOf(answer.body) : null;
  } catch {
    return null;
  }
}

/** `agctl failover`. */
export const failoverCommand: CliCommand = {
  name: 'failover',
  summary: 'manual failover on a node, waiting until the new Primary acts (PUT /ag/api/v1/failover)',
  run: (argv) =>
    runCli('failover', async () => {
      const { values } = parseCli(argv, { ...API_CLIENT_OPTIONS, to: { type: 'string' }, timeout: { type: 'string' }, 'no-wait': { type: 'boolean', default: false } });
      if (values.help) {
        process.stdout.write(HELP);
        return 0;
      }
      const timeoutS = values.timeout === undefined ? undefined : Number(values.timeout);
      if (timeoutS !== undefined && !(timeoutS > 0 && Number.isFinite(timeoutS))) throw new CliUsageError(`--timeout must be a number of seconds above 0 (got ${JSON.stringify(values.timeout)})`);
      const client = await ApiClient.fromFlags(values);
      const to = values.to;
      if (to !== undefined && !isValidNodeId(to)) throw new CliUsageError(`--to must be a member's node id: 1 to 63 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit (got ${JSON.stringify(to)})`);
      return runFailover(client, { timeoutMs: timeoutS === undefined ? undefined : timeoutS * 1000, noWait: values['no-wait'], to });
    }),
};

async function runFailover(client: ApiClient, options: { timeoutMs: number | undefined; noWait: boolean; to: string | undefined }): Promise<number> {
  let group: ApiAnswer;
  try {
    group = await client.call('GET', '/group', undefined, LOOK_TIMEOUT_MS);
  } catch (error) {
    process.stderr.write(`agctl failover: ${(error as Error).message}; nothing was asked\n`);
    return FailoverExit.UNREACHABLE;
  }
  if (group.status !== 200) {
    process.stderr.write(`agctl failover: ${client.baseUrl} answered GET /group with ${answerMessage(group)}\n`);
    return FailoverExit.NOT_COMPLETED;
  }
  // The timers are in `configuration` (the product's keys), dns_server in this project's `configuration_extensions`.
  const body = group.body as { configuration?: Record<string, unknown>; configuration_extensions?: Record<string, unknown> };
  const timeoutMs = options.timeoutMs ?? failoverTimeoutMs({ ...body.configuration, ...body.configuration_extensions });
  const asked = await stateOf(client, LOOK_TIMEOUT_MS);
  // The other node to watch: the member named by --to, else the first other member listed (on the Primary the
  // first Secondary in the takeover order, on a Secondary the Primary).
  const others = membersOf(group.body).filter((member) => member.nodeId !== asked?.node_id);
  const peerMember = (options.to === undefined || options.to === asked?.node_id ? undefined : others.find((member) => member.nodeId === options.to)) ?? others[0];
  const peer = peerMember === undefined ? null : client.at(peerMember.url);
  const peerBefore = await stateOf(peer, LOOK_TIMEOUT_MS);
  const ids = [asked?.node_id, peerMember?.nodeId].filter((id): id is string => id !== undefined);
  const progress = new FailoverProgress(ids, Math.max(asked?.epoch ?? 0, peerBefore?.epoch ?? 0));
  const startedAt = performance.now();
  const who = asked === null ? client.baseUrl : describeNode(asked);
  const what = asked?.acting_primary === true ? `hands over to ${peerMember?.nodeId ?? 'its Secondary'}` : `takes over from ${peerMember?.nodeId ?? 'the Primary'}`;
  say(startedAt, `failover asked on ${who}: it ${what}; waiting up to ${secondsText(timeoutMs)}${options.noWait ? ' for it to begin' : ''}`);

  const abort = new AbortController();
  let settled: { answer: ApiAnswer } | { error: unknown } | null = null;
  const request = client.call('PUT', '/failover', options.to === undefined ? undefined : { to: options.to }, timeoutMs, abort.signal).then(
    (answer) => (settled = { answer }),
    (error: unknown) => (settled = { error }),
  );
  // GET /state is the API's cheapest route; the polls run one after the other, so a slow node slows them down.
  const pollMs = POLL_INTERVAL_MS;
  const poll = async () => {
    for (const view of await Promise.all([stateOf(client), stateOf(peer)])) {
      if (view !== null) for (const line of progress.observe(view)) say(startedAt, line);
    }
  };
  while (settled === null) {
    await poll();
    if (options.noWait && progress.started && settled === null) {
      abort.abort();
      await request;
      const newPrimary = asked === null ? undefined : asked.acting_primary ? peerMember?.nodeId : asked.node_id;
      say(startedAt, `the failover is under way; "agctl status" shows when ${newPrimary ?? 'the new Primary'} acts`);
      return FailoverExit.COMPLETED;
    }
    await Promise.race([request, new Promise((resolve) => setTimeout(resolve, pollMs))]);
  }
  const outcome = settled as { answer: ApiAnswer } | { error: unknown };
  if ('error' in outcome) {
    const error = outcome.error;
    const timedOut = error instanceof ApiCallError && error.kind === 'timeout';
    process.stderr.write(
      timedOut
        ? `agctl failover: ${client.baseUrl} took the request but did not answer within ${secondsText(timeoutMs)} (--timeout): the failover may still complete; "agctl status" shows the group\n`
        : `agctl failover: the connection to ${client.baseUrl} broke while the failover ran (${(error as Error).message}): its outcome is unknown; "agctl status" shows the group\n`,
    );
    return FailoverExit.UNKNOWN;
  }
  const { answer } = outcome;
  if (answer.status !== 200) {
    const body = answer.body as { message?: unknown; details?: { outcome?: unknown; reason?: unknown } } | null;
    const kind = [body?.details?.outcome, body?.details?.reason].filter((part) => typeof part === 'string').join(': ');
    process.stderr.write(`agctl failover: the failover did not complete${kind === '' ? '' : ` (${kind})`}: ${answerMessage(answer)}\n`);
    await poll();
    const now = await Promise.all([stateOf(client), stateOf(peer)]);
    const acting = now.filter((view): view is FailoverNodeView => view !== null && view.acting_primary);
    say(startedAt, acting.length === 0 ? 'now: no node acts as Primary' : `now: ${acting.map((view) => describeNode(view)).join(', ')}`);
    return FailoverExit.NOT_COMPLETED;
  }
  if (options.noWait) {
    await poll();
    say(startedAt, 'the failover completed');
    return FailoverExit.COMPLETED;
  }
  // Completed: the new Primary acts (rule 6). One more look shows it.
  const deadline = performance.now() + LOOK_TIMEOUT_MS;
  while (progress.newPrimary === null && performance.now() < deadline) {
    await poll();
    if (progress.newPrimary === null) await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  if (progress.newPrimary === null) say(startedAt, 'the failover completed (the new Primary did not answer a state request since)');
  return FailoverExit.COMPLETED;
}
