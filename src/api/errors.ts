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

/** The lease ran out before a Primary-only operation could start (DESIGN.md rule 7). */
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

/** The module-level API was used before any node was started in this process. */
export class NoDefaultNodeError extends AvailabilityGroupError {
  static readonly code = 'AG_NO_DEFAULT_NODE';
  constructor() {
    super(NoDefaultNodeError.code, 'No availability-group node runs in this process: call createNode(...).start() first.');
  }
}

/** Whether `error` carries the given library error code. */
export function hasErrorCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/** A peer message was refused: another group, a bad signature, a replay. */
export class PeerMessageRejectedError extends AvailabilityGroupError {
  static readonly code = 'AG_PEER_MESSAGE_REJECTED';
  constructor(message: string) {
    super(PeerMessageRejectedError.code, message);
  }
}
