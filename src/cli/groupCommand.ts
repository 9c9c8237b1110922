import { groupCreatedLine, groupJoinedLine, groupLeftLine, groupUpdatedLine, memberRemovedLine, printActionAnswer } from './actionAnswer.js';
import { apiClientHelp, API_CLIENT_OPTIONS, ApiClient, printAnswer, printObjectAnswer, type ApiAnswer } from './apiClient.js';
import { CliUsageError, parseCli, readConfigFile, runCli } from './cliConfig.js';
import type { CliCommand } from './command.js';
import { suggestion } from './didYouMean.js';
import { OUTPUT_OPTION, outputFormatOf } from './outputFormat.js';

const HELP = `agctl group: show, create, update, join or leave an availability group, or remove a member

Usage: agctl group show   [client options]
       agctl group create [--settings <file.json>] [client options]
       agctl group update --settings <file.json> [client options]
       agctl group join   [--group-fqdn <fqdn>] [client options]
       agctl group leave  [client options]
       agctl group remove-member <node_id> [client options]

  show     GET /ag/api/v1/group: configuration (the product's keys, tsig_secret shown as ""), members
           (addresses), state, and this project's configuration_extensions and member_details
  create   POST /ag/api/v1/group: this node becomes the Primary of a new group with the group settings in
           --settings (a JSON object: group_fqdn, tsig_name, tsig_secret, intervals...), else the configured
           ones (the API needs at least one setting, so agctl then sends the node's own
           external_ipv4_address and external_port, read with GET /group); if the group cannot be created,
           the settings sent are not applied
  update   PUT /ag/api/v1/group, on either member (the Secondary forwards it to the Primary; 503 when the
           Primary cannot be reached): changes the group settings in --settings and pushes them
           to the Secondary; the answer says whether it runs them now ("secondary": "updated") or gets them
           with its next acknowledged heartbeat ("pending"). Refused, naming the field: a new group_fqdn or
           external_scheme, and a timer change too large to be safe while one node still runs the old timers
           (change the timers in smaller steps)
  join     PUT /ag/api/v1/group/members: this node finds the Primary through the group's A record on its
           dns_server and joins as Secondary; the group's settings come from the Primary. A group has two
           members: a node with another id than the Secondary's is refused (409, naming both members)
  leave    DELETE /ag/api/v1/group (this project's): this node leaves. A Secondary asks the Primary to drop
           it; a Primary removes the group's records (the group is dissolved) and the Secondary leaves too.
           It leaves even if the other member cannot be reached: "peer" says "notified", "unreachable",
           "refused" or "none"
  remove-member <node_id>
           DELETE /ag/api/v1/group/members/<node_id> (this project's), on the acting Primary: drops the
           Secondary (a dead one, so that a replacement can join) and tells it to leave if it is reachable

Options:
  --settings <file>    create, update: the group settings to send
  --group-fqdn <fqdn>  join: the group to join (default: the node's group_fqdn)
  -o, --output <f>     table (default: show prints one key per line, the other actions one line for
                       people), json or yaml (the API's answer, unchanged)
${apiClientHelp(23)}
  -h, --help           show this help

The actions print one line, e.g. "group created: app.example.test, a is Primary", "b joined app.example.test
as Secondary; a is Primary", "group settings updated; the Secondary runs them now", "left the group; the other
member was told", "b removed from the group; it could not be reached (...)"; -o json prints the API's answer.

Exit codes:
  0  the node answered 2xx
  1  the node answered with an error (the message is printed) or could not be reached
  2  usage error

Examples:
  agctl group show --config /etc/availability-group/node.json
  agctl group create --config node-a.json --settings group.json
  agctl group join --config node-b.json
  agctl group update --config node-b.json --settings changes.json -o json
  agctl group remove-member b --config node-a.json
`;

/** The actions of `agctl group`, and how many arguments each takes after its name. */
const ACTIONS = { show: 0, create: 0, update: 0, join: 0, leave: 0, 'remove-member': 1 } as const;
type GroupAction = keyof typeof ACTIONS;

