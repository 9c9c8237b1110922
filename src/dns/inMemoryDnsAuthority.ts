import type { GroupRecords } from '../../machines/nodeMachine.types.js';
import type { GroupRecordsListener } from '../coordination/groupAuthority.js';
import type { DnsAuthority, RecordsExpectation, RecordsReplacement, UpdateOptions } from './dnsAuthority.js';
import { DnsPrerequisiteFailedError, DnsUnreachableError } from './errors.js';

/** One watch of a name: its listener, and the values it was told last. */
interface InMemoryWatch {
  readonly listener: GroupRecordsListener;
  readonly onError: ((error: unknown) => void) | undefined;
  told: GroupRecords | null;
}

/** One name's records in the in-memory authority. */
interface StoredRecords {
  address: string | null;
  txt: string | null;
  ttl: number;
}

/**
 * A DNS authority held in memory, with the RFC 2136 semantics the nodes rely on: reads see the last committed update,
 * a compare-and-swap is atomic and checks every expectation first. Several nodes of one process share one instance.
 * `setReachable(false)` makes every call reject with `DnsUnreachableError`, to test outages. `watch` tells a listener
 * the records as they are (in a microtask), then after each committed compare-and-swap that changed them (each in its
 * own microtask, in commit order); with no watch, nothing is scheduled.
 *
 * @example
 * const dns = new InMemoryDnsAuthority();
 * const node = createNode(settings, { dns, peer: network.transport() });
 */
export class InMemoryDnsAuthority implements DnsAuthority {
  readonly #names = new Map<string, StoredRecords>();
  /** The watches of each name, and the values each was last told. */
  readonly #watches = new Map<string, Set<InMemoryWatch>>();
  #reachable = true;
  /** Number of committed updates, like a zone's SOA serial. */
  serial = 0;

  /** Makes the authority answer (true) or time out (false). */
  setReachable(reachable: boolean): void {
    this.#reachable = reachable;
  }

  async read(fqdn: string): Promise<GroupRecords> {
    this.#assertReachable();
    return this.peek(fqdn);
  }

  async compareAndSwap(
    fqdn: string,
    expectation: RecordsExpectation,
    replacement: RecordsReplacement,
    options: UpdateOptions,
  ): Promise<void> {
    this.#assertReachable();
    this.apply(fqdn, expectation, replacement, options);
  }

  /**
   * Tells `listener` the records of `fqdn` now, then after each committed change, each in a microtask of its own
   * (never synchronously inside the compare-and-swap). Returns the function that stops it.
   *
   * @example
   * const stop = dns.watch('app.example.test', (records) => console.log(records.txt));
   */
  watch(fqdn: string, listener: GroupRecordsListener, onError?: (error: unknown) => void): () => void {
    const name = canonicalName(fqdn);
    const watch: InMemoryWatch = { listener, onError, told: null };
    let watches = this.#watches.get(name);
    if (watches === undefined) this.#watches.set(name, (watches = new Set()));
    watches.add(watch);
    this.#tell(name, watch, this.peek(name));
    return () => {
      watches.delete(watch);
      if (watches.size === 0 && this.#watches.get(name) === watches) this.#watches.delete(name);
    };
  }

  /** Reads without the reachability check: for tests and observers, not for nodes. */
  peek(fqdn: string): GroupRecords {
    const stored = this.#names.get(canonicalName(fqdn));
    return { address: stored?.address ?? null, txt: stored?.txt ?? null };
  }

  /**
   * The compare-and-swap itself, synchronous and without the reachability check: the simulator calls it at the
   * simulated instant the update reaches the server.
   */
  apply(fqdn: string, expectation: RecordsExpectation, replacement: RecordsReplacement, options: UpdateOptions): void {
    const name = canonicalName(fqdn);
    const current = this.peek(name);
    for (const key of ['address', 'txt'] as const) {
      const expected = expectation[key];
      if (expected === undefined) continue;
      if (current[key] !== expected) {
        throw new DnsPrerequisiteFailedError(expected === null ? 'YXRRSET' : 'NXRRSET');
      }
    }
    const next: StoredRecords = {
      address: replacement.address === undefined ? current.address : replacement.address,
      txt: replacement.txt === undefined ? current.txt : replacement.txt,
      ttl: options.ttl,
    };
    if (next.address === null && next.txt === null) this.#names.delete(name);
    else this.#names.set(name, next);
    this.serial += 1;
    const watches = this.#watches.get(name);
    if (watches !== undefined) for (const watch of watches) this.#tell(name, watch, { address: next.address, txt: next.txt });
  }

  /** Tells one watch `records` in a microtask, unless it stopped or was told the same values last. */
  #tell(name: string, watch: InMemoryWatch, records: GroupRecords): void {
    queueMicrotask(() => {
      if (!(this.#watches.get(name)?.has(watch) ?? false)) return;
      if (watch.told !== null && watch.told.address === records.address && watch.told.txt === records.txt) return;
      watch.told = records;
      try {
        watch.listener(records);
      } catch (error) {
        if (watch.onError === undefined) throw error;
        watch.onError(error);
      }
    });
  }

  #assertReachable(): void {
    if (!this.#reachable) throw new DnsUnreachableError('The in-memory DNS authority is set unreachable.');
  }
}

/** DNS names compare case-insensitively and with or without the trailing dot. */
function canonicalName(fqdn: string): string {
  return fqdn.toLowerCase().replace(/\.$/, '');
}
