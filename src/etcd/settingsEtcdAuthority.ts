import { readFileSync } from 'node:fs';
import type { Logger } from '../api/logger.js';
import type { GroupRecords } from '../../machines/nodeMachine.types.js';
import type { GroupRecordsListener } from '../coordination/groupAuthority.js';
import type { DnsAuthority, RecordsExpectation, RecordsReplacement, UpdateOptions } from '../dns/dnsAuthority.js';
import { DnsNotConfiguredError } from '../dns/errors.js';
import { dnsBudgetMs } from '../dns/settingsDnsAuthority.js';
import { EtcdAuthority, type EtcdAuthorityOptions } from './etcdAuthority.js';
import { reportErrors } from '../coordination/reportErrors.js';

/** The settings a {@link SettingsEtcdAuthority} reads (a node's `Settings` has them all). */
export interface EtcdClientSettings {
  readonly etcdEndpoints?: readonly string[] | undefined;
  readonly etcdPrefix: string;
  readonly etcdCaFile?: string | undefined;
  readonly etcdCertFile?: string | undefined;
  readonly etcdKeyFile?: string | undefined;
  readonly etcdUsername?: string | undefined;
  readonly etcdPasswordFile?: string | undefined;
  readonly timers: { readonly heartbeatIntervalMs: number };
}

/** Options of {@link SettingsEtcdAuthority}. */
export interface SettingsEtcdAuthorityOptions {
  /** The settings in force, read at every call: a change of endpoints, prefix, TLS or user builds a new client. */
  readonly settings: () => EtcdClientSettings;
  readonly logger?: Logger;
  /** Told of every failed read or compare-and-swap (metrics count them by kind). */
  readonly onError?: (error: unknown) => void;
}

/**
 * How long one etcd request may take: the whole budget of one DNS request to a server given by address (every
 * attempt's timeout, see `dnsBudgetMs`), so that what waits on the authority (a peer's answer, `agctl failover`)
 * waits as long for etcd as for DNS. About two heartbeats, between 300 ms and 4 s.
 *
 * @example
 * etcdTimeoutMs({ ...settings, timers: { heartbeatIntervalMs: 500 } }) // 1000
 */
export function etcdTimeoutMs(settings: Pick<EtcdClientSettings, 'timers'>): number {
  return dnsBudgetMs({ dnsServer: undefined, tsigName: undefined, tsigSecret: undefined, tsigAlgorithm: 'hmac-sha256', timers: settings.timers });
}

/** One watch through a {@link SettingsEtcdAuthority}: on the client in force, moved to each new client. */
interface SettingsWatch {
  readonly fqdn: string;
  readonly listener: GroupRecordsListener;
  readonly onError: ((error: unknown) => void) | undefined;
  /** The values told last (a new client's watch begins with the values as they are: told only if they differ). */
  told: GroupRecords | null;
  /** The client it watches on, and how to stop that watch; null while it has none (etcd not configured yet). */
  client: EtcdAuthority | null;
  stop: (() => void) | null;
}

