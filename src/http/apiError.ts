import {
  AvailabilityGroupError,
  FailoverError,
  GroupFullError,
  GroupOperationError,
  MembershipError,
  NoSuchMemberError,
  NotActingPrimaryError,
  SettingsError,
} from '../api/errors.js';
import { memberBody } from './apiShapes.js';

/** An error body of the HTTP API, in the product's shape. */
export interface ApiErrorBody {
  readonly code: string;
  readonly message: string;
  readonly details: Record<string, unknown>;
  readonly status: number;
}

/**
 * An error the HTTP API answers with: `status` is the HTTP status, `code` the product-style code (the HTTP reason
 * phrase without spaces, as the product's `Unauthorized` and `Forbidden`), `details` says more for machines.
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

  /** The JSON body: `{code, message, details, status}`. */
  body(): ApiErrorBody {
    return { code: this.code, message: this.message, details: this.details, status: this.status };
  }
}

/** 401 in the product's words: no (usable) credentials. */
export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Authentication is required.');
}

/** 403 in the product's words: credentials that do not grant access. */
export function forbidden(): ApiError {
  return new ApiError(403, 'Forbidden', 'Insufficient access rights.');
}

/** 400 naming each field and the rule it broke. */
export function invalidInput(issues: readonly { field: string; rule: string }[]): ApiError {
  const message = `Invalid input: ${issues.map((issue) => `${issue.field}: ${issue.rule}`).join('; ')}`;
  return new ApiError(400, 'BadRequest', message, { fields: Object.fromEntries(issues.map((issue) => [issue.field, issue.rule])) });
}

/** Fastify's own errors that reach the client, by their codes. */
const FASTIFY_ERRORS: Record<string, (error: Error) => ApiError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new ApiError(413, 'PayloadTooLarge', 'The request body is too large.'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => unsupportedMediaType(),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new ApiError(400, 'BadRequest', 'The Content-Length header does not match the body.'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new ApiError(400, 'BadRequest', 'The request body is empty; a JSON object is required.'),
};

/** 415: bodies must be JSON. */
export function unsupportedMediaType(): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', 'The request body must be JSON with Content-Type: application/json.');
}

/**
 * Maps anything thrown while handling a request to the API error to answer with. Library errors keep their code in
 * `details.error_code`; a full group is 409 with `details.members` (the product's member shape), an unknown member
 * 404; an unexpected error becomes a 500 whose message reveals nothing internal.
 *
 * @example
 * reply.code(toApiError(error).status).send(toApiError(error).body());
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof SettingsError) return invalidInput(error.issues);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in FASTIFY_ERRORS) return FASTIFY_ERRORS[code]!(error as Error);
  if (error instanceof SyntaxError || (error as { statusCode?: unknown } | null)?.statusCode === 400) {
    return new ApiError(400, 'BadRequest', 'The request body is not valid JSON.');
  }
  const details = error instanceof AvailabilityGroupError ? { error_code: error.code } : {};
  if (error instanceof GroupFullError) {
    const members = { primary: memberBody(error.members.primary), secondary: memberBody(error.members.secondary) };
    return new ApiError(409, 'Conflict', error.message, { ...details, members });
  }
  if (error instanceof NoSuchMemberError) return new ApiError(404, 'NotFound', error.message, { ...details, node_id: error.nodeId });
  if (error instanceof MembershipError) return new ApiError(409, 'Conflict', error.message, details);
  if (error instanceof FailoverError) {
    // Refused: the request conflicts with the group's state (409). Failed or unconfirmed: something did not answer (503).
    const status = error.outcome === 'refused' ? 409 : 503;
    return new ApiError(status, status === 409 ? 'Conflict' : 'ServiceUnavailable', error.message, { ...details, outcome: error.outcome, reason: error.reason, acting_primary: error.actingPrimary });
  }
  if (error instanceof NotActingPrimaryError) return new ApiError(503, 'ServiceUnavailable', error.message, details);
  if (error instanceof GroupOperationError) return new ApiError(503, 'ServiceUnavailable', error.message, details);
  if (error instanceof AvailabilityGroupError) return new ApiError(500, 'InternalServerError', error.message, details);
  return new ApiError(500, 'InternalServerError', 'The node could not handle the request.');
}
