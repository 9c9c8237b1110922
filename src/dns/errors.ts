/**
 * The DNS errors, defined in the error catalogue (src/api/errors.ts) and re-exported here, where the DNS API has
 * always exported them.
 */
export {
  DnsError,
  DnsPrerequisiteFailedError,
  DnsNotAuthorizedError,
  DnsClockSkewError,
  DnsNotInZoneError,
  DnsUnreachableError,
  DnsNotConfiguredError,
  DnsWireFormatError,
  ZoneFileCorruptError,
} from '../api/errors.js';
