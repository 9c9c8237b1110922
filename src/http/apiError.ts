import { ApiError, SettingsError, toApiError } from '../api/errors.js';

/**
 * The HTTP API's answers to refused requests. `ApiError` (the answer's shape) and `toApiError` (the answer to
 * anything thrown, its status taken from the error) live in the error catalogue, src/api/errors.ts.
 */
export { ApiError, toApiError, type ApiErrorBody } from '../api/errors.js';

/** 401 in the product's words: no (usable) credentials. */
export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Authentication is required.');
}

/** 403 in the product's words: credentials that do not grant access. */
export function forbidden(): ApiError {
  return new ApiError(403, 'Forbidden', 'Insufficient access rights.');
}

/** 400 naming each field and the rule it broke: the answer to a {@link SettingsError} of these issues. */
export function invalidInput(issues: readonly { field: string; rule: string }[]): ApiError {
  return toApiError(new SettingsError(issues));
}

/** 415: bodies must be JSON. */
export function unsupportedMediaType(): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', 'The request body must be JSON with Content-Type: application/json.');
}
