import { performance } from 'node:perf_hooks';
import type { GroupRecords } from '../../machines/nodeMachine.types.js';
import type { Logger } from '../api/logger.js';
import type { DnsAuthority, RecordsExpectation, RecordsReplacement, UpdateOptions } from '../dns/dnsAuthority.js';

/** Options of {@link DnsMirror}. */
export interface DnsMirrorOptions {
  /** The authority that decides (etcd): every read and compare-and-swap goes to it. */
  readonly authority: DnsAuthority;
  /** The DNS authority whose A record follows the acting Primary (best effort). */
  readonly dns: DnsAuthority;
  /** Whether DNS is configured now (`dns_server` and the TSIG key); while it is not, nothing is written to it. Default: always. */
  readonly isDnsConfigured?: () => boolean;
  /**
   * This node's address: when the first heartbeat write for a name comes before any address write (a Primary that
   * resumed after a restart), the A record is set to it. Without it, only address writes are mirrored.
   */
  readonly address?: () => string;
  readonly logger?: Logger;
  /** The shortest time between two warnings of failed DNS writes, in ms (default 60 000); the others are counted. */
  readonly warnIntervalMs?: number;
  /** The monotonic clock of the warning rate limit, in ms (default `performance.now`). */
  readonly now?: () => number;
}

/** The A record the mirror still has to write. */
interface MirrorTarget {
  readonly fqdn: string;
  readonly address: string;
  readonly ttl: number;
}

const canonical = (fqdn: string) => fqdn.toLowerCase().replace(/\.$/, '');

/**
 * A group authority (etcd) whose acting Primary also keeps the DNS A record of the group name pointing at itself,
 * for clients that find the service through DNS. Reads and compare-and-swaps go to the authority alone and settle
 * with its outcome. After a successful compare-and-swap that writes `address` (create, takeover), the A record is
 * replaced on DNS (no prerequisite); a failed DNS write is tried again after each later successful heartbeat write
 * until one succeeds. A write that deletes the address leaves DNS alone. DNS writes start after the authority's
 * answer and never delay or fail it; at most one is in flight; failures are logged at warn, rate-limited.
 *
 * @example
 * const authority = new DnsMirror({ authority: etcd, dns: new SettingsDnsAuthority({ settings }), logger });
 */
export class DnsMirror implements DnsAuthority {
  readonly #options: DnsMirrorOptions;
  /** The A record still to write, or null when DNS is known to be right (or deliberately left alone). */
  #target: MirrorTarget | null = null;
  /** Names whose A record this mirror has decided on (written, or left alone after a delete). */
  readonly #decided = new Set<string>();
  #inFlight: Promise<void> | null = null;
  #lastWarnAt = Number.NEGATIVE_INFINITY;
  #suppressed = 0;
  #failing = false;

  constructor(options: DnsMirrorOptions) {
    this.#options = options;
  }

  read(fqdn: string): Promise<GroupRecords> {
    return this.#options.authority.read(fqdn);
  }

  async compareAndSwap(fqdn: string, expectation: RecordsExpectation, replacement: RecordsReplacement, options: UpdateOptions): Promise<void> {
    await this.#options.authority.compareAndSwap(fqdn, expectation, replacement, options);
    const name = canonical(fqdn);
    if (typeof replacement.address === 'string') {
      this.#target = { fqdn, address: replacement.address, ttl: options.ttl };
      this.#decided.add(name);
    } else if (replacement.address === null) {
      // The group's address is gone (leave, dissolve): DNS is left as it is.
      if (this.#target !== null && canonical(this.#target.fqdn) === name) this.#target = null;
      this.#decided.add(name);
      return;
    } else if (typeof replacement.txt === 'string' && !this.#decided.has(name) && this.#options.address !== undefined) {
      // A heartbeat before any address write: this node is the Primary and resumed; its address is the group's.
      this.#target = { fqdn, address: this.#options.address(), ttl: options.ttl };
      this.#decided.add(name);
    } else if (typeof replacement.txt !== 'string') {
      return;
    }
    this.#kick();
  }

  /** Resolves once no DNS write is in flight (tests and `close` wait on it). */
  async settled(): Promise<void> {
    while (this.#inFlight !== null) await this.#inFlight;
  }

  /** Whether an A record is still to be written (a failed write waits for the next heartbeat write). */
  get pending(): boolean {
    return this.#target !== null;
  }

  #kick(): void {
    if (this.#inFlight !== null || this.#target === null) return;
    if (!(this.#options.isDnsConfigured?.() ?? true)) return;
    const target = this.#target;
    this.#inFlight = this.#write(target).finally(() => {
      this.#inFlight = null;
      // A newer address arrived while this write was under way: write it now rather than at the next heartbeat.
      if (this.#target !== null && this.#target !== target) this.#kick();
    });
  }

  async #write(target: MirrorTarget): Promise<void> {
    try {
      await this.#options.dns.compareAndSwap(target.fqdn, {}, { address: target.address }, { ttl: target.ttl });
      if (this.#target === target) this.#target = null;
      if (this.#failing) this.#options.logger?.info({ fqdn: target.fqdn, address: target.address, suppressedWarnings: this.#suppressed }, 'DNS A record mirrored again');
      this.#failing = false;
      this.#suppressed = 0;
    } catch (error) {
      this.#failing = true;
      this.#warn(target, error);
    }
  }

  #warn(target: MirrorTarget, error: unknown): void {
    const now = (this.#options.now ?? (() => performance.now()))();
    if (now - this.#lastWarnAt < (this.#options.warnIntervalMs ?? 60_000)) {
      this.#suppressed += 1;
      return;
    }
    this.#lastWarnAt = now;
    const { code, message } = error as { code?: unknown; message?: unknown };
    this.#options.logger?.warn(
      { fqdn: target.fqdn, address: target.address, code: typeof code === 'string' ? code : undefined, reason: typeof message === 'string' ? message : String(error), suppressed: this.#suppressed },
      'could not mirror the group address to DNS; trying again at the next heartbeat (etcd decides, DNS only follows)',
    );
    this.#suppressed = 0;
  }
}
