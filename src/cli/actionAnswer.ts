import { printAnswer, type ApiAnswer } from './apiClient.js';
import { formatOutput, type OutputFormat } from './outputFormat.js';

/** An answer body's fields, or none when it is not an object. */
function fieldsOf(body: unknown): Record<string, unknown> {
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

function textOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The `message` of an answer, for when nothing better can be said. */
function messageOf(body: unknown): string {
  return textOf(fieldsOf(body).message) ?? JSON.stringify(body);
}

/** ` (reason)` when the answer gives one. */
function reasonOf(body: Record<string, unknown>): string {
  const reason = textOf(body.reason);
  return reason === undefined ? '' : ` (${reason})`;
}

/**
 * `agctl pause|resume`'s line from the `PUT /maintenance` answer.
 *
 * @example
 * maintenanceLine({ enabled: true, by: 'a', version: 3 })
 * // 'paused: automatic takeover is suspended group-wide (by a, version 3)'
 */
export function maintenanceLine(answer: unknown): string {
  const body = fieldsOf(answer);
  if (typeof body.enabled !== 'boolean') return messageOf(answer);
  const who = [textOf(body.by) === undefined ? [] : [`by ${String(body.by)}`], typeof body.version === 'number' ? [`version ${body.version}`] : []].flat();
  const detail = who.length === 0 ? '' : ` (${who.join(', ')})`;
  return body.enabled ? `paused: automatic takeover is suspended group-wide${detail}` : `resumed: automatic takeover works again group-wide${detail}`;
}

/** The group's name and members' node ids from a `GET /group` body. */
function groupFacts(group: unknown): { fqdn?: string; primary?: string; secondary?: string } {
  const body = fieldsOf(group);
  const details = fieldsOf(body.member_details);
  return { fqdn: textOf(fieldsOf(body.configuration).group_fqdn), primary: textOf(fieldsOf(details.primary).node_id), secondary: textOf(fieldsOf(details.secondary).node_id) };
}

/**
 * `agctl group create`'s line, from the `GET /group` body read after creating (`null` when it could not be read:
 * then the answer's message).
 *
 * @example
 * groupCreatedLine({ message: 'Availability group created.' }, { configuration: { group_fqdn: 'app.example.test' }, member_details: { primary: { node_id: 'a' } } })
 * // 'group created: app.example.test, a is Primary'
 */
export function groupCreatedLine(answer: unknown, group: unknown): string {
  const { fqdn, primary } = groupFacts(group);
  if (fqdn === undefined || primary === undefined) return messageOf(answer);
  return `group created: ${fqdn}, ${primary} is Primary`;
}

/**
 * `agctl group join`'s line, from the `GET /group` body read after joining (`null` when it could not be read: then
 * the answer's message).
 *
 * @example
 * groupJoinedLine({ message: 'Joined.' }, { configuration: { group_fqdn: 'app.example.test' }, member_details: { primary: { node_id: 'a' }, secondary: { node_id: 'b' } } })
 * // 'b joined app.example.test as Secondary; a is Primary'
 */
export function groupJoinedLine(answer: unknown, group: unknown): string {
  const { fqdn, primary, secondary } = groupFacts(group);
  if (fqdn === undefined || primary === undefined || secondary === undefined) return messageOf(answer);
  return `${secondary} joined ${fqdn} as Secondary; ${primary} is Primary`;
}

/**
 * `agctl group update`'s line from the `PUT /group` answer: whether the Secondary runs the settings now.
 *
 * @example
 * groupUpdatedLine({ secondary: 'updated', forwarded_to: 'a' })
 * // 'group settings updated on the Primary a; the Secondary runs them now'
 */
export function groupUpdatedLine(answer: unknown): string {
  const body = fieldsOf(answer);
  const forwarded = textOf(body.forwarded_to);
  const head = `group settings updated${forwarded === undefined ? '' : ` on the Primary ${forwarded}`}`;
  switch (body.secondary) {
    case 'updated':
      return `${head}; the Secondary runs them now`;
    case 'pending':
      return `${head}; the Secondary gets them with its next acknowledged heartbeat${reasonOf(body)}`;
    case 'none':
      return `${head}; there is no Secondary to tell`;
    default:
      return messageOf(answer);
  }
}

/** What the other member made of a leave or a removal, from the answer's `peer`. */
function peerText(body: Record<string, unknown>, who: string): string | undefined {
  switch (body.peer) {
    case 'notified':
      return `${who} was told`;
    case 'unreachable':
      return `${who} could not be reached${reasonOf(body)}`;
    case 'refused':
      return `${who} refused${reasonOf(body)}`;
    case 'none':
      return 'there was no other member to tell';
    default:
      return undefined;
  }
}

/**
 * `agctl group leave`'s line from the `DELETE /group` answer.
 *
 * @example
 * groupLeftLine({ peer: 'unreachable', reason: 'connect ECONNREFUSED' })
 * // 'left the group; the other member could not be reached (connect ECONNREFUSED)'
 */
export function groupLeftLine(answer: unknown): string {
  const peer = peerText(fieldsOf(answer), 'the other member');
  return peer === undefined ? messageOf(answer) : `left the group; ${peer}`;
}

/**
 * `agctl group remove-member`'s line from the `DELETE /group/members/{node_id}` answer.
 *
 * @example
 * memberRemovedLine('b', { peer: 'notified' })
 * // 'b removed from the group; it was told'
 */
export function memberRemovedLine(nodeId: string, answer: unknown): string {
  const peer = peerText(fieldsOf(answer), 'it');
  return peer === undefined ? messageOf(answer) : `${nodeId} removed from the group; ${peer}`;
}

/**
 * Prints a changing command's answer: for a 2xx, the human `line` (format `table`) or the API's body unchanged
 * (`json`, `yaml`) and 0; otherwise the error on stderr and 1, as {@link printAnswer}.
 *
 * @example
 * return printActionAnswer('pause', answer, format, () => maintenanceLine(answer.body));
 */
export async function printActionAnswer(command: string, answer: ApiAnswer, format: OutputFormat, line: () => string | Promise<string>): Promise<number> {
  if (answer.status < 200 || answer.status >= 300) return printAnswer(command, answer);
  process.stdout.write(format === 'table' ? `${await line()}\n` : formatOutput(answer.body, format, () => ''));
  return 0;
}
