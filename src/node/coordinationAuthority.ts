import type { GroupRecords } from '../../machines/nodeMachine.types.js';
import type { Logger } from '../api/logger.js';
import type { GroupAuthority } from '../coordination/groupAuthority.js';
import type { DnsAuthority, RecordsExpectation, RecordsReplacement, UpdateOptions } from '../dns/dnsAuthority.js';
import { SettingsDnsAuthority } from '../dns/settingsDnsAuthority.js';
import { DnsMirror } from '../etcd/dnsMirror.js';
import { SettingsEtcdAuthority } from '../etcd/settingsEtcdAuthority.js';
import type { Settings } from './settings.js';
import { reportErrors } from '../coordination/reportErrors.js';

/** Options of {@link CoordinationAuthority}. */
export interface CoordinationAuthorityOptions {
  /** The settings in force, read at every call: `coordination` picks the authority (a join may bring it). */
  readonly settings: () => Settings;
  readonly logger: Logger;
  /** Told of every failed read or compare-and-swap of the authority (metrics count them by kind); not of DNS mirror writes. */
  readonly onError?: (error: unknown) => void;
}

/**
 * The group authority a node builds from its settings when it is given no `ports.dns`: with `coordination: "dns"`
 * the RFC 2136 + TSIG client of `dns_server` ({@link SettingsDnsAuthority}); with `coordination: "etcd"` the etcd
 * client of `etcd_endpoints` ({@link SettingsEtcdAuthority}), wrapped in a {@link DnsMirror} that keeps the DNS A
 * record of the group name on the acting Primary whenever `dns_server` and the TSIG key are set too. The choice is
 * made at each call from the settings in force, so a node that joins takes the group's coordination from its
 * Primary; each client is built on first use. `close()` closes what was built. `watch` is there while the
 * authority in force has one (etcd: yes; DNS: no), read at each access.
 *
 * @example
 * const authority = new CoordinationAuthority({ settings: () => node.settings, logger });
 * await authority.read('app.example.test');
 */
export class CoordinationAuthority implements DnsAuthority {
  readonly #options: CoordinationAuthorityOptions;
  #dns: SettingsDnsAuthority | null = null;
  #etcd: { readonly etcd: SettingsEtcdAuthority; readonly mirrorDns: SettingsDnsAuthority; readonly mirror: DnsMirror } | null = null;

  constructor(options: CoordinationAuthorityOptions) {
    this.#options = options;
  }

  read(fqdn: string): Promise<GroupRecords> {
    return this.#observe(() => this.#current().read(fqdn));
  }

  /** The watch of the authority in force (see {@link GroupAuthority.watch}), or undefined when it has none. */
  get watch(): GroupAuthority['watch'] {
    const current = this.#current();
    const watch = current.watch;
    return watch === undefined ? undefined : (fqdn, listener, onError) => watch.call(current, fqdn, listener, onError);
  }

  compareAndSwap(fqdn: string, expectation: RecordsExpectation, replacement: RecordsReplacement, options: UpdateOptions): Promise<void> {
    return this.#observe(() => this.#current().compareAndSwap(fqdn, expectation, replacement, options));
  }

  /**
   * Builds the client of the coordination in force now, before the node acts: with etcd this loads the etcd client
   * library (gRPC), a synchronous second or more on a busy machine. Paid inside the first compare-and-swap, that
   * time counts against the lease the write gives (its send time is stamped first), and a new group's Primary
   * lost its lease at its first heartbeat. A setting that cannot make a client is left to the first call to report.
   *
   * @example
   * authority.prepare(); // before node.start()
   */
  prepare(): void {
    try {
      this.#current();
      this.#etcd?.etcd.prepare();
    } catch {
      // The first read or write reports it, as without prepare().
    }
  }

  /** Closes every client built (after the DNS mirror write in flight, if any); later calls build new ones. */
  async close(): Promise<void> {
    const dns = this.#dns;
    const etcd = this.#etcd;
    this.#dns = null;
    this.#etcd = null;
    dns?.close();
    if (etcd !== null) {
      await etcd.mirror.settled();
      etcd.mirrorDns.close();
      await etcd.etcd.close();
    }
  }

  #observe<T>(call: () => Promise<T>): Promise<T> {
    return reportErrors(call, this.#options.onError);
  }

  #current(): DnsAuthority {
    const { settings, logger } = this.#options;
    if (settings().coordination !== 'etcd') {
      this.#dns ??= new SettingsDnsAuthority({ settings, logger: logger.child({ component: 'dns' }) });
      return this.#dns;
    }
    if (this.#etcd === null) {
      const etcd = new SettingsEtcdAuthority({ settings, logger: logger.child({ component: 'etcd' }) });
      const mirrorDns = new SettingsDnsAuthority({ settings, logger: logger.child({ component: 'dns-mirror' }) });
      const mirror = new DnsMirror({
        authority: etcd,
        dns: mirrorDns,
        isDnsConfigured: () => {
          const current = settings();
          return current.dnsServer !== undefined && current.tsigName !== undefined && current.tsigSecret !== undefined;
        },
        address: () => settings().externalIpv4Address,
        logger: logger.child({ component: 'dns-mirror' }),
      });
      this.#etcd = { etcd, mirrorDns, mirror };
    }
    return this.#etcd.mirror;
  }
}
