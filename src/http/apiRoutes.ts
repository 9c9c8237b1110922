import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { AvailabilityNode, LeaveResult, SettingsUpdate } from '../node/createNode.js';
import { isGroupSettingField, type SettingsInput } from '../node/settings.js';
import { NodeRole } from '../api/constants.js';
import { ApiError, forbidden, invalidInput, toApiError, unauthorized, unsupportedMediaType } from './apiError.js';
import { failoverRequestFrom, joinRequestFrom, maintenanceRequestFrom, settingsChangesFrom } from './apiBodies.js';
import { groupBody, stateBody } from './apiShapes.js';
import { joinThroughDns } from '../node/joinThroughDns.js';
import type { PrimaryLocator } from '../dns/primaryLocator.js';
import { stateSchema } from './stateSchema.js';
import { historyBody } from './historyBody.js';
import type { HistoryEntry } from '../node/historyLog.js';

/** Finds the address of the group's Primary from the group FQDN (its A record); defined beside `createPrimaryLocator`. */
export type { PrimaryLocator };

/** Options of {@link apiRoutes}. */
export interface ApiRoutesOptions {
  readonly node: AvailabilityNode;
  /** The bearer token every API request must carry. */
  readonly apiToken: string;
  /** How `PUT /group/members` finds the Primary; without it a join is refused with 400. */
  readonly locatePrimary?: PrimaryLocator;
  /** The node's history for `GET /history` (this project's); without it the route is not served. */
  readonly history?: HistorySource;
}

/** Where `GET /history` reads the node's history from (a `HistoryLog`). */
export interface HistorySource {
  entries(): readonly HistoryEntry[];
}

/** Success messages, in the product's words where it has them. */
export const ApiMessage = {
  ConfigurationUpdated: 'Availability group configuration updated.',
  FailoverCompleted: 'Manual failover completed.',
  MaintenanceOn: 'Maintenance mode on: automatic takeover is paused group-wide.',
  MaintenanceOff: 'Maintenance mode off: automatic takeover is resumed.',
  GroupCreated: 'Availability group created.',
  Joined: 'Node joined the availability group as Secondary.',
  Left: 'Node left the availability group.',
  MemberRemoved: 'Member removed from the availability group.',
} as const;

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Checks `Authorization: Bearer <token>` in constant time: 401 when absent or not a bearer token, 403 when wrong. */
function authorize(request: FastifyRequest, expected: Buffer): void {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null) throw unauthorized();
  if (!timingSafeEqual(digest(match[1]!), expected)) throw forbidden();
}

/** Bodies must be declared JSON; fastify itself refuses other declared types, this refuses a missing one. */
async function requireJsonBody(request: FastifyRequest): Promise<void> {
  const type = request.headers['content-type'];
  if (type === undefined || !/^application\/json\b/i.test(type)) throw unsupportedMediaType();
}

/**
 * The `/ag/api/v1` API in the product's shapes (register with `{ prefix: '/ag/api/v1' }`): `GET /state`,
 * `GET/POST/PUT /group`, `PUT /group/members`, `PUT /configuration`, `PUT /failover`, and this project's
 * `DELETE /group` (leave) and `DELETE /group/members/{node_id}` (remove the Secondary). Every route needs the bearer
 * token; errors are `{code, message, details, status}`; no answer carries a secret; a refused request changes
 * nothing. As in the product, a settings body needs at least one setting, and `PUT /group` works on either member
 * (the Secondary forwards it to its Primary).
 *
 * @example
 * await app.register(apiRoutes, { prefix: '/ag/api/v1', node, apiToken });
 */
