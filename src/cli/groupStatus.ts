import { ApiCallError, type ApiAnswer, type ApiClient } from './apiClient.js';
import { renderTable } from './renderTable.js';

/** One node's line of `agctl status`: what its `GET /state` said, or why there is no answer. */
export interface NodeStatus {
  /** The node id (from its state, or from the group's `member_details` when it does not answer); null if unknown. */
  readonly node_id: string | null;
  readonly url: string;
  /** Whether it answered `GET /state`. */
  readonly reachable: boolean;
  /** Why there is no state: unreachable, no answer in time, or the API's error. */
  readonly error: string | null;
  readonly node_role: string | null;
  readonly acting_primary: boolean | null;
  readonly epoch: number | null;
  readonly node_dns_connection_state: string | null;
  readonly heartbeat_method: string | null;
  readonly last_heartbeat_time: string | null;
  /** Seconds since `last_heartbeat_time` on this machine's wall clock (for people: two machines' clocks differ). */
  readonly heartbeat_age_s: number | null;
  readonly lease_remaining_ms: number | null;
  /** `maintenance` of `GET /state`; null when the node does not report it. */
  readonly maintenance: boolean | null;
  /** `application_health` of `GET /state`; null when no check is configured or the node does not report it. */
  readonly application_health: string | null;
  /** The statechart state (`secondary.watching`). */
  readonly state: string | null;
}

/** What `agctl status` shows: the group's name and one line per node, ordered by node id. */
export interface GroupStatus {
  readonly group_fqdn: string | null;
  readonly nodes: readonly NodeStatus[];
}

/** A group member as `GET /group`'s `member_details` lists it. */
interface MemberDetails {
  readonly node_id: string;
  readonly address: string;
  readonly port: number;
  readonly scheme: string;
}

/** How long each `agctl status` call may take before its node is shown as not answering. */
export const STATUS_CALL_TIMEOUT_MS = 5000;

/**
 * The members `GET /group` names (node id and URL): every member of `all_members` (the Primary first, then the
 * Secondaries in the takeover order), or from a node of an earlier version the two of `member_details`; empty when
 * the body has none.
 *
 * @example
 * membersOf({ member_details: { primary: { node_id: 'a', address: '127.0.0.2', port: 8080, scheme: 'http' }, secondary: null } })
 * // [{ nodeId: 'a', url: 'http://127.0.0.2:8080' }]
 */
export function membersOf(groupBody: unknown): { nodeId: string; url: string }[] {
  const all = (groupBody as { all_members?: unknown } | null)?.all_members;
  const details = (groupBody as { member_details?: Record<string, MemberDetails | null> } | null)?.member_details;
  const listed: unknown[] = Array.isArray(all) && all.length > 0 ? all : details !== undefined && details !== null && typeof details === 'object' ? Object.values(details) : [];
  return listed
    .filter((member): member is MemberDetails => member !== null && typeof member === 'object' && typeof (member as { node_id?: unknown }).node_id === 'string')
    .map((member) => ({ nodeId: member.node_id, url: `${member.scheme}://${member.address}:${member.port}` }));
}

/** The `message` of an API error body, or the body itself. */
export function answerMessage(answer: ApiAnswer): string {
  const body = answer.body as { message?: unknown } | null;
  return `${answer.status} ${typeof body?.message === 'string' ? body.message : JSON.stringify(answer.body)}`;
}

