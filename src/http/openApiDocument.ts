import { API_SETTING_FIELDS, JOIN_FIELDS } from './apiBodies.js';
import { ApiMessage } from './apiRoutes.js';
import { PRODUCT_CONFIGURATION_FIELDS } from './apiShapes.js';
import { stateSchema } from './stateSchema.js';
import { settingsJsonSchema } from './settingsJsonSchema.js';

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => ({ description, content: json(ref('Error')) });
const message = (text: string) => ({ description: text, content: json({ ...ref('Message'), example: { message: text } }) });
const authErrors = { '401': error('No bearer token: `{"code":"Unauthorized","message":"Authentication is required.","status":401}`.'), '403': error('Wrong token: `{"code":"Forbidden","message":"Insufficient access rights.","status":403}`.') };
const bodyErrors = { '400': error('A field is invalid; `message` and `details.fields` name it and the rule.'), '413': error('The body is too large.'), '415': error('The body is not declared `Content-Type: application/json`.') };
const leaveAnswer = (text: string) => ({
  description: `${text} \`peer\`: \`notified\` (the other member took it), \`unreachable\` or \`refused\` (\`reason\` says why; the change is made here anyway), or \`none\` (no other member).`,
  content: json({ ...ref('LeaveAnswer'), example: { message: text, peer: 'notified' } }),
});
// At least one setting, as in the product: `{}` is refused with 400.
const settingsBody = (description: string) => ({ required: true, description: `${description} At least one setting: \`{}\` is refused with 400.`, content: json({ allOf: [ref('Settings')], minProperties: 1 }) });
const health = (summary: string, okWhen: string) => ({
  get: { summary, security: [], responses: { '200': { description: okWhen, content: json(ref('Health')) }, '503': { description: 'Otherwise.', content: json(ref('Health')) } } },
});

// The settings' types, ranges, enums, patterns and defaults are generated from the zod schema that enforces them
// (settingsJsonSchema.ts), for every field the API takes; only what each setting means is written here.
const settingProperties = settingsJsonSchema(API_SETTING_FIELDS, {
  external_ipv4_address: 'Must equal the address the node listens on (set in its config file).',
  external_port: 'Must equal the port the node listens on (set in its config file).',
  group_fqdn: 'The group name whose A record names the Primary.',
  group_fqdn_ttl: 'TTL of the A and TXT records, seconds.',
  health_report_interval: 'Heartbeat interval, seconds; fractions allowed; at most 86400 (1 day).',
  health_check_interval: 'Standby check interval, seconds; fractions allowed; at most 86400 (1 day).',
  allowed_absence_interval: 'Failover period, seconds; fractions allowed; at most 86400 (1 day).',
  lease_duration: "The Primary's lease, seconds (default 0.75 of the failover period); at most 86400 (1 day).",
  tsig_secret: 'Base64. Served back as "". Sending "" keeps the current secret.',
  coordination:
    'The group authority: "dns" (the A and TXT records on dns_server) or "etcd" (keys under etcd_prefix on etcd_endpoints; dns_server and the TSIG key then optional, for a best-effort A record). Cannot change while the group runs.',
  etcd_endpoints: 'The etcd members, [http:// or https://]host:port each (1 to 7); required when coordination is etcd.',
  etcd_prefix: 'The prefix of every etcd key of the groups: starts with "/", no trailing "/". Cannot change while the group runs.',
  dns_server:
    'host:port of the authoritative DNS server: an IPv4 address, an IPv6 address in brackets or a host name, and a port from 1 to 65535. A host name is resolved at each request; while it does not resolve the node runs with DNS disconnected.',
});

/**
 * The OpenAPI 3.1 document of the `/ag/api/v1` API, served at `GET /ag/api/v1/openapi.json` and kept in
 * `docs/openapi.json` (a test checks that the two agree).
 *
 * @example
 * app.get('/openapi.json', async () => openApiDocument);
 */
