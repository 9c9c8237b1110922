import { isIP } from 'node:net';
import type { Logger } from '../api/logger.js';
import type { GroupRecords } from '../../machines/nodeMachine.types.js';
import type { DnsAuthority, RecordsExpectation, RecordsReplacement, UpdateOptions } from './dnsAuthority.js';
import { parseHostPort } from './dnsTransport.js';
import { DnsUpdateClient } from './dnsUpdateClient.js';
import { DnsNotConfiguredError } from '../api/errors.js';
import type { TsigAlgorithm } from './tsig.js';
import { reportErrors } from '../coordination/reportErrors.js';

/** The settings a {@link SettingsDnsAuthority} reads (a node's `Settings` has them all). */
export interface DnsClientSettings {
  readonly dnsServer: string | undefined;
  readonly tsigName: string | undefined;
  readonly tsigSecret: string | undefined;
  readonly tsigAlgorithm: TsigAlgorithm;
  readonly timers: { readonly heartbeatIntervalMs: number };
}

/** Options of {@link SettingsDnsAuthority}. */
export interface SettingsDnsAuthorityOptions {
  /** The settings in force, read at every call: a join brings the TSIG key, an update may change it. */
  readonly settings: () => DnsClientSettings;
  readonly logger?: Logger;
  /** Told of every failed read or update (metrics count them by kind). */
  readonly onError?: (error: unknown) => void;
}

/** Retransmissions after the first attempt of each DNS request. */
const DNS_RETRIES = 1;

/** How long one DNS attempt waits: about one heartbeat, long enough for a loaded server, short enough not to stall the lease. */
export function dnsAttemptTimeoutMs(settings: DnsClientSettings): number {
  return Math.min(2000, Math.max(150, settings.timers.heartbeatIntervalMs));
}

/**
 * The longest one DNS request can take before it fails as unreachable: every attempt's timeout, and one more for
 * resolving the server's name when `dns_server` names its host (an IP address needs no lookup).
 */
export function dnsBudgetMs(settings: DnsClientSettings): number {
  const lookups = settings.dnsServer === undefined || isIP(parseHostPort(settings.dnsServer).host) !== 0 ? 0 : 1;
  return dnsAttemptTimeoutMs(settings) * (DNS_RETRIES + 1 + lookups);
}

/**
 * The DNS authority of a networked node: a `DnsUpdateClient` for the `dns_server` and TSIG key in the settings in
 * force, rebuilt when they change. Until the node has a key (a node about to join gets it from the Primary) every
 * call rejects with `DnsNotConfiguredError` (`AG_DNS_NOT_CONFIGURED`). Timeouts follow the heartbeat interval, so a slow server costs at most
 * about one heartbeat.
 *
 * @example
 * const dns = new SettingsDnsAuthority({ settings: () => node.settings });
 */
export class SettingsDnsAuthority implements DnsAuthority {
  readonly #options: SettingsDnsAuthorityOptions;
  #client: DnsUpdateClient | null = null;
  #clientKey = '';

  constructor(options: SettingsDnsAuthorityOptions) {
    this.#options = options;
  }

  read(fqdn: string): Promise<GroupRecords> {
    return this.#observe(() => this.#current().read(fqdn));
  }

  compareAndSwap(fqdn: string, expectation: RecordsExpectation, replacement: RecordsReplacement, options: UpdateOptions): Promise<void> {
    return this.#observe(() => this.#current().compareAndSwap(fqdn, expectation, replacement, options));
  }

  /** Closes the client; later calls build a new one. */
  close(): void {
    this.#client?.close();
    this.#client = null;
    this.#clientKey = '';
  }

  #observe<T>(call: () => Promise<T>): Promise<T> {
    return reportErrors(call, this.#options.onError);
  }

  #current(): DnsUpdateClient {
    const settings = this.#options.settings();
    const { dnsServer, tsigName, tsigSecret, tsigAlgorithm } = settings;
    if (dnsServer === undefined || tsigName === undefined || tsigSecret === undefined) {
      throw new DnsNotConfiguredError();
    }
    const timeoutMs = dnsAttemptTimeoutMs(settings);
    const key = JSON.stringify([dnsServer, tsigName, tsigSecret, tsigAlgorithm, timeoutMs]);
    if (this.#client === null || key !== this.#clientKey) {
      this.#client?.close();
      this.#client = new DnsUpdateClient({
        server: parseHostPort(dnsServer),
        tsig: { name: tsigName, algorithm: tsigAlgorithm, secret: tsigSecret },
        timeoutMs,
        retries: DNS_RETRIES,
        ...(this.#options.logger === undefined ? {} : { logger: this.#options.logger }),
      });
      this.#clientKey = key;
    }
    return this.#client;
  }
}
