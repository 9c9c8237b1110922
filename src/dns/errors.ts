import { AvailabilityGroupError } from '../api/errors.js';

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
  static readonly code = 'AG_DNS_PREREQUISITE_FAILED';
  constructor(rcode: string, message = `DNS update prerequisite failed (${rcode}): the records changed.`) {
    super(DnsPrerequisiteFailedError.code, message, { rcode });
  }
}

/** The server refused the update: REFUSED, or NOTAUTH with BADKEY/BADSIG. */
export class DnsNotAuthorizedError extends DnsError {
  static readonly code = 'AG_DNS_NOT_AUTHORIZED';
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
  static readonly code = 'AG_DNS_CLOCK_SKEW';
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
  static readonly code = 'AG_DNS_NOT_IN_ZONE';
  constructor(rcode: string, message = `The name is not in the server's zone (${rcode}).`) {
    super(DnsNotInZoneError.code, message, { rcode });
  }
}

/** No usable answer: timeout, connection refused, a garbage or unverifiable response, or the authority is down. */
export class DnsUnreachableError extends DnsError {
  static readonly code = 'AG_DNS_UNREACHABLE';
  constructor(message: string, options: { rcode?: string; cause?: unknown } = {}) {
    super(DnsUnreachableError.code, message, options);
  }
}

/**
 * The embedded server's zone file (`--data`) or its journal (`<file>.jnl`) holds something that is not a committed
 * zone: the server refuses to start and leaves both files as they are, rather than serve an older zone. `file` and
 * `line` (1-based, journal only) say where; only a torn last journal line (a crash mid-write) is ever skipped.
 */
export class ZoneFileCorruptError extends AvailabilityGroupError {
  static readonly code = 'AG_DNS_ZONE_FILE_CORRUPT';
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
