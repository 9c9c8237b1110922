/**
 * The DNS side of the group authority port (src/coordination/groupAuthority.ts): `DnsAuthority` is the name the DNS
 * API has always exported, kept as an alias of `GroupAuthority`.
 */
export type { GroupAuthority as DnsAuthority, RecordsExpectation, RecordsReplacement, UpdateOptions } from '../coordination/groupAuthority.js';
