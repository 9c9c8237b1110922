import type { GroupRecords } from '../../machines/nodeMachine.types.js';
import type { DnsAuthority, RecordsExpectation, RecordsReplacement, UpdateOptions } from './dnsAuthority.js';
import { DnsPrerequisiteFailedError, DnsUnreachableError } from './errors.js';

/** One name's records in the in-memory authority. */
interface StoredRecords {
  address: string | null;
  txt: string | null;
  ttl: number;
}

/**
 * A DNS authority held in memory, with the RFC 2136 semantics the nodes rely on: reads see the last committed update,
 * a compare-and-swap is atomic and checks every expectation first. Several nodes of one process share one instance.
 * `setReachable(false)` makes every call reject with `DnsUnreachableError`, to test outages.
 *
 * @example
 * const dns = new InMemoryDnsAuthority();
 * const node = createNode(settings, { dns, peer: network.transport() });
 */
export class InMemoryDnsAuthority implements DnsAuthority {
  readonly #names = new Map<string, StoredRecords>();
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
  }

  #assertReachable(): void {
    if (!this.#reachable) throw new DnsUnreachableError('The in-memory DNS authority is set unreachable.');
  }
}

/** DNS names compare case-insensitively and with or without the trailing dot. */
function canonicalName(fqdn: string): string {
  return fqdn.toLowerCase().replace(/\.$/, '');
}
