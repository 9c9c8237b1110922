/**
 * One watch of a group's etcd keys, the engine of `EtcdAuthority.watch`: a linearizable read to begin, then an etcd
 * watch on the group's key prefix from the revision after it, re-created after every failure from the last revision
 * it has seen, so that no committed change is missed.
 */
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import type { GroupRecords } from '../../machines/nodeMachine.types.js';
import type { GroupRecordsListener } from '../coordination/groupAuthority.js';

/** The group's keys: the A and TXT equivalents, and the prefix both share (`<prefix>/groups/<fqdn>/`). */
export interface GroupKeys {
  readonly address: Buffer;
  readonly heartbeat: Buffer;
  readonly prefix: Buffer;
}

/** One linearizable read of the group's keys: the values, the store revision they are from, the endpoint that answered. */
export interface GroupSnapshot {
  readonly records: GroupRecords;
  readonly revision: bigint;
  readonly endpoint: number;
}

/** What a group watch needs of the etcd authority that runs it. */
export interface EtcdWatchHost {
  /** How many endpoints there are (one client each, numbered from 0). */
  readonly endpointCount: number;
  /** Reads the group's keys (every endpoint tried within one timeout); rejects with the authority's errors. */
  snapshot(name: string): Promise<GroupSnapshot>;
  /** The client of one endpoint. */
  client(endpoint: number): Etcd3;
  keys(name: string): GroupKeys;
  /** The heartbeat key as a watch event shows it at `revision` (null: deleted): the authority's fencing learns from it. */
  learn(name: string, heartbeat: IKeyValue | null, revision: string): void;
  /** The error to report for a watch on `endpoint` that failed with `error` (the authority's error types, no secrets). */
  failure(name: string, endpoint: number, error: unknown): Error;
  /** How long to wait before restarting after the `failures`-th failure in a row (1, 2, ...), in ms. */
  retryDelayMs(failures: number): number;
}

const sameRecords = (a: GroupRecords | null, b: GroupRecords) => a !== null && a.address === b.address && a.txt === b.txt;

/**
 * Watches one group's keys for an {@link EtcdWatchHost}. It reads the keys once (linearizable) and tells the values,
 * then watches the key prefix from the next revision and tells the values after each batch of events etcd sends (a
 * transaction that wrote both keys arrives in one batch, so a takeover is told as one pair). After a failure of the
 * watch stream (an endpoint down or restarted) it reports the error and watches again from the revision after the
 * last one it saw, on the next endpoint: etcd replays every change since, in order. When etcd cancels the watch
 * (that revision was compacted, permission withdrawn) it begins again with a read, telling the values as they are
 * then. Values equal to the last told are not told again. Internal to `EtcdAuthority`.
 *
 * @example
 * const watch = new EtcdGroupWatch(host, 'app.example.test', (records) => console.log(records.txt));
 * watch.start();
 * await watch.stop();
 */
export class EtcdGroupWatch {
  readonly #host: EtcdWatchHost;
  readonly #name: string;
  readonly #listener: GroupRecordsListener;
  readonly #onError: ((error: unknown) => void) | undefined;
  /** The group's values as of {@link #revision}. */
  #records: GroupRecords | null = null;
  /** The values told last. */
  #told: GroupRecords | null = null;
  /** The newest store revision whose changes to the group are in {@link #records}; null until the first read. */
  #revision: bigint | null = null;
  #endpoint = 0;
  #watcher: Watcher | null = null;
  #timer: NodeJS.Timeout | null = null;
  #failures = 0;
  #stopped = false;
  #stopping: Promise<void> | null = null;

  constructor(host: EtcdWatchHost, name: string, listener: GroupRecordsListener, onError?: (error: unknown) => void) {
    this.#host = host;
    this.#name = name;
    this.#listener = listener;
    this.#onError = onError;
  }

  start(): void {
    this.#begin();
  }