/** Reads one PEM or password file; a file that cannot be read fails naming the setting and the path, never content. */
function readSettingFile(field: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new DnsNotConfiguredError(`${field} cannot be read: ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
  }
}

/**
 * The etcd authority of a networked node: an {@link EtcdAuthority} for the `etcd_endpoints`, `etcd_prefix`, TLS
 * files and user in the settings in force, rebuilt (its files read again) when one of them changes or the heartbeat
 * interval changes the timeout. Without endpoints every call rejects with `DnsNotConfiguredError`; so does a TLS
 * or password file that cannot be read (the message names the setting). A watch moves to each new client (the new
 * one begins with the values as they are, told only when they differ from the last told); while there is no client
 * it waits, its `onError` told why.
 *
 * @example
 * const authority = new SettingsEtcdAuthority({ settings: () => node.settings, logger });
 * const records = await authority.read('app.example.test');
 * await authority.close();
 */
export class SettingsEtcdAuthority implements DnsAuthority {
  readonly #options: SettingsEtcdAuthorityOptions;
  #client: EtcdAuthority | null = null;
  #clientKey = '';
  readonly #watches = new Set<SettingsWatch>();

  constructor(options: SettingsEtcdAuthorityOptions) {
    this.#options = options;
  }

  read(fqdn: string): Promise<GroupRecords> {
    return this.#observe(() => this.#current().read(fqdn));
  }

  compareAndSwap(fqdn: string, expectation: RecordsExpectation, replacement: RecordsReplacement, options: UpdateOptions): Promise<void> {
    return this.#observe(() => this.#current().compareAndSwap(fqdn, expectation, replacement, options));
  }

  /**
   * Builds the client for the settings in force now (loading the etcd client library), so that the first call does
   * not pay for it; throws what the first call would reject with when the settings cannot make a client.
   *
   * @example
   * etcd.prepare(); // before the node starts
   */
  prepare(): void {
    this.#current();
  }

  /**
   * Watches the group on the client in force (see the class); the returned function stops it.
   *
   * @example
   * const stop = authority.watch('app.example.test', (records) => console.log(records.txt));
   */
  watch(fqdn: string, listener: GroupRecordsListener, onError?: (error: unknown) => void): () => void {
    const watch: SettingsWatch = { fqdn, listener, onError, told: null, client: null, stop: null };
    this.#watches.add(watch);
    try {
      this.#current();
    } catch (error) {
      onError?.(error);
    }
    return () => {
      this.#watches.delete(watch);
      watch.stop?.();
      watch.stop = null;
      watch.client = null;
    };
  }

  /** Closes the client and stops its watches (a later call builds a new client, and moves the watches to it). */
  async close(): Promise<void> {
    for (const watch of this.#watches) {
      watch.stop?.();
      watch.stop = null;
      watch.client = null;
    }
    const client = this.#client;
    this.#client = null;
    this.#clientKey = '';
    await client?.close();
  }

  #observe<T>(call: () => Promise<T>): Promise<T> {
    return reportErrors(call, this.#options.onError);
  }

  #current(): EtcdAuthority {
    const settings = this.#options.settings();
    const endpoints = settings.etcdEndpoints ?? [];
    if (endpoints.length === 0) throw new DnsNotConfiguredError('No etcd endpoints: etcd_endpoints must name at least one etcd member (host:port).');
    const timeoutMs = etcdTimeoutMs(settings);
    const { etcdPrefix, etcdCaFile, etcdCertFile, etcdKeyFile, etcdUsername, etcdPasswordFile } = settings;
    const key = JSON.stringify([endpoints, etcdPrefix, etcdCaFile, etcdCertFile, etcdKeyFile, etcdUsername, etcdPasswordFile, timeoutMs]);
    if (this.#client !== null && key === this.#clientKey) return this.#attachWatches(this.#client);
    const old = this.#client;
    this.#client = null;
    this.#clientKey = '';
    void old?.close();
    const tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
    if (etcdCaFile !== undefined) tls.ca = readSettingFile('etcd_ca_file', etcdCaFile);
    if (etcdCertFile !== undefined) tls.cert = readSettingFile('etcd_cert_file', etcdCertFile);
    if (etcdKeyFile !== undefined) tls.key = readSettingFile('etcd_key_file', etcdKeyFile);
    let auth: EtcdAuthorityOptions['auth'];
    if (etcdUsername !== undefined) {
      if (etcdPasswordFile === undefined) throw new DnsNotConfiguredError('etcd_password_file is required with etcd_username.');
      // Without the trailing newline(s) an editor or `echo` leaves, as for the other secret files.
      auth = { username: etcdUsername, password: readSettingFile('etcd_password_file', etcdPasswordFile).toString('utf8').replace(/[\r\n]+$/, '') };
    }
    this.#client = new EtcdAuthority({
      endpoints,
      prefix: etcdPrefix,
      timeoutMs,
      ...(Object.keys(tls).length === 0 ? {} : { tls }),
      ...(auth === undefined ? {} : { auth }),
      ...(this.#options.logger === undefined ? {} : { logger: this.#options.logger }),
    });
    this.#clientKey = key;
    return this.#attachWatches(this.#client);
  }

  /** Moves every watch not yet on `client` to it. */
  #attachWatches(client: EtcdAuthority): EtcdAuthority {
    for (const watch of this.#watches) {
      if (watch.client === client) continue;
      watch.stop?.();
      watch.client = client;
      watch.stop = client.watch(
        watch.fqdn,
        (records) => {
          if (watch.client !== client || (watch.told !== null && watch.told.address === records.address && watch.told.txt === records.txt)) return;
          watch.told = records;
          watch.listener(records);
        },
        (error) => {
          if (watch.client === client) watch.onError?.(error);
        },
      );
    }
    return client;
  }
}