export const apiRoutes: FastifyPluginAsync<ApiRoutesOptions> = async (app, options) => {
  const { node } = options;
  const expected = digest(options.apiToken);
  app.addHook('onRequest', async (request) => authorize(request, expected));
  app.setErrorHandler((error, request, reply) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) request.log.error({ err: error }, 'API request failed');
    void reply.code(apiError.status).send(apiError.body());
  });
  app.setNotFoundHandler(async (request) => {
    throw new ApiError(404, 'NotFound', `No API route ${request.method} ${request.url.split('?')[0]}.`);
  });
  const withBody = { preValidation: requireJsonBody };

  // The response schema lets fastify compile a serializer: the hottest route of the API.
  app.get('/state', { schema: { response: { 200: stateSchema } } }, async () => stateBody(node.getNodeState()));

  app.get('/group', async () => groupBody(node));

  app.post('/group', withBody, async (request, reply) => {
    const changes = settingsChangesFrom(request.body, node.settings);
    requireNotInGroup(node, 'create a group');
    if ((changes.group_fqdn ?? node.settings.groupFqdn) === undefined) throw invalidInput([{ field: 'group_fqdn', rule: 'is required to create a group' }]);
    // The body's settings apply only if the group is created: a refused request changes nothing.
    await node.createGroup(changes);
    return reply.code(201).send({ message: ApiMessage.GroupCreated });
  });

  // This project's: leave the group (a Primary dissolves it); the other member is told if it can be reached.
  app.delete('/group', async () => {
    if (node.getNodeState().nodeRole === NodeRole.NOT_IN_GROUP) throw new ApiError(409, 'Conflict', 'This node is not in an availability group.');
    return leaveBody(ApiMessage.Left, await node.leaveGroup());
  });

  // On either member, as in the product: the Secondary forwards the group settings to its Primary (signed peer
  // channel) and answers with the Primary's result; its own node settings (dns_server) apply here once it accepted.
  app.put('/group', withBody, async (request) => {
    const changes = settingsChangesFrom(request.body, node.settings);
    const state = node.getNodeState();
    if (state.nodeRole === NodeRole.NOT_IN_GROUP) throw new ApiError(409, 'Conflict', 'This node is not in an availability group.');
    if (state.nodeRole === NodeRole.SECONDARY) return forwardToPrimary(node, changes);
    if (!state.actingPrimary) throw new ApiError(409, 'Conflict', 'Group settings can only be changed on the acting Primary; this node is Primary but does not act as one now (its lease is not valid).', { node_role: state.nodeRole });
    return updatedBody(await node.updateSettings(changes));
  });

  app.put('/group/members', withBody, async (request) => {
    const join = joinRequestFrom(request.body, node.settings);
    requireNotInGroup(node, 'join a group');
    if (options.locatePrimary === undefined) throw invalidInput([{ field: 'dns_server', rule: 'is required to find the Primary through the group FQDN' }]);
    await joinThroughDns(node, options.locatePrimary, join.groupFqdn, join.scheme);
    return { message: ApiMessage.Joined };
  });

  // This project's: the acting Primary drops its Secondary (a dead one, so that a replacement can join).
  app.delete<{ Params: { node_id: string } }>('/group/members/:node_id', async (request) => {
    return leaveBody(ApiMessage.MemberRemoved, await node.removeMember(request.params.node_id));
  });

  app.put('/configuration', withBody, async (request) => {
    const changes = settingsChangesFrom(request.body, node.settings);
    requireNotInGroup(node, 'preconfigure it (use PUT /group on the Primary)');
    await node.updateSettings(changes);
    return { message: ApiMessage.ConfigurationUpdated };
  });

  // This project's: the node's history (role changes, takeovers, failovers, lease losses, maintenance, failed hooks).
  if (options.history !== undefined) {
    const history = options.history;
    app.get('/history', async (request) => historyBody(node.nodeId, history.entries(), (request.query as Record<string, unknown>).limit));
  }

  // The product's PUT /failover takes no body; this project's optional `{"to": "<node id>"}` names the new Primary.
  app.put('/failover', async (request) => {
    await node.failover(failoverRequestFrom(request.body));
    return { message: ApiMessage.FailoverCompleted };
  });

  // This project's: maintenance mode (docs/design.md rule 9), on either member; the flag reaches the other member
  // with the next heartbeat or acknowledgement, and applies here at once (also on a Secondary whose Primary is gone).
  app.put('/maintenance', withBody, async (request) => {
    const enabled = maintenanceRequestFrom(request.body);
    if (node.getNodeState().nodeRole === NodeRole.NOT_IN_GROUP) throw new ApiError(409, 'Conflict', 'This node is not in an availability group.');
    const flag = await node.setMaintenance(enabled);
    return { message: flag.enabled ? ApiMessage.MaintenanceOn : ApiMessage.MaintenanceOff, enabled: flag.enabled, by: flag.by, version: flag.version };
  });
};

/** The answer to `PUT /group`: where the Secondary stands (`reason` when it gets the settings later). */
function updatedBody(update: SettingsUpdate, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { message: ApiMessage.ConfigurationUpdated, secondary: update.secondary, ...(update.reason === undefined ? {} : { reason: update.reason }), ...extra };
}

/**
 * `PUT /group` on the Secondary: the group settings go to the Primary, which applies and pushes them back; this
 * node's own settings in the body apply here only once the Primary accepted (a refused request changes nothing).
 * 503 when the Primary cannot be reached; 400 naming the fields it refused.
 */
async function forwardToPrimary(node: AvailabilityNode, changes: Partial<SettingsInput>): Promise<Record<string, unknown>> {
  const groupChanges = Object.fromEntries(Object.entries(changes).filter(([field]) => isGroupSettingField(field)));
  const nodeChanges = Object.fromEntries(Object.entries(changes).filter(([field]) => !isGroupSettingField(field)));
  const forwarded = Object.keys(groupChanges).length > 0;
  const primary = node.members().primary?.nodeId ?? null;
  const update = forwarded ? await node.changeGroupSettingsOnPrimary(groupChanges) : ({ secondary: 'none' } as const);
  if (Object.keys(nodeChanges).length > 0) await node.updateSettings(nodeChanges);
  return updatedBody(update, { forwarded_to: forwarded ? primary : null });
}

/** The answer to a leave or a removal: the message, and whether the other member was told (`reason` when not). */
function leaveBody(message: string, result: LeaveResult): Record<string, unknown> {
  return { message, peer: result.peer, ...(result.reason === undefined ? {} : { reason: result.reason }) };
}

function requireNotInGroup(node: AvailabilityNode, what: string): void {
  if (node.getNodeState().nodeRole !== NodeRole.NOT_IN_GROUP) throw new ApiError(409, 'Conflict', `This node is already in an availability group; it cannot ${what}.`);
}