  /** Stops for good: no more calls of the listener; resolves once etcd confirmed the watch cancelled (or it had none). */
  stop(): Promise<void> {
    if (this.#stopping !== null) return this.#stopping;
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#stopping = this.#detach();
    return this.#stopping;
  }

  #begin(): void {
    this.#timer = null;
    if (this.#stopped) return;
    if (this.#revision === null) void this.#resync();
    else this.#attach(this.#revision);
  }

  /** Reads the keys, tells their values, and watches from the revision after the read. */
  async #resync(): Promise<void> {
    let snapshot: GroupSnapshot;
    try {
      snapshot = await this.#host.snapshot(this.#name);
    } catch (error) {
      if (!this.#stopped) this.#fail(error, false);
      return;
    }
    if (this.#stopped) return;
    this.#records = snapshot.records;
    this.#revision = snapshot.revision;
    this.#endpoint = snapshot.endpoint;
    this.#tell();
    this.#attach(snapshot.revision);
  }

  #attach(revision: bigint): void {
    const watcher = this.#host
      .client(this.#endpoint)
      .watch()
      .prefix(this.#host.keys(this.#name).prefix)
      .startRevision((revision + 1n).toString())
      .watcher();
    this.#watcher = watcher;
    const endpoint = this.#endpoint;
    watcher.on('data', (response) => {
      if (this.#watcher === watcher) this.#receive(response);
    });
    watcher.on('connected', () => {
      if (this.#watcher === watcher) this.#failures = 0;
    });
    // The stream broke (the endpoint went away): watch again from the last revision seen.
    watcher.on('disconnected', (error) => {
      if (this.#watcher === watcher) this.#fail(this.#host.failure(this.#name, endpoint, error), true);
    });
    // etcd cancelled the watch (compacted revision, permission): begin again with a read.
    watcher.on('error', (error) => {
      if (this.#watcher === watcher) this.#fail(this.#host.failure(this.#name, endpoint, error), false);
    });
  }

  #receive(response: IWatchResponse): void {
    if (response.events.length === 0) {
      // A progress notification: every change up to the header's revision has been sent.
      this.#advance(BigInt(response.header.revision));
      return;
    }
    const keys = this.#host.keys(this.#name);
    let records = this.#records ?? { address: null, txt: null };
    for (const event of response.events) {
      const value = event.type === 'Put' ? event.kv.value.toString('utf8') : null;
      if (event.kv.key.equals(keys.address)) records = { ...records, address: value };
      if (event.kv.key.equals(keys.heartbeat)) {
        records = { ...records, txt: value };
        this.#host.learn(this.#name, value === null ? null : event.kv, event.kv.mod_revision);
      }
      this.#advance(BigInt(event.kv.mod_revision));
    }
    this.#records = records;
    this.#failures = 0;
    this.#tell();
  }

  #advance(revision: bigint): void {
    if (this.#revision === null || revision > this.#revision) this.#revision = revision;
  }

  #tell(): void {
    const records = this.#records;
    if (records === null || this.#stopped || sameRecords(this.#told, records)) return;
    this.#told = records;
    try {
      this.#listener(records);
    } catch (error) {
      this.#report(error);
    }
  }

  /** Reports `error`, drops the watcher and tries again later on the next endpoint; `resume`: from the last revision seen. */
  #fail(error: unknown, resume: boolean): void {
    void this.#detach();
    if (!resume) this.#revision = null;
    this.#failures += 1;
    this.#endpoint = (this.#endpoint + 1) % this.#host.endpointCount;
    this.#report(error);
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.#begin(), this.#host.retryDelayMs(this.#failures));
    this.#timer.unref();
  }

  #report(error: unknown): void {
    try {
      this.#onError?.(error);
    } catch {
      // The error handler's own failure must not stop the watch.
    }
  }

  /** Cancels the current watcher, if any; never rejects. */
  #detach(): Promise<void> {
    const watcher = this.#watcher;
    this.#watcher = null;
    if (watcher === null) return Promise.resolve();
    return Promise.resolve()
      .then(() => watcher.cancel())
      .catch(() => undefined);
  }
}
