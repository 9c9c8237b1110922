import type { GroupMembers } from './nodeState.js';

/**
 * Errors of the library, as named types with stable codes (in the manner of fastify and pino): match on `code`,
 * not on the message.
 */

/** Base of every error this library throws: `code` is stable, `message` is for people. */
export class AvailabilityGroupError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One rule a setting broke. `field` is the snake_case setting name. */
export interface SettingsIssue {
  readonly field: string;
  readonly rule: string;
}

/** Settings were refused at load. The message names every field and the rule it broke. */
export class SettingsError extends AvailabilityGroupError {
  static readonly code = 'AG_INVALID_SETTINGS';
  readonly issues: readonly SettingsIssue[];
  constructor(issues: readonly SettingsIssue[]) {
    super(
      SettingsError.code,
      `Invalid settings: ${issues.map((issue) => `${issue.field}: ${issue.rule}`).join('; ')}`,
    );
    this.issues = issues;
  }
}

/**
 * The node's persisted state (`data_dir/node.json`) was refused at load: not JSON, or a field breaks its rule.
 * `file` is its path; `issues` name each field (`membership.epoch`, `settings.health_report_interval`) and rule.
 */
export class PersistedStateError extends AvailabilityGroupError {
  static readonly code = 'AG_INVALID_PERSISTED_STATE';
  readonly file: string;
  readonly issues: readonly SettingsIssue[];
  constructor(file: string, issues: readonly SettingsIssue[], options?: { cause?: unknown }) {
    super(PersistedStateError.code, `The state file ${file} is refused: ${issues.map((issue) => `${issue.field}: ${issue.rule}`).join('; ')}`, options);
    this.file = file;
    this.issues = issues;
  }
}

/** The lease ran out before a Primary-only operation could start (docs/design.md rule 7). */
export class LeaseExpiredError extends AvailabilityGroupError {
  static readonly code = 'AG_LEASE_EXPIRED';
  constructor(message = 'This node is not acting as Primary: its lease has expired.') {
    super(LeaseExpiredError.code, message);
  }
}

/** Primary-only work was refused because this node is not acting as Primary right now. */
export class NotActingPrimaryError extends AvailabilityGroupError {
  static readonly code = 'AG_NOT_ACTING_PRIMARY';
  constructor(role: string) {
    super(NotActingPrimaryError.code, `This node is not acting as Primary (role: ${role}).`);
  }
}

/** An operation needs group membership (or its absence) that the node does not have. */
export class MembershipError extends AvailabilityGroupError {
  static readonly code = 'AG_MEMBERSHIP';
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
  static readonly code = 'AG_GROUP_FULL';
  readonly members: GroupMembers;
  constructor(group: string, members: GroupMembers) {
    const describe = (member: GroupMembers['primary']) => (member === null ? '(none)' : `${member.nodeId} at ${member.address}:${member.port}`);
    super(
      GroupFullError.code,
      `The group ${group} already has two members: Primary ${describe(members.primary)}, Secondary ${describe(members.secondary)}. ` +
        'Only the same node id can join again; to replace the Secondary, remove it on the Primary first.',
    );
    this.members = members;
  }
}

/** No member of this node's group has the given node id. */
export class NoSuchMemberError extends AvailabilityGroupError {
  static readonly code = 'AG_NO_SUCH_MEMBER';
  readonly nodeId: string;
  constructor(nodeId: string, message = `The group has no member ${nodeId}.`) {
    super(NoSuchMemberError.code, message);
    this.nodeId = nodeId;
  }
}

/**
 * `createNode` was given neither a port nor the settings to build it: a node never runs on in-memory ports unless
 * asked for them by name (`inMemoryPorts()`).
 */
export class NodePortsError extends AvailabilityGroupError {
  static readonly code = 'AG_NODE_PORTS_MISSING';
  constructor(message: string) {
    super(NodePortsError.code, message);
  }
}

/**
 * A manual failover did not complete (rule 6). `outcome` says what became of the group: `refused` and `failed` leave
 * it as it was (the Primary kept or regained its lease before this was thrown); `unconfirmed` means a DNS update
 * went unanswered and the records decide which node is Primary. `reason` is a machine-readable word
 * (`in_progress`, `not_ready`, `stale`, `dns_unreachable`, `peer_unreachable`, `peer_refused`, `lost_race`, ...).
 */
export class FailoverError extends AvailabilityGroupError {
  static readonly code = 'AG_FAILOVER_NOT_COMPLETED';
  readonly outcome: 'refused' | 'failed' | 'unconfirmed';
  readonly reason: string;
  /** Whether this node acts as Primary as the error is thrown. */
  readonly actingPrimary: boolean;
  constructor(outcome: 'refused' | 'failed' | 'unconfirmed', reason: string, message: string, actingPrimary: boolean) {
    super(FailoverError.code, message);
    this.outcome = outcome;
    this.reason = reason;
    this.actingPrimary = actingPrimary;
  }
}

/** A group operation (create, join, failover, leave) did not complete. */
export class GroupOperationError extends AvailabilityGroupError {
  static readonly code = 'AG_GROUP_OPERATION_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(GroupOperationError.code, message, options);
  }
}

/** The peer could not be reached, or refused the message. */
export class PeerUnreachableError extends AvailabilityGroupError {
  static readonly code = 'AG_PEER_UNREACHABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(PeerUnreachableError.code, message, options);
  }
}

/**
 * The module-level API (`getNodeState`, `requirePrimary`) was used while this process has no default node: only
 * `setDefaultNode(node)` sets one (`agctl start` does, for the node it runs and the `--workflow` module it loads).
 */
export class NoDefaultNodeError extends AvailabilityGroupError {
  static readonly code = 'AG_NO_DEFAULT_NODE';
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
  static readonly code = 'AG_WORKFLOW_LOAD_FAILED';
  readonly module: string;
  constructor(module: string, cause: unknown) {
    super(WorkflowLoadError.code, `The workflow module ${module} could not be loaded: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.module = module;
  }
}

/** Whether `error` carries the given library error code. */
export function hasErrorCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/**
 * A direct heartbeat was refused: it claims what cannot be (an epoch more than one past the newest known, a seq
 * further ahead than time allows), repeats one already seen, or came before this node could judge it (its role
 * not yet resolved from DNS). A heartbeat from an older epoch is never refused this way: its sender must learn of
 * the newer epoch from the acknowledgement (rule 4).
 */
export class HeartbeatRefusedError extends AvailabilityGroupError {
  static readonly code = 'AG_HEARTBEAT_REFUSED';
  constructor(message: string) {
    super(HeartbeatRefusedError.code, message);
  }
}

/** A peer message was refused: another group, a bad signature, a replay. */
export class PeerMessageRejectedError extends AvailabilityGroupError {
  static readonly code = 'AG_PEER_MESSAGE_REJECTED';
  constructor(message: string) {
    super(PeerMessageRejectedError.code, message);
  }
}

/**
 * A feature needs a package this one declares as an optional peer dependency (elkjs to lay out the chart,
 * @statelyai/inspect for live inspection, fast-check for the simulator), and it is not installed. The message
 * names the package and the command that installs it.
 */
export class OptionalDependencyMissingError extends AvailabilityGroupError {
  static readonly code = 'AG_OPTIONAL_DEPENDENCY_MISSING';
  readonly packageName: string;
  constructor(packageName: string, feature: string, options?: { install?: string; cause?: unknown }) {
    const install = options?.install ?? `npm install ${packageName}`;
    super(OptionalDependencyMissingError.code, `${feature} needs ${packageName}: ${install}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.packageName = packageName;
  }
}
