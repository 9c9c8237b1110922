/** The public DNS API: the authority port, its wire client, the embedded server, TSIG, and the named errors. */
export type { DnsAuthority, RecordsExpectation, RecordsReplacement, UpdateOptions } from './dnsAuthority.js';
export { InMemoryDnsAuthority } from './inMemoryDnsAuthority.js';
export { DnsUpdateClient, type DnsUpdateClientOptions } from './dnsUpdateClient.js';
export { SettingsDnsAuthority, type SettingsDnsAuthorityOptions, type DnsClientSettings } from './settingsDnsAuthority.js';
export { startDnsServer, DEFAULT_DNS_TCP_LIMITS, type DnsServerOptions, type DnsServerStats, type DnsTcpLimits, type RunningDnsServer } from './dnsServer.js';
export type { DnsServerAddress } from './dnsTransport.js';
export { TSIG_ALGORITHMS, TSIG_FUDGE, type TsigAlgorithm, type TsigKey } from './tsig.js';
export {
  DnsError,
  DnsPrerequisiteFailedError,
  DnsNotAuthorizedError,
  DnsClockSkewError,
  DnsNotInZoneError,
  DnsUnreachableError,
  DnsNotConfiguredError,
  ZoneFileCorruptError,
} from './errors.js';
export { HEARTBEAT_RECORD_FORMAT, formatHeartbeatRecord, parseHeartbeatRecord, isValidNodeId } from './heartbeatRecord.js';