function failureText(error: unknown): string {
  if (error instanceof ApiCallError && error.kind === 'timeout') return `no answer: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * A node's line from its `GET /state` answer (or the error of the call), as of `nowMs` (wall clock, ms).
 *
 * @example
 * nodeStatusFrom('http://127.0.0.2:8080', { status: 200, body: state }, null, Date.now())
 */
export function nodeStatusFrom(url: string, answer: ApiAnswer | null, failure: unknown, nowMs: number, knownId: string | null = null): NodeStatus {
  const empty = {
    node_role: null,
    acting_primary: null,
    epoch: null,
    node_dns_connection_state: null,
    heartbeat_method: null,
    last_heartbeat_time: null,
    heartbeat_age_s: null,
    lease_remaining_ms: null,
    maintenance: null,
    application_health: null,
    state: null,
  };
  if (answer === null) return { node_id: knownId, url, reachable: false, error: failureText(failure), ...empty };
  if (answer.status !== 200 || answer.body === null || typeof answer.body !== 'object') {
    return { node_id: knownId, url, reachable: true, error: answerMessage(answer), ...empty };
  }
  const state = answer.body as Record<string, unknown>;
  const text = (key: string) => (typeof state[key] === 'string' ? (state[key] as string) : null);
  const number = (key: string) => (typeof state[key] === 'number' ? (state[key] as number) : null);
  const flag = (key: string) => (typeof state[key] === 'boolean' ? (state[key] as boolean) : null);
  const lastHeartbeat = text('last_heartbeat_time');
  const heartbeatAt = lastHeartbeat === null ? Number.NaN : Date.parse(lastHeartbeat);
  return {
    node_id: text('node_id') ?? knownId,
    url,
    reachable: true,
    error: null,
    node_role: text('node_role'),
    acting_primary: flag('acting_primary'),
    epoch: number('epoch'),
    node_dns_connection_state: text('node_dns_connection_state'),
    heartbeat_method: text('heartbeat_method'),
    last_heartbeat_time: lastHeartbeat,
    heartbeat_age_s: Number.isNaN(heartbeatAt) ? null : Math.max(0, Math.round((nowMs - heartbeatAt) / 100) / 10),
    lease_remaining_ms: number('lease_remaining_ms'),
    maintenance: flag('maintenance'),
    application_health: text('application_health'),
    state: text('state'),
  };
}

/**
 * Asks every node it knows for its state: the nodes `clients` point at, and the members their `GET /group` names in
 * `member_details` (asked with the same token and trusted certificates). A node that does not answer is a line
 * saying so, never an error; a member no node could name is not shown.
 *
 * @example
 * const status = await collectGroupStatus([await ApiClient.fromFlags({ config: 'node-a.json' })]);
 */
export async function collectGroupStatus(clients: readonly ApiClient[], timeoutMs = STATUS_CALL_TIMEOUT_MS): Promise<GroupStatus> {
  const call = async (client: ApiClient, path: string): Promise<{ answer: ApiAnswer | null; failure: unknown }> => {
    try {
      return { answer: await client.call('GET', path, undefined, timeoutMs), failure: null };
    } catch (failure) {
      return { answer: null, failure };
    }
  };
  const first = await Promise.all(
    clients.map(async (client) => {
      const [state, group] = await Promise.all([call(client, '/state'), call(client, '/group')]);
      return { client, state, group };
    }),
  );
  const nowMs = Date.now();
  const rows = new Map<string, NodeStatus>();
  const seenIds = new Set<string>();
  let groupFqdn: string | null = null;
  for (const { client, state } of first) {
    const row = nodeStatusFrom(client.baseUrl, state.answer, state.failure, nowMs);
    if (!rows.has(row.url)) rows.set(row.url, row);
    if (row.node_id !== null) seenIds.add(row.node_id);
  }
  const others = new Map<string, { client: ApiClient; nodeId: string }>();
  for (const { client, group } of first) {
    if (group.answer?.status !== 200) continue;
    const fqdn = (group.answer.body as { configuration?: { group_fqdn?: unknown } }).configuration?.group_fqdn;
    if (typeof fqdn === 'string') groupFqdn ??= fqdn;
    for (const member of membersOf(group.answer.body)) {
      const known = rows.get(member.url);
      if (known !== undefined && known.node_id === null) rows.set(member.url, { ...known, node_id: member.nodeId });
      if (seenIds.has(member.nodeId) || known !== undefined || others.has(member.url)) continue;
      others.set(member.url, { client: client.at(member.url), nodeId: member.nodeId });
    }
  }
  const later = await Promise.all([...others.values()].map(async ({ client, nodeId }) => ({ client, nodeId, state: await call(client, '/state') })));
  for (const { client, nodeId, state } of later) rows.set(client.baseUrl, nodeStatusFrom(client.baseUrl, state.answer, state.failure, Date.now(), nodeId));
  const nodes = [...rows.values()].sort((x, y) => (x.node_id ?? x.url).localeCompare(y.node_id ?? y.url));
  return { group_fqdn: groupFqdn, nodes };
}

function seconds(ms: number | null): string {
  return ms === null ? '-' : `${(ms / 1000).toFixed(1)}s`;
}

/**
 * The table `agctl status` prints, as `patronictl list` shows a cluster: a title line with the group, one row per
 * node, then a line per node that did not answer saying why.
 *
 * @example
 * process.stdout.write(renderGroupStatus(await collectGroupStatus(clients)));
 */
export function renderGroupStatus(status: GroupStatus): string {
  const headers = ['NODE', 'ADDRESS', 'ROLE', 'ACTING', 'EPOCH', 'DNS', 'HEARTBEAT', 'LEASE LEFT', 'MAINTENANCE', 'APP HEALTH'];
  const rows = status.nodes.map((node) => {
    if (node.node_role === null) return [node.node_id ?? '?', node.url, node.reachable ? 'error' : 'unreachable', '-', '-', '-', '-', '-', '-', '-'];
    const heartbeat = node.heartbeat_method === null ? '-' : node.heartbeat_age_s === null ? node.heartbeat_method : `${node.heartbeat_method} ${node.heartbeat_age_s.toFixed(1)}s ago`;
    return [
      node.node_id,
      node.url,
      node.node_role,
      node.acting_primary === null ? '-' : node.acting_primary ? 'yes' : 'no',
      node.epoch,
      node.node_dns_connection_state,
      heartbeat,
      seconds(node.lease_remaining_ms),
      node.maintenance === null ? '-' : node.maintenance ? 'on' : 'off',
      node.application_health ?? '-',
    ];
  });
  const title = `Group: ${status.group_fqdn ?? '(unknown)'}\n`;
  const notes = status.nodes.filter((node) => node.error !== null).map((node) => `${node.node_id ?? node.url}: ${node.error}\n`);
  return title + renderTable(headers, rows) + notes.join('');
}
