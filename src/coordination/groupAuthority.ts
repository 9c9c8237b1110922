import type { GroupRecords } from '../../machines/nodeMachine.types.js';

/**
 * What a compare-and-swap expects of one value (an RRset in DNS, a key in etcd): `undefined`, nothing (no
 * prerequisite); `null`, the value does not exist; a string, the value is exactly that one record (in DNS an RFC 2136
 * value-dependent prerequisite).
 */
export interface RecordsExpectation {
  readonly address?: string | null;
  readonly txt?: string | null;
}

/**
 * What a compare-and-swap writes to one value (an RRset in DNS, a key in etcd): `undefined`, leave it; `null`,
 * delete it; a string, replace the whole value with that one record.
 */
export interface RecordsReplacement {
  readonly address?: string | null;
  readonly txt?: string | null;
}

/** Options of one update. */
export interface UpdateOptions {
  /** TTL of the records written, in seconds (DNS only: etcd keys of the group carry no TTL). */
  readonly ttl: number;
}

/**
 * The group authority port: the one place that says which node is Primary, read and written only by compare-and-swap.
 * It holds two values per group: the address of the Primary (the A record) and its latest heartbeat (the TXT record,
 * in the format of heartbeatRecord.ts). Three implementations keep the same promises: DNS (RFC 2136 + TSIG on the
 * wire, the product's authority), etcd v3 (one key per value, one transaction per compare-and-swap), and the
 * in-memory one of the tests, the demo and the simulator. The statechart never knows which one it talks to; every
 * implementation reports through the same error types (the `Dns…Error` codes of the error catalogue), so the rules
 * read the same outcome whichever authority answered:
 *
 * - `read` asks the authority itself (no cache; in etcd a linearizable read) and resolves with the A address and TXT
 *   value of `fqdn` (null when the value does not exist). It rejects with `DnsUnreachableError` when there is no usable answer.
 * - `compareAndSwap` applies `replacement` atomically, and only if every expectation holds at the server at that
 *   instant; otherwise it changes nothing and rejects with `DnsPrerequisiteFailedError`. Other failures reject with
 *   the other `DnsError` types (not authorised, clock skew, not in zone, unreachable). An unreachable outcome may
 *   still have been applied: the caller's next compare-and-swap tells.
 * - `watch` (optional: etcd and the in-memory authority have it, DNS does not) tells `listener` the group's values
 *   as they are when the watch starts, then after every committed change, in commit order. Changes may be coalesced
 *   (several commits told as the values after the last of them), a value is never told twice in a row, and nothing
 *   is told that was not committed. It may lag behind the authority (a reconnecting client, a member cut off from
 *   its cluster), so `read` stays the only linearizable truth: a watch tells a reader early that something changed,
 *   never that nothing did. `onError` hears of each failure (the watch goes on by itself, catching up on what it
 *   missed); the returned function stops the watch, after which the listener is not called again.
 *
 * @example
 * await authority.compareAndSwap('app.example.test', { address: null, txt: null }, { address: '127.0.0.2', txt: hb }, { ttl: 30 });
 * const stop = authority.watch?.('app.example.test', (records) => console.log(records.txt));
 */
export interface GroupAuthority {
  read(fqdn: string): Promise<GroupRecords>;
  compareAndSwap(
    fqdn: string,
    expectation: RecordsExpectation,
    replacement: RecordsReplacement,
    options: UpdateOptions,
  ): Promise<void>;
  watch?(fqdn: string, listener: GroupRecordsListener, onError?: (error: unknown) => void): () => void;
}

/** Told the group's values by {@link GroupAuthority.watch}: as the watch starts, then after each committed change. */
export type GroupRecordsListener = (records: GroupRecords) => void;
