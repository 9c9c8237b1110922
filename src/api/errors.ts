import { memberBody, type GroupMembers } from './nodeState.js';

/**
 * The error catalogue: every error this package throws, in one file (in the manner of fastify's `lib/errors.js`).
 * Each is a named class with a stable `code` (`AG_...`: match on it, not on the message) and the HTTP `statusCode`
 * it is answered with; the HTTP API's error handler takes the status from the error ({@link toApiError}), and
 * docs/api.md's table of codes is checked against this file by a test. New errors go here.
 *
 * Other modules re-export some of these where the package's public API has always exported them (the DNS errors
 * from `src/dns/errors.ts`, `ApiError` from `availability-group/http`, ...).
 */

// ---------------------------------------------------------------------------------------------------------------
// The base
// ---------------------------------------------------------------------------------------------------------------

/** Base of every error this library throws: `code` is stable, `message` is for people, `statusCode` is HTTP's. */
export class AvailabilityGroupError extends Error {
  /** The code of this class: each error of the catalogue sets its own (the bases, this one, `DnsError` and `PeerRefusalError`, have none). */
  declare static readonly code: string;
  /** The HTTP status this class is answered with (each subclass that is not a 500 sets its own). */
  static readonly statusCode: number = 500;
  readonly code: string;
  readonly statusCode: number;
  constructor(code: string, message: string, options?: { cause?: unknown; statusCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.statusCode = options?.statusCode ?? (new.target as typeof AvailabilityGroupError).statusCode;
  }

  /**
   * What an HTTP answer says about this error for machines (its `details`): `error_code`, plus what a subclass
   * adds in snake_case (`members`, `node_id`, `outcome`, ...).
   *
   * @example
   * new NoSuchMemberError('b').httpDetails(); // { error_code: 'AG_NO_SUCH_MEMBER', node_id: 'b' }
   */
  httpDetails(): Record<string, unknown> {
    return { error_code: this.code };
  }

  /** The `message` of an HTTP answer about this error (default: the error's own message). */
  httpMessage(): string {
    return this.message;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Settings, persisted state, creating and running a node
// ---------------------------------------------------------------------------------------------------------------

/** One rule a setting broke. `field` is the snake_case setting name. */
export interface SettingsIssue {
  readonly field: string;
  readonly rule: string;
}

/** Settings were refused at load. The message names every field and the rule it broke. Answered 400 with `details.fields`. */
export class SettingsError extends AvailabilityGroupError {
  static override readonly code = 'AG_INVALID_SETTINGS';
  static override readonly statusCode = 400;
  readonly issues: readonly SettingsIssue[];
  constructor(issues: readonly SettingsIssue[]) {
    super(
      SettingsError.code,
      `Invalid settings: ${issues.map((issue) => `${issue.field}: ${issue.rule}`).join('; ')}`,
    );
    this.issues = issues;
  }

  /** `{fields: {field: rule}}`, as the product's 400 answers (no `error_code`). */
  override httpDetails(): Record<string, unknown> {
    return { fields: Object.fromEntries(this.issues.map((issue) => [issue.field, issue.rule])) };
  }

  /** `Invalid input: field: rule; ...`, as the API has always said it. */
  override httpMessage(): string {
    return `Invalid input: ${this.issues.map((issue) => `${issue.field}: ${issue.rule}`).join('; ')}`;
  }
}

/**
 * The node's persisted state (`data_dir/node.json`) was refused at load: not JSON, or a field breaks its rule.
 * `file` is its path; `issues` name each field (`membership.epoch`, `settings.health_report_interval`) and rule.
 */
export class PersistedStateError extends AvailabilityGroupError {
  static override readonly code = 'AG_INVALID_PERSISTED_STATE';
  readonly file: string;
  readonly issues: readonly SettingsIssue[];
  constructor(file: string, issues: readonly SettingsIssue[], options?: { cause?: unknown }) {
    super(PersistedStateError.code, `The state file ${file} is refused: ${issues.map((issue) => `${issue.field}: ${issue.rule}`).join('; ')}`, options);
    this.file = file;
    this.issues = issues;
  }
}

/**
 * `createNode` was given neither a port nor the settings to build it: a node never runs on in-memory ports unless
 * asked for them by name (`inMemoryPorts()`).
 */
export class NodePortsError extends AvailabilityGroupError {
  static override readonly code = 'AG_NODE_PORTS_MISSING';
  constructor(message: string) {
    super(NodePortsError.code, message);
  }
}

/**
 * The module-level API (`getNodeState`, `requirePrimary`) was used while this process has no default node: only
 * `setDefaultNode(node)` sets one (`agctl start` does, for the node it runs and the `--workflow` module it loads).
 */
export class NoDefaultNodeError extends AvailabilityGroupError {
  static override readonly code = 'AG_NO_DEFAULT_NODE';
  constructor() {
    super(
      NoDefaultNodeError.code,
      'This process has no default availability-group node: call setDefaultNode(node) with the node you created (createNode or startNetworkedNode), ' +
        'or run this code as the workflow of agctl start (agctl start --config <file> --workflow <module>), which sets it.',
    );
  }
}

/**
 * The workflow module of `agctl start --workflow <module>` could not be loaded: not found, or it threw while it was
 * imported. `module` is the path as given; `cause` is the original error.
 */
export class WorkflowLoadError extends AvailabilityGroupError {
  static override readonly code = 'AG_WORKFLOW_LOAD_FAILED';
  readonly module: string;
  constructor(module: string, cause: unknown) {
    super(WorkflowLoadError.code, `The workflow module ${module} could not be loaded: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.module = module;
  }
}

/**
 * A feature needs a package this one declares as an optional peer dependency (elkjs to lay out the chart,
 * @statelyai/inspect for live inspection, fast-check for the simulator), and it is not installed. The message
 * names the package and the command that installs it.
 */
export class OptionalDependencyMissingError extends AvailabilityGroupError {
  static override readonly code = 'AG_OPTIONAL_DEPENDENCY_MISSING';
  readonly packageName: string;
  constructor(packageName: string, feature: string, options?: { install?: string; cause?: unknown }) {
    const install = options?.install ?? `npm install ${packageName}`;
    super(OptionalDependencyMissingError.code, `${feature} needs ${packageName}: ${install}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.packageName = packageName;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The Primary's lease, membership, group operations
// ---------------------------------------------------------------------------------------------------------------

/** The lease ran out before a Primary-only operation could start (docs/design.md rule 7). */
export class LeaseExpiredError extends AvailabilityGroupError {
  static override readonly code = 'AG_LEASE_EXPIRED';
  static override readonly statusCode = 503;
  constructor(message = 'This node is not acting as Primary: its lease has expired.') {
    super(LeaseExpiredError.code, message);
  }
}

/** Primary-only work was refused because this node is not acting as Primary right now. */
export class NotActingPrimaryError extends AvailabilityGroupError {
  static override readonly code = 'AG_NOT_ACTING_PRIMARY';
  static override readonly statusCode = 503;
  constructor(role: string) {
    super(NotActingPrimaryError.code, `This node is not acting as Primary (role: ${role}).`);
  }
}

/** An operation needs group membership (or its absence) that the node does not have. */
export class MembershipError extends AvailabilityGroupError {
  static override readonly code = 'AG_MEMBERSHIP';
  static override readonly statusCode = 409;
  constructor(message: string) {
    super(MembershipError.code, message);
  }
}

/**
 * A join was refused because the group already has two members: a Primary and another Secondary. `members` names
 * both. The same node id may join again (it replaces its own address); another one waits until the Primary removes
 * the Secondary (`removeMember`, `DELETE /ag/api/v1/group/members/{node_id}`).
 */
export class GroupFullError extends AvailabilityGroupError {
  static override readonly code = 'AG_GROUP_FULL';
  static override readonly statusCode = 409;
  readonly members: GroupMembers;
  constructor(group: string, members: GroupMembers) {
    const describe = (member: GroupMembers['primary']) => (member === null ? '(none)' : `${member.nodeId} at ${member.address}:${member.port}`);
    super(
      GroupFullError.code,
      (members.all === undefined || members.all.length <= 2
        ? `The group ${group} already has two members: Primary ${describe(members.primary)}, Secondary ${describe(members.secondary)}. ` +
          'Only the same node id can join again; to replace the Secondary, remove it on the Primary first.'
        : `The group ${group} already has ${members.all.length} members, its limit: Primary ${describe(members.primary)}, Secondaries ${members.all
            .filter((member) => member.role === 'secondary')
            .map(describe)
            .join(', ')}. Only a member's own node id can join again; to replace a Secondary, remove it on the Primary first.`),
    );
    this.members = members;
  }

  /** Also `members`: both members in the product's shape. */
  override httpDetails(): Record<string, unknown> {
    return { ...super.httpDetails(), members: { primary: memberBody(this.members.primary), secondary: memberBody(this.members.secondary) } };
  }
}

/** No member of this node's group has the given node id. */
export class NoSuchMemberError extends AvailabilityGroupError {
  static override readonly code = 'AG_NO_SUCH_MEMBER';
  static override readonly statusCode = 404;
  readonly nodeId: string;
  constructor(nodeId: string, message = `The group has no member ${nodeId}.`) {
    super(NoSuchMemberError.code, message);
    this.nodeId = nodeId;
  }

  /** Also `node_id`. */
  override httpDetails(): Record<string, unknown> {
    return { ...super.httpDetails(), node_id: this.nodeId };
  }
}

/**
 * A manual failover did not complete (rule 6). `outcome` says what became of the group: `refused` and `failed` leave
 * it as it was (the Primary kept or regained its lease before this was thrown); `unconfirmed` means a DNS update
 * went unanswered, or the peer the records name after a lost handover answer showed no heartbeat of acting, and the
 * records decide which node is Primary. `reason` is a machine-readable word
 * (`in_progress`, `not_ready`, `stale`, `dns_unreachable`, `peer_unreachable`, `peer_refused`, `lost_race`, ...).
 * Answered 409 when refused (the request conflicts with the group's state), 503 when failed or unconfirmed
 * (something did not answer).
 */
export class FailoverError extends AvailabilityGroupError {
  static override readonly code = 'AG_FAILOVER_NOT_COMPLETED';
  static override readonly statusCode = 503;
  readonly outcome: 'refused' | 'failed' | 'unconfirmed';
  readonly reason: string;
  /** Whether this node acts as Primary as the error is thrown. */
  readonly actingPrimary: boolean;
  constructor(outcome: 'refused' | 'failed' | 'unconfirmed', reason: string, message: string, actingPrimary: boolean) {
    super(FailoverError.code, message, { statusCode: outcome === 'refused' ? 409 : FailoverError.statusCode });
    this.outcome = outcome;
    this.reason = reason;
    this.actingPrimary = actingPrimary;
  }

  /** Also `outcome`, `reason` and `acting_primary`. */
  override httpDetails(): Record<string, unknown> {
    return { ...super.httpDetails(), outcome: this.outcome, reason: this.reason, acting_primary: this.actingPrimary };
  }
}

/** A group operation (create, join, failover, leave) did not complete. */
export class GroupOperationError extends AvailabilityGroupError {
  static override readonly code = 'AG_GROUP_OPERATION_FAILED';
  static override readonly statusCode = 503;
  constructor(message: string, options?: { cause?: unknown }) {
    super(GroupOperationError.code, message, options);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The peer channel
// ---------------------------------------------------------------------------------------------------------------

/** The peer could not be reached, or refused the message. */
export class PeerUnreachableError extends AvailabilityGroupError {
  static override readonly code = 'AG_PEER_UNREACHABLE';
  static override readonly statusCode = 503;
  constructor(message: string, options?: { cause?: unknown }) {
    super(PeerUnreachableError.code, message, options);
  }
}

/**
 * Base of the refusals of an incoming peer message: answered on the peer route with `statusCode` and the body
 * `{code, message, details: {reason}, status}`, logged, and counted in `ag_peer_messages_refused{reason}`.
 */
export class PeerRefusalError extends AvailabilityGroupError {
  /** The counter's reason: `signature`, `malformed`, `replay`, `group`, `heartbeat`, `not-listening`, `path-cut`, `receiver-failed`. */
  readonly reason: string;
  constructor(code: string, reason: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.reason = reason;
  }

  /** `{reason}`: the peer routes' `details`. */
  override httpDetails(): Record<string, unknown> {
    return { reason: this.reason };
  }
}

/**
 * A direct heartbeat was refused: it claims what cannot be (an epoch more than one past the newest known, a seq
 * further ahead than time allows), repeats one already seen, or came before this node could judge it (its role
 * not yet resolved from DNS). A heartbeat from an older epoch is never refused this way: its sender must learn of
 * the newer epoch from the acknowledgement (rule 4).
 */
export class HeartbeatRefusedError extends PeerRefusalError {
  static override readonly code = 'AG_HEARTBEAT_REFUSED';
  static override readonly statusCode = 409;
  constructor(message: string) {
    super(HeartbeatRefusedError.code, 'heartbeat', message);
  }
}

/** A peer message was refused: another group, a bad signature, a replay. */
export class PeerMessageRejectedError extends PeerRefusalError {
  static override readonly code = 'AG_PEER_MESSAGE_REJECTED';
  static override readonly statusCode = 403;
  constructor(message: string) {
    super(PeerMessageRejectedError.code, 'group', message);
  }
}

/** A peer request whose `X-AG-Signature` is missing or not made with the peer secret. */
export class PeerSignatureError extends PeerRefusalError {
  static override readonly code = 'AG_PEER_BAD_SIGNATURE';
  static override readonly statusCode = 401;
  constructor(message = 'The message signature is missing or wrong.') {
    super(PeerSignatureError.code, 'signature', message);
  }
}

/** A peer message that is not JSON or not a known message. */
export class PeerMessageMalformedError extends PeerRefusalError {
  static override readonly code = 'AG_PEER_BAD_MESSAGE';
  static override readonly statusCode = 400;
  constructor(message: string) {
    super(PeerMessageMalformedError.code, 'malformed', message);
  }
}

/** A heartbeat not newer than one already accepted, or a message without a fresh nonce issued by the receiver. */
export class PeerReplayError extends PeerRefusalError {
  static override readonly code = 'AG_PEER_REPLAY';
  static override readonly statusCode = 409;
  constructor(message: string) {
    super(PeerReplayError.code, 'replay', message);
  }
}

/** The receiving node does not take peer messages now (not started, or stopped). */
export class PeerNotListeningError extends PeerRefusalError {
  static override readonly code = 'AG_PEER_NOT_LISTENING';
  static override readonly statusCode = 503;
  constructor(message = 'This node is not receiving peer messages.') {
    super(PeerNotListeningError.code, 'not-listening', message);
  }
}

/** The peer path's fault switch (tests and drills) is on. */
export class PeerPathCutError extends PeerRefusalError {
  static override readonly code = 'AG_PEER_PATH_CUT';
  static override readonly statusCode = 503;
  constructor(cut: string) {
    super(PeerPathCutError.code, 'path-cut', `The peer path is cut (fault switch, ${cut}).`);
  }
}

/** The receiving node failed while handling a peer message. */
export class PeerReceiverFailedError extends PeerRefusalError {
  static override readonly code = 'AG_PEER_RECEIVER_FAILED';
  constructor(cause: unknown) {
    super(PeerReceiverFailedError.code, 'receiver-failed', `The node could not handle the message: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// DNS
// ---------------------------------------------------------------------------------------------------------------

/**
 * DNS failures, one named type per way the authority can fail us. `rcode` and `tsigError` carry the server's
 * answer when there was one.
 */
export class DnsError extends AvailabilityGroupError {
  readonly rcode: string | undefined;
  readonly tsigError: string | undefined;
  constructor(code: string, message: string, details: { rcode?: string; tsigError?: string; cause?: unknown } = {}) {
    super(code, message, { cause: details.cause });
    this.rcode = details.rcode;
    this.tsigError = details.tsigError;
  }
}

/** A prerequisite failed (NXRRSET, YXRRSET, NXDOMAIN, YXDOMAIN): another writer changed the records first. */
export class DnsPrerequisiteFailedError extends DnsError {
  static override readonly code = 'AG_DNS_PREREQUISITE_FAILED';
  static override readonly statusCode = 409;
  constructor(rcode: string, message = `DNS update prerequisite failed (${rcode}): the records changed.`) {
    super(DnsPrerequisiteFailedError.code, message, { rcode });
  }
}

/** The server refused the update: REFUSED, or NOTAUTH with BADKEY/BADSIG. */
export class DnsNotAuthorizedError extends DnsError {
  static override readonly code = 'AG_DNS_NOT_AUTHORIZED';
  constructor(rcode: string, tsigError?: string) {
    super(
      DnsNotAuthorizedError.code,
      `DNS server refused the update (${rcode}${tsigError ? `, ${tsigError}` : ''}).`,
      tsigError === undefined ? { rcode } : { rcode, tsigError },
    );
  }
}

/** The server's clock and ours differ by more than the TSIG fudge (BADTIME). `serverTime` is in seconds. */
export class DnsClockSkewError extends DnsError {
  static override readonly code = 'AG_DNS_CLOCK_SKEW';
  readonly serverTime: number | undefined;
  constructor(serverTime?: number) {
    super(
      DnsClockSkewError.code,
      `DNS server rejected the signature time (BADTIME)${serverTime === undefined ? '' : `; server time ${new Date(serverTime * 1000).toISOString()}`}.`,
      { rcode: 'NOTAUTH', tsigError: 'BADTIME' },
    );
    this.serverTime = serverTime;
  }
}

/** The name is outside the zone the server is authoritative for (NOTZONE / NOTAUTH without TSIG error). */
export class DnsNotInZoneError extends DnsError {
  static override readonly code = 'AG_DNS_NOT_IN_ZONE';
  constructor(rcode: string, message = `The name is not in the server's zone (${rcode}).`) {
    super(DnsNotInZoneError.code, message, { rcode });
  }
}

/** No usable answer: timeout, connection refused, a garbage or unverifiable response, or the authority is down. */
export class DnsUnreachableError extends DnsError {
  static override readonly code = 'AG_DNS_UNREACHABLE';
  static override readonly statusCode = 503;
  constructor(message: string, options: { rcode?: string; cause?: unknown } = {}) {
    super(DnsUnreachableError.code, message, options);
  }
}

/** The node has no DNS server or TSIG key yet (a joining node gets the key from the Primary). */
export class DnsNotConfiguredError extends DnsError {
  static override readonly code = 'AG_DNS_NOT_CONFIGURED';
  static override readonly statusCode = 503;
  constructor(message = 'No DNS server or TSIG key yet: dns_server, tsig_name and tsig_secret must all be set (a joining node gets the key from the Primary).') {
    super(DnsNotConfiguredError.code, message);
  }
}

/** A DNS message the decoder refused. Servers drop such packets; clients treat them as no answer. */
export class DnsWireFormatError extends AvailabilityGroupError {
  static override readonly code = 'AG_DNS_WIRE_FORMAT';
  constructor(message: string) {
    super(DnsWireFormatError.code, message);
  }
}

/**
 * The embedded server's zone file (`--data`) or its journal (`<file>.jnl`) holds something that is not a committed
 * zone: the server refuses to start and leaves both files as they are, rather than serve an older zone. `file` and
 * `line` (1-based, journal only) say where; only a torn last journal line (a crash mid-write) is ever skipped.
 */
export class ZoneFileCorruptError extends AvailabilityGroupError {
  static override readonly code = 'AG_DNS_ZONE_FILE_CORRUPT';
  readonly file: string;
  readonly line: number | undefined;
  constructor(file: string, line: number | undefined, reason: string) {
    super(
      ZoneFileCorruptError.code,
      `${file}${line === undefined ? '' : `, line ${line}`}: ${reason}. The DNS server did not start and left the files untouched; ` +
        'restore them from a backup, or (each journal line holds the whole zone) remove the damaged line to serve the newest good one.',
    );
    this.file = file;
    this.line = line;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The chart, the inspector, the command line
// ---------------------------------------------------------------------------------------------------------------

/** A state label that `stateLabel` could not have written. */
export class StateLabelError extends AvailabilityGroupError {
  static override readonly code = 'AG_STATE_LABEL';
  constructor(label: string, reason: string) {
    super(StateLabelError.code, `Cannot read the state label "${label}": ${reason}.`);
  }
}

/** `AG_INSPECT` holds something that is not a WebSocket URL; `value` is what it holds. */
export class LiveInspectionError extends AvailabilityGroupError {
  static override readonly code = 'AG_INSPECT_URL';
  constructor(value: string) {
    // INSPECT_ENV and DEFAULT_INSPECT_URL of src/inspect/liveInspector.ts (test/inspector.live.test.ts checks the words).
    super(LiveInspectionError.code, `AG_INSPECT must be a ws:// or wss:// URL (or "1" for ws://127.0.0.1:8080), not "${value}".`);
  }
}

/** The inspector was registered without a way to authenticate. */
export class InspectorConfigError extends AvailabilityGroupError {
  static override readonly code = 'AG_INSPECTOR_CONFIG';
  constructor(message: string) {
    super(InspectorConfigError.code, message);
  }
}

/** A trace file could not be read: the message says where and why. */
export class TraceFormatError extends AvailabilityGroupError {
  static override readonly code = 'AG_TRACE_FORMAT';
  constructor(message: string) {
    super(TraceFormatError.code, message);
  }
}

/** A command-line mistake; the message names the flag or file. `agctl` prints it and exits with `exitCode` (2). */
export class CliUsageError extends AvailabilityGroupError {
  static override readonly code = 'AG_CLI_USAGE';
  static override readonly statusCode = 400;
  /** The exit code of a usage error (`EXIT_USAGE` of `agctl`). */
  readonly exitCode = 2;
  constructor(message: string, options?: { cause?: unknown }) {
    super(CliUsageError.code, message, options);
  }
}

/**
 * An `agctl` call to a node's API that got no answer: `unreachable` (no connection, or it broke), `timeout`
 * (connected, but no answer within the call's time), `aborted` (the caller gave up).
 */
export class ApiCallError extends AvailabilityGroupError {
  static override readonly code = 'AG_API_CALL_FAILED';
  static override readonly statusCode = 503;
  constructor(
    readonly kind: 'unreachable' | 'timeout' | 'aborted',
    message: string,
  ) {
    super(ApiCallError.code, message);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP answers
// ---------------------------------------------------------------------------------------------------------------

/** An error body of the HTTP API, in the product's shape. */
export interface ApiErrorBody {
  readonly code: string;
  readonly message: string;
  readonly details: Record<string, unknown>;
  readonly status: number;
}

/** The product's `code` of each status the API answers with: the HTTP reason phrase without spaces. */
const REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  500: 'InternalServerError',
  503: 'ServiceUnavailable',
};

/**
 * The API's `code` for an HTTP status (the product's: the reason phrase without spaces).
 *
 * @example
 * reasonCode(409); // 'Conflict'
 */
export function reasonCode(status: number): string {
  return REASONS[status] ?? (status >= 500 ? 'InternalServerError' : 'BadRequest');
}

/**
 * An answer of the HTTP API: `status` is the HTTP status, `code` the product-style code (the HTTP reason phrase
 * without spaces, as the product's `Unauthorized` and `Forbidden`), `details` says more for machines. It is the
 * answer's shape, not a library error: the library's errors become one through {@link toApiError}.
 *
 * @example
 * throw new ApiError(409, 'Conflict', 'This node is already in a group.');
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The HTTP status, under the name fastify and the library's errors use. */
  get statusCode(): number {
    return this.status;
  }

  /** The JSON body: `{code, message, details, status}`. */
  body(): ApiErrorBody {
    return { code: this.code, message: this.message, details: this.details, status: this.status };
  }
}

/** Fastify's own errors that reach the client, by their codes, with the message answered (the status is theirs). */
const FASTIFY_MESSAGES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is too large.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'The request body must be JSON with Content-Type: application/json.',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The Content-Length header does not match the body.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request body is empty; a JSON object is required.',
};

/**
 * The API error to answer with for anything thrown while handling a request; the status comes from the error
 * itself. A library error keeps its message and its `httpDetails()` (`details.error_code`, ...); a fastify error its
 * status, with the message above; an unexpected error becomes a 500 whose message reveals nothing internal.
 *
 * @example
 * const answer = toApiError(error);
 * reply.code(answer.status).send(answer.body());
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof AvailabilityGroupError) return new ApiError(error.statusCode, reasonCode(error.statusCode), error.httpMessage(), error.httpDetails());
  const { code, statusCode } = (error ?? {}) as { code?: unknown; statusCode?: unknown };
  const status = typeof statusCode === 'number' && statusCode >= 400 && statusCode < 600 ? statusCode : undefined;
  if (typeof code === 'string' && code in FASTIFY_MESSAGES) return new ApiError(status ?? 400, reasonCode(status ?? 400), FASTIFY_MESSAGES[code]!);
  if (error instanceof SyntaxError || status === 400) return new ApiError(400, 'BadRequest', 'The request body is not valid JSON.');
  return new ApiError(500, 'InternalServerError', 'The node could not handle the request.');
}

/** Whether `error` carries the given library error code. */
export function hasErrorCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
