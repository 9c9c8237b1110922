import { API_SETTING_FIELDS, JOIN_FIELDS } from './apiBodies.js';
import { ApiMessage } from './apiRoutes.js';
import { stateSchema } from './stateSchema.js';
import { MAX_TIMER_SECONDS } from '../node/settings.js';

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
const settingsBody = (description: string) => ({ required: true, description, content: json(ref('Settings')) });
const health = (summary: string, okWhen: string) => ({
  get: { summary, security: [], responses: { '200': { description: okWhen, content: json(ref('Health')) }, '503': { description: 'Otherwise.', content: json(ref('Health')) } } },
});

const seconds = { type: 'number', exclusiveMinimum: 0, maximum: MAX_TIMER_SECONDS, description: 'Seconds; fractions allowed.' };
const settingProperties: Record<(typeof API_SETTING_FIELDS)[number], object> = {
  external_ipv4_address: { type: 'string', format: 'ipv4', description: 'Must equal the address the node listens on (set in its config file).' },
  external_port: { type: 'integer', minimum: 1, maximum: 65535, description: 'Must equal the port the node listens on (set in its config file).' },
  external_scheme: { type: 'string', enum: ['http', 'https'] },
  group_fqdn: { type: 'string', description: 'The group name whose A record names the Primary.' },
  group_fqdn_ttl: { type: 'integer', minimum: 0, maximum: 2147483647, default: 30, description: 'TTL of the A and TXT records, seconds.' },
  health_report_interval: { ...seconds, default: 20, description: 'Heartbeat interval, seconds; at most 86400 (1 day).' },
  health_check_interval: { ...seconds, default: 30, description: 'Standby check interval, seconds; at most 86400 (1 day).' },
  allowed_absence_interval: { ...seconds, default: 60, description: 'Failover period, seconds; at most 86400 (1 day).' },
  lease_duration: { ...seconds, description: "The Primary's lease, seconds (default 0.75 of the failover period); at most 86400 (1 day)." },
  tsig_algorithm: { type: 'string', enum: ['hmac-sha256', 'hmac-sha512', 'hmac-sha384', 'hmac-sha224', 'hmac-sha1'] },
  tsig_name: { type: 'string' },
  tsig_secret: { type: 'string', format: 'byte', description: 'Base64. Served back as "". Sending "" keeps the current secret.' },
  dns_server: {
    type: 'string',
    description:
      'host:port of the authoritative DNS server: an IPv4 address, an IPv6 address in brackets or a host name, and a port from 1 to 65535. A host name is resolved at each request; while it does not resolve the node runs with DNS disconnected.',
  },
};

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
      get: { summary: 'Configuration (secrets blanked), members and state.', responses: { '200': { description: 'The group.', content: json(ref('Group')) }, ...authErrors } },
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
          'Update group settings (on the acting Primary). Fails if not a member. The Primary pushes the group settings to the Secondary; a Secondary that cannot take them now gets them with the next heartbeat it acknowledges. A new `group_fqdn` or `external_scheme`, or a timer change too large to be safe while one node still runs the old timers, is refused with 400.',
        requestBody: settingsBody('The settings to change.'),
        responses: {
          '200': {
            description: `${ApiMessage.ConfigurationUpdated} \`secondary\`: \`updated\` (the Secondary runs them now), \`pending\` (it gets them later; \`reason\` says why not now) or \`none\` (no group setting changed, or no Secondary).`,
            content: json({ ...ref('SettingsUpdated'), example: { message: ApiMessage.ConfigurationUpdated, secondary: 'updated' } }),
          },
          ...bodyErrors,
          ...authErrors,
          '409': error('Not in a group, or not the acting Primary.'),
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
        summary: 'Manual failover: on the Primary it hands over to the Secondary; on the Secondary it takes over.',
        responses: { '200': message(ApiMessage.FailoverCompleted), ...authErrors, '409': error('Refused, the group as it was (details.outcome "refused", details.reason: in_progress, not_ready, peer_refused, stale, lost_race, records_missing), or not in a group, or no Secondary.'), '503': error('Something did not answer (details.outcome "failed": nothing written, the group as it was; "unconfirmed": a DNS update went unanswered, the records decide).') },
      },
    },
    '/health': health('Liveness, without a token.', 'The node runs.'),
    '/health/primary': health('For load balancers, without a token.', 'The node acts as Primary (lease checked now).'),
    '/health/secondary': health('For load balancers, without a token.', 'The node is a Secondary.'),
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
        properties: { message: { type: 'string' }, secondary: { enum: ['updated', 'pending', 'none'] }, reason: { type: 'string' } },
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
        properties: { node_id: { type: 'string' }, external_ipv4_address: { type: 'string' }, external_port: { type: 'integer' }, external_scheme: { type: 'string' } },
      },
      Group: {
        type: 'object',
        properties: {
          configuration: { type: 'object', description: 'The settings in force; tsig_secret is "", tokens and the peer secret are absent.' },
          members: { type: 'object', properties: { primary: ref('Member'), secondary: ref('Member') } },
          state: ref('State'),
        },
      },
      Health: {
        type: 'object',
        properties: { status: { type: 'string', enum: ['ok', 'unavailable'] }, node_role: { type: 'string' }, acting_primary: { type: 'boolean' } },
      },
    },
  },
} as const;