export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'availability-group node API',
    version: '1',
    description: 'The HTTP API of one availability group node, in the shapes of BlueCat Gateway availability groups, plus health endpoints and metrics.',
  },
  servers: [{ url: '/ag/api/v1' }],
  security: [{ bearer: [] }],
  paths: {
    '/state': { get: { summary: "This node's state (the product's get_node_state()).", responses: { '200': { description: 'The state.', content: json(ref('State')) }, ...authErrors } } },
    '/group': {
      get: {
        summary:
          "In the product's shape: `configuration` (the product's keys; `tsig_secret` is \"\"), `members` (`primary`, `secondary`: IPv4 addresses, null when absent) and `state`; and this project's `configuration_extensions` and `member_details`.",
        responses: { '200': { description: 'The group.', content: json(ref('Group')) }, ...authErrors },
      },
      post: {
        summary:
          'Create a group with this node as Primary (writes the A and TXT records), with the settings in the body. Fails if already a member. Atomic: when the group cannot be created, the settings in the body are not applied.',
        requestBody: settingsBody('Group settings; `group_fqdn` is required unless configured.'),
        responses: {
          '201': message(ApiMessage.GroupCreated),
          ...bodyErrors,
          ...authErrors,
          '409': error('Already in a group.'),
          '503': error('The records could not be written; the settings in the body were not applied.'),
        },
      },
      put: {
        summary:
          "Update group settings, on either member: the Secondary forwards the group settings to its Primary over the signed peer channel and answers with the Primary's result (`forwarded_to` names the Primary), applying its own node settings (`dns_server`) once the Primary accepted. Fails if not a member. The Primary pushes the group settings to the Secondary; a Secondary that cannot take them now gets them with the next heartbeat it acknowledges. A new `group_fqdn` or `external_scheme`, or a timer change too large to be safe while one node still runs the old timers, is refused with 400.",
        requestBody: settingsBody('The settings to change.'),
        responses: {
          '200': {
            description: `${ApiMessage.ConfigurationUpdated} \`secondary\`: \`updated\` (the Secondary runs them now), \`pending\` (it gets them later; \`reason\` says why not now) or \`none\` (no group setting changed, or no Secondary).`,
            content: json({ ...ref('SettingsUpdated'), example: { message: ApiMessage.ConfigurationUpdated, secondary: 'updated' } }),
          },
          ...bodyErrors,
          ...authErrors,
          '409': error('Not in a group, or a Primary that does not act now (its lease is not valid).'),
          '503': error('On the Secondary: the Primary could not be reached or could not change the settings now; nothing was changed.'),
        },
      },
      delete: {
        summary:
          "This project's extension: leave the group. A Secondary asks the Primary (over the signed peer channel) to drop it; a Primary removes the group's records (the group is dissolved) and tells the Secondary, which leaves too. The node leaves even when the other member cannot be reached; `peer` says whether it was told.",
        responses: { '200': leaveAnswer(ApiMessage.Left), ...authErrors, '409': error('Not in a group.') },
      },
    },
    '/group/members': {
      put: {
        summary:
          "Join an existing group as Secondary. The Primary is found through the A record of `group_fqdn` (read from `dns_server`) and is reached on this node's own port and the given scheme; every other setting comes from it. A group has two members: a node with another id than the Secondary's is refused with 409 naming both members (the same id may join again and replaces its address). Nothing changes when the join is refused.",
        requestBody: { required: true, content: json({ type: 'object', properties: Object.fromEntries(JOIN_FIELDS.map((field) => [field, settingProperties[field]])) }) },
        responses: {
          '200': message(ApiMessage.Joined),
          ...bodyErrors,
          ...authErrors,
          '409': error('Already in a group, or the group is full: `message` and `details.members` (`primary`, `secondary`) name its members.'),
          '503': error('The Primary could not be found or refused.'),
        },
      },
    },
    '/group/members/{node_id}': {
      delete: {
        summary:
          "This project's extension, on the acting Primary: remove the Secondary `node_id` (a dead one, so that a replacement can join). The Secondary is told to leave if it can be reached; `peer` says whether it was.",
        parameters: [{ name: 'node_id', in: 'path', required: true, schema: { type: 'string' }, description: 'The Secondary to remove.' }],
        responses: {
          '200': leaveAnswer(ApiMessage.MemberRemoved),
          ...authErrors,
          '404': error('The group has no member with this id.'),
          '409': error('Not in a group, not the acting Primary, or the node id is this node\'s own (leave the group instead).'),
        },
      },
    },
    '/configuration': {
      put: {
        summary: 'Preconfigure settings while not in a group.',
        requestBody: settingsBody('The settings to change.'),
        responses: { '200': message(ApiMessage.ConfigurationUpdated), ...bodyErrors, ...authErrors, '409': error('In a group: use PUT /group on the Primary.') },
      },
    },
    '/failover': {
      put: {
        summary:
          "Manual failover: on the Primary it hands over to the Secondary (with several, the first in the takeover order: priority, then node id); on the Secondary it takes over. This project's optional body `{\"to\": \"<node id>\"}` names the new Primary: asked on the Primary it hands over to that member, asked on that member it takes over; elsewhere 409 naming the Primary, 404 for no such member.",
        requestBody: {
          required: false,
          content: json({ type: 'object', additionalProperties: false, properties: { to: { type: 'string', description: "The node id of the member that becomes Primary." } } }),
        },
        responses: { '200': message(ApiMessage.FailoverCompleted), ...authErrors, '409': error('Refused, the group as it was (details.outcome "refused", details.reason: in_progress, not_ready, peer_refused, stale, lost_race, records_missing, application_unhealthy), or not in a group, or no Secondary.'), '503': error('Something did not answer (details.outcome "failed": nothing written, the group as it was; "unconfirmed": a DNS update went unanswered, the records decide).') },
      },
    },
    '/maintenance': {
      put: {
        summary:
          "This project's extension: maintenance mode. `enabled: true` pauses the group's automatic takeover (no takeover for the Primary's absence; heartbeats, state and manual failover work as always), `false` resumes it. On either member: applied here at once and persisted, carried to the other member by the next heartbeat or acknowledgement (a newer version wins). A resumed Secondary runs its standby check at once. `agctl pause` / `agctl resume`.",
        requestBody: {
          required: true,
          content: json({ type: 'object', required: ['enabled'], additionalProperties: false, properties: { enabled: { type: 'boolean' } } }),
        },
        responses: {
          '200': {
            description: 'The flag as this node holds it now.',
            content: json({
              type: 'object',
              required: ['message', 'enabled', 'by', 'version'],
              properties: { message: { type: 'string' }, enabled: { type: 'boolean' }, by: { type: ['string', 'null'], description: 'The node on which the change was asked.' }, version: { type: 'integer', description: 'Rises by one with every change in the group.' } },
            }),
          },
          ...bodyErrors,
          ...authErrors,
          '409': error('Not in a group.'),
        },
      },
    },
    '/history': {
      get: {
        summary:
          "This project's extension: the node's history, oldest first: role changes, takeovers (mode, outcome, duration), manual failovers asked on this node (asked, then how they ended), lease losses, maintenance toggles and failed role-change hooks. Kept in `data_dir/history.jsonl` (bounded, one rotated file) and loaded at start. `agctl history` merges two nodes' histories.",
        parameters: [{ name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100000 }, description: 'Only the newest `limit` entries.' }],
        responses: {
          '200': { description: 'The history.', content: json(ref('History')) },
          '400': error('`limit` is not a whole number from 1 to 100000.'),
          ...authErrors,
        },
      },
    },
    '/health': health('Liveness, without a token.', 'The node runs.'),
    '/health/primary': health('For load balancers, without a token.', 'The node acts as Primary (lease checked now).'),
    '/health/secondary': health('For load balancers, without a token.', 'The node is a Secondary ready to take over: its application health check, if configured, says healthy.'),
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The node\'s `api_token`.' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['code', 'message', 'details', 'status'],
        properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' }, status: { type: 'integer' } },
      },
      Message: { type: 'object', required: ['message'], properties: { message: { type: 'string' } } },
      SettingsUpdated: {
        type: 'object',
        required: ['message', 'secondary'],
        properties: {
          message: { type: 'string' },
          secondary: { enum: ['updated', 'pending', 'none'] },
          reason: { type: 'string' },
          forwarded_to: { type: ['string', 'null'], description: "Asked on the Secondary: the node id of the Primary that made the change (null when only this node's own settings changed)." },
        },
      },
      LeaveAnswer: {
        type: 'object',
        required: ['message', 'peer'],
        properties: { message: { type: 'string' }, peer: { enum: ['notified', 'unreachable', 'refused', 'none'] }, reason: { type: 'string' } },
      },
      Settings: { type: 'object', additionalProperties: false, properties: settingProperties },
      State: stateSchema,
      Member: {
        type: ['object', 'null'],
        description: "A group member as a 409 `group_full` answer names it in `details.members`.",
        properties: { node_id: { type: 'string' }, external_ipv4_address: { type: 'string' }, external_port: { type: 'integer' }, external_scheme: { type: 'string' } },
      },
      MemberDetails: {
        type: ['object', 'null'],
        description: "This project's: a member's node id and where it listens; null when absent.",
        required: ['node_id', 'address', 'port', 'scheme'],
        properties: { node_id: { type: 'string' }, address: { type: 'string', format: 'ipv4' }, port: { type: 'integer' }, scheme: { type: 'string', enum: ['http', 'https'] } },
      },
      Group: {
        type: 'object',
        properties: {
          configuration: {
            type: 'object',
            additionalProperties: false,
            description: "The product's group configuration keys, in force; tsig_secret is \"\"; a setting not configured is absent. Node settings, paths and secrets are never served.",
            properties: Object.fromEntries(PRODUCT_CONFIGURATION_FIELDS.map((field) => [field, settingProperties[field]])),
          },
          configuration_extensions: {
            type: 'object',
            description: "This project's settings clients need.",
            properties: {
              lease_duration: { type: 'number', description: "The Primary's lease in force, seconds: the setting, or 0.75 of allowed_absence_interval." },
              dns_server: { type: ['string', 'null'], description: "host:port of this node's DNS server; null when none." },
              coordination: { type: 'string', enum: ['dns', 'etcd'], description: 'The authority the group runs on: the DNS records, or etcd keys.' },
              etcd_endpoints: { type: ['array', 'null'], items: { type: 'string' }, description: 'The etcd members ([http(s)://]host:port); null when none.' },
              etcd_prefix: { type: 'string', description: 'The prefix of the etcd keys of the groups.' },
            },
          },
          members: {
            type: 'object',
            description: "The product's shape: each member's IPv4 address, null when absent.",
            properties: { primary: { type: ['string', 'null'], format: 'ipv4' }, secondary: { type: ['string', 'null'], format: 'ipv4' } },
          },
          member_details: { type: 'object', description: "This project's: each member's details.", properties: { primary: ref('MemberDetails'), secondary: ref('MemberDetails') } },
          all_members: {
            type: 'array',
            description:
              "This project's: every member of the group as this node knows it, the Primary first, then the Secondaries in the takeover order (priority high to low, then node id); empty outside a group.",
            items: {
              type: 'object',
              required: ['node_id', 'address', 'port', 'scheme', 'priority', 'role'],
              properties: {
                node_id: { type: 'string' },
                address: { type: 'string', format: 'ipv4' },
                port: { type: 'integer' },
                scheme: { type: 'string', enum: ['http', 'https'] },
                priority: { type: 'integer', minimum: 0, maximum: 1000 },
                role: { type: 'string', enum: ['primary', 'secondary'] },
              },
            },
          },
          state: ref('State'),
        },
      },
      History: {
        type: 'object',
        required: ['node_id', 'entries'],
        properties: { node_id: { type: 'string' }, entries: { type: 'array', items: ref('HistoryEntry') } },
      },
      HistoryEntry: {
        type: 'object',
        required: ['time', 'node_id', 'epoch', 'seq', 'kind'],
        description:
          'One event. `role_changed`: previous (null at a start), new, reason. `takeover`: mode (absence, handover, forced), outcome (completed, abandoned), reason and target_epoch when abandoned, duration_ms. `failover`: phase (asked, ended), then outcome, code, reason. `lease_lost`: reason. `maintenance_changed`: enabled, by. `hook_failed`: result (failure, timeout), role, previous, exit_code, signal, error, duration_ms, stderr (its start).',
        properties: {
          time: { type: 'string', description: 'Wall-clock time of the event, ISO-8601 UTC, for display only.' },
          node_id: { type: 'string' },
          epoch: { type: 'integer', minimum: 0 },
          seq: { type: 'integer', minimum: 0, description: "The entry's number in this node's history, rising across restarts." },
          kind: { type: 'string', enum: ['role_changed', 'takeover', 'failover', 'lease_lost', 'maintenance_changed', 'hook_failed'] },
        },
        additionalProperties: true,
      },
      Health: {
        type: 'object',
        properties: {
          status: { type: 'string', enum: ['ok', 'unavailable'] },
          node_role: { type: 'string' },
          acting_primary: { type: 'boolean' },
          application_health: { type: ['string', 'null'], enum: ['healthy', 'unhealthy', 'unknown', null], description: 'The application health check verdict; null when none is configured.' },
        },
      },
    },
  },
} as const;
