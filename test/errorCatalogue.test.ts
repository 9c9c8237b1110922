/**
 * The error catalogue (src/api/errors.ts): every error a named class with a stable `AG_` code and an HTTP status;
 * the HTTP answer takes its status from the error (no list of classes in the handler); docs/api.md's table of codes
 * is the catalogue; and the paths that always exported errors still export the same classes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as catalogue from '../src/api/errors.js';
import * as mainEntry from '../src/index.js';
import * as dnsErrors from '../src/dns/errors.js';
import * as dnsEntry from '../src/dns/index.js';
import * as httpEntry from '../src/http/index.js';
import { toApiError as httpToApiError } from '../src/http/apiError.js';
import { EXIT_USAGE } from '../src/cli/command.js';

const { AvailabilityGroupError, ApiError, toApiError } = catalogue;
const root = fileURLToPath(new URL('..', import.meta.url));

type ErrorClass = (abstract new (...args: never[]) => catalogue.AvailabilityGroupError) & { readonly code: string; readonly statusCode: number };

/** The catalogue's errors: its exported classes that define a code of their own. */
const errors = (Object.entries(catalogue) as [string, unknown][])
  .filter((entry): entry is [string, ErrorClass] => typeof entry[1] === 'function' && Object.hasOwn(entry[1], 'code'))
  .map(([name, errorClass]) => ({ name, errorClass }));

/** The rows of docs/api.md's "Error codes" table: code, class, status as written. */
function documentedRows(): { code: string; name: string; status: string }[] {
  const text = readFileSync(join(root, 'docs', 'api.md'), 'utf8');
  const section = text.slice(text.indexOf('### Error codes'));
  const table = section.slice(section.indexOf('| `code` |'));
  return table
    .split('\n')
    .slice(2)
    .filter((line, index, lines) => line.startsWith('|') && lines.slice(0, index).every((previous) => previous.startsWith('|')))
    .map((line) => {
      const [code, name, status] = line.split('|').slice(1, 4).map((cell) => cell.trim().replace(/`/g, ''));
      return { code: code!, name: name!, status: status! };
    });
}

describe('the error catalogue', () => {
  it('names each error with a unique AG_ code and an HTTP status, all derived from AvailabilityGroupError', () => {
    expect(errors.length).toBeGreaterThan(30);
    for (const { name, errorClass } of errors) {
      expect(errorClass.prototype, name).toBeInstanceOf(AvailabilityGroupError);
      expect(errorClass.code, name).toMatch(/^AG_[A-Z_]+$/);
      expect([400, 401, 403, 404, 409, 500, 503], name).toContain(errorClass.statusCode);
    }
    const codes = errors.map(({ errorClass }) => errorClass.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it("instances carry their class's name, code and status", () => {
    const cases: [catalogue.AvailabilityGroupError, ErrorClass][] = [
      [new catalogue.MembershipError('not in a group'), catalogue.MembershipError],
      [new catalogue.DnsPrerequisiteFailedError('NXRRSET'), catalogue.DnsPrerequisiteFailedError],
      [new catalogue.PeerSignatureError(), catalogue.PeerSignatureError],
      [new catalogue.CliUsageError('--zone is required'), catalogue.CliUsageError],
    ];
    for (const [error, errorClass] of cases) {
      expect(error).toMatchObject({ name: errorClass.name, code: errorClass.code, statusCode: errorClass.statusCode });
    }
    expect(new catalogue.CliUsageError('--zone is required').exitCode).toBe(EXIT_USAGE);
    expect(new catalogue.FailoverError('refused', 'in_progress', 'busy', true).statusCode).toBe(409);
    expect(new catalogue.FailoverError('failed', 'dns_unreachable', 'no DNS', true).statusCode).toBe(503);
  });

  it("docs/api.md's table lists exactly the catalogue, with each code's class and status", () => {
    const rows = documentedRows();
    expect(rows.map((row) => row.code).sort()).toEqual(errors.map(({ errorClass }) => errorClass.code).sort());
    for (const { name, errorClass } of errors) {
      const row = rows.find((candidate) => candidate.code === errorClass.code);
      expect(row?.name, errorClass.code).toBe(name);
      expect(row?.status.split(' ')[0], errorClass.code).toBe(String(errorClass.statusCode));
    }
  });

  it('keeps the public paths: the same classes from the main entry, the http entry and the DNS modules', () => {
    for (const name of ['SettingsError', 'GroupFullError', 'FailoverError', 'DnsUnreachableError', 'DnsPrerequisiteFailedError', 'LiveInspectionError', 'InspectorConfigError', 'TraceFormatError'] as const) {
      expect((mainEntry as Record<string, unknown>)[name], name).toBe(catalogue[name]);
    }
    for (const name of ['DnsError', 'DnsPrerequisiteFailedError', 'DnsNotAuthorizedError', 'DnsClockSkewError', 'DnsNotInZoneError', 'DnsUnreachableError', 'ZoneFileCorruptError'] as const) {
      expect(dnsErrors[name], name).toBe(catalogue[name]);
      expect(dnsEntry[name], name).toBe(catalogue[name]);
    }
    expect(httpEntry.ApiError).toBe(ApiError);
    expect(httpToApiError).toBe(toApiError);
  });
});

describe('the HTTP answer to an error', () => {
  it("takes the status from the error: a new error class needs no change to the handler", () => {
    class MaintenanceWindowError extends AvailabilityGroupError {
      static override readonly code = 'AG_TEST_ONLY';
      static override readonly statusCode = 409;
      constructor() {
        super(MaintenanceWindowError.code, 'Not now.');
      }
    }
    expect(toApiError(new MaintenanceWindowError()).body()).toEqual({ code: 'Conflict', message: 'Not now.', details: { error_code: 'AG_TEST_ONLY' }, status: 409 });
  });

  it('answers each error of the catalogue with its status, its code in details.error_code', () => {
    expect(toApiError(new catalogue.NoSuchMemberError('b')).body()).toEqual({
      code: 'NotFound',
      message: 'The group has no member b.',
      details: { error_code: 'AG_NO_SUCH_MEMBER', node_id: 'b' },
      status: 404,
    });
    expect(toApiError(new catalogue.NotActingPrimaryError('secondary'))).toMatchObject({ status: 503, code: 'ServiceUnavailable', details: { error_code: 'AG_NOT_ACTING_PRIMARY' } });
    expect(toApiError(new catalogue.FailoverError('refused', 'stale', 'stale', false))).toMatchObject({
      status: 409,
      code: 'Conflict',
      details: { error_code: 'AG_FAILOVER_NOT_COMPLETED', outcome: 'refused', reason: 'stale', acting_primary: false },
    });
    expect(toApiError(new catalogue.SettingsError([{ field: 'ttl', rule: 'must be at least 1' }])).body()).toEqual({
      code: 'BadRequest',
      message: 'Invalid input: ttl: must be at least 1',
      details: { fields: { ttl: 'must be at least 1' } },
      status: 400,
    });
  });

  it("keeps fastify's status for its own errors, and hides an unexpected error's message", () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 });
    expect(toApiError(tooLarge).body()).toEqual({ code: 'PayloadTooLarge', message: 'The request body is too large.', details: {}, status: 413 });
    expect(toApiError(new TypeError('secret internals')).body()).toEqual({ code: 'InternalServerError', message: 'The node could not handle the request.', details: {}, status: 500 });
  });
});