function isAction(value: string | undefined): value is GroupAction {
  return value !== undefined && Object.hasOwn(ACTIONS, value);
}

/**
 * The body of `group create` without `--settings`: the settings in force. The API refuses `{}` (at least one
 * setting, as in the product), so it names the node's own address and port, which change nothing. Resolves with
 * the failed answer of `GET /group` when the node cannot tell them.
 */
async function settingsInForce(client: ApiClient): Promise<{ body: Record<string, unknown> } | { failed: ApiAnswer }> {
  const answer = await client.call('GET', '/group');
  const configuration = (answer.body as { configuration?: Record<string, unknown> } | null)?.configuration;
  if (answer.status !== 200 || configuration === undefined) return { failed: answer };
  return { body: { external_ipv4_address: configuration.external_ipv4_address, external_port: configuration.external_port } };
}

/** `GET /group` after a create or a join, for the human line; null when it cannot be read (the line falls back). */
async function groupAfter(client: ApiClient): Promise<unknown> {
  try {
    const answer = await client.call('GET', '/group');
    return answer.status === 200 ? answer.body : null;
  } catch {
    return null;
  }
}

/** `agctl group show|create|update|join|leave|remove-member`. */
export const groupCommand: CliCommand = {
  name: 'group',
  summary: 'show, create, update, join or leave a group, or remove a member (GET/POST/PUT/DELETE /group, PUT/DELETE /group/members)',
  run: (argv) =>
    runCli('group', async () => {
      const { values, positionals } = parseCli(argv, { ...API_CLIENT_OPTIONS, ...OUTPUT_OPTION, settings: { type: 'string' }, 'group-fqdn': { type: 'string' } }, true);
      if (values.help) {
        process.stdout.write(HELP);
        return 0;
      }
      const [action, ...args] = positionals;
      if (!isAction(action)) throw new CliUsageError(`give an action: show, create, update, join, leave or remove-member (agctl group --help)${suggestion(action, Object.keys(ACTIONS))}`);
      if (action === 'remove-member' && args.length === 0) throw new CliUsageError('group remove-member needs the node_id of the member to remove');
      if (args.length > ACTIONS[action]) throw new CliUsageError(`unexpected argument ${args[ACTIONS[action]]}`);
      if (action === 'update' && values.settings === undefined) throw new CliUsageError('group update needs --settings <file.json> with the settings to change');
      const format = outputFormatOf(values.output);
      const client = await ApiClient.fromFlags(values);
      if (action === 'show') return printObjectAnswer('group show', await client.call('GET', '/group'), format);
      if (action === 'leave') {
        const answer = await client.call('DELETE', '/group');
        return printActionAnswer('group leave', answer, format, () => groupLeftLine(answer.body));
      }
      if (action === 'remove-member') {
        const answer = await client.call('DELETE', `/group/members/${encodeURIComponent(args[0]!)}`);
        return printActionAnswer('group remove-member', answer, format, () => memberRemovedLine(args[0]!, answer.body));
      }
      if (action === 'create' || action === 'update') {
        const inForce = values.settings === undefined ? await settingsInForce(client) : { body: await readConfigFile(values.settings) };
        if ('failed' in inForce) return printAnswer('group create', inForce.failed);
        const { body } = inForce;
        const answer = await client.call(action === 'create' ? 'POST' : 'PUT', '/group', body);
        if (action === 'update') return printActionAnswer('group update', answer, format, () => groupUpdatedLine(answer.body));
        return printActionAnswer('group create', answer, format, async () => groupCreatedLine(answer.body, await groupAfter(client)));
      }
      const body = values['group-fqdn'] === undefined ? {} : { group_fqdn: values['group-fqdn'] };
      const answer = await client.call('PUT', '/group/members', body);
      return printActionAnswer('group join', answer, format, async () => groupJoinedLine(answer.body, await groupAfter(client)));
    }),
};
