import type { GroupRecords } from '../../machines/nodeMachine.types.js';

/**
 * What a compare-and-swap expects of one RRset: `undefined`, nothing (no prerequisite); `null`, the RRset does not
 * exist; a string, the RRset is exactly that one record (an RFC 2136 value-dependent prerequisite).
 */
export interface RecordsExpectation {
  readonly address?: string | null;
  readonly txt?: string | null;
}

/**
 * What a compare-and-swap writes to one RRset: `undefined`, leave it; `null`, delete it; a string, replace the whole
 * RRset with that one record.
 */
export interface RecordsReplacement {
  readonly address?: string | null;
  readonly txt?: string | null;
}

/** Options of one update. */
export interface UpdateOptions {
  /** TTL of the records written, in seconds. */
  readonly ttl: number;
}

/**
 * The DNS authority port: the group's A and TXT records on the authoritative server. The real implementation speaks
 * RFC 2136 + TSIG on the wire; the in-memory one serves tests, the demo and the simulator. Both keep these promises:
 *
 * - `read` asks the authority itself (no cache) and resolves with the A address and TXT value of `fqdn` (null when
 *   the RRset does not exist). It rejects with `DnsUnreachableError` when there is no usable answer.
 * - `compareAndSwap` applies `replacement` atomically, and only if every expectation holds at the server at that
 *   instant; otherwise it changes nothing and rejects with `DnsPrerequisiteFailedError`. Other failures reject with
 *   the other `DnsError` types (not authorised, clock skew, not in zone, unreachable). An unreachable outcome may
 *   still have been applied: the caller's next compare-and-swap tells.
 *
 * @example
 * await dns.compareAndSwap('app.example.test', { address: null, txt: null }, { address: '127.0.0.2', txt: hb }, { ttl: 30 });
 */
export interface DnsAuthority {
  read(fqdn: string): Promise<GroupRecords>;
  compareAndSwap(
    fqdn: string,
    expectation: RecordsExpectation,
    replacement: RecordsReplacement,
    options: UpdateOptions,
  ): Promise<void>;
}
