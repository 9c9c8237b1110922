import { API_CLIENT_HELP, API_CLIENT_OPTIONS, ApiClient, printAnswer } from './apiClient.js';
import { CliUsageError, parseCli, readConfigFile, runCli } from './cliConfig.js';
import type { CliCommand } from './command.js';

const HELP = `agctl group: show, create, update or join an availability group

Usage: agctl group show   [client options]
       agctl group create [--settings <file.json>] [client options]
       agctl group update --settings <file.json> [client options]
       agctl group join   [--group-fqdn <fqdn>] [client options]

  show     GET /ag/api/v1/group: configuration (tsig_secret shown as ""), members and state
  create   POST /ag/api/v1/group: this node becomes the Primary of a new group; --settings sends group settings
           (a JSON object: group_fqdn, tsig_name, tsig_secret, intervals...) first, else the configured ones apply
  update   PUT /ag/api/v1/group, on the acting Primary: changes the group settings in --settings and pushes them
           to the Secondary; the answer says whether it runs them now ("secondary": "updated") or gets them
           with its next acknowledged heartbeat ("pending"). Refused, naming the field: a new group_fqdn or
           external_scheme, and a timer change too large to be safe while one node still runs the old timers
           (change the timers in smaller steps)
  join     PUT /ag/api/v1/group/members: this node finds the Primary through the group's A record on its
           dns_server and joins as Secondary; the group's settings come from the Primary

Options:
  --settings <file>    create, update: the group settings to send
  --group-fqdn <fqdn>  join: the group to join (default: the node's group_fqdn)
${API_CLIENT_HELP}
  -h, --help           show this help
`;

/** `agctl group show|create|update|join`. */
export const groupCommand: CliCommand = {
  name: 'group',
  summary: 'show, create, update or join a group (GET/POST/PUT /group, PUT /group/members)',
  run: (argv) =>
    runCli('group', async () => {
      const { values, positionals } = parseCli(argv, { ...API_CLIENT_OPTIONS, settings: { type: 'string' }, 'group-fqdn': { type: 'string' } }, true);
      if (values.help) {
        process.stdout.write(HELP);
        return 0;
      }
      const [action, ...extra] = positionals;
      if (extra.length > 0) throw new CliUsageError(`unexpected argument ${extra[0]}`);
      if (action !== 'show' && action !== 'create' && action !== 'update' && action !== 'join') throw new CliUsageError('give an action: show, create, update or join (agctl group --help)');
      if (action === 'update' && values.settings === undefined) throw new CliUsageError('group update needs --settings <file.json> with the settings to change');
      const client = await ApiClient.fromFlags(values);
      if (action === 'show') return printAnswer('group show', await client.call('GET', '/group'));
      if (action === 'create' || action === 'update') {
        const body = values.settings === undefined ? {} : await readConfigFile(values.settings);
        return printAnswer(`group ${action}`, await client.call(action === 'create' ? 'POST' : 'PUT', '/group', body));
      }
      const body = values['group-fqdn'] === undefined ? {} : { group_fqdn: values['group-fqdn'] };
      return printAnswer('group join', await client.call('PUT', '/group/members', body));
    }),
};
