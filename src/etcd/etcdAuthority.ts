/**
 * The group authority on etcd: the group's A and TXT equivalents as two etcd keys, read with one linearizable range
 * request and changed with one etcd transaction whose compares are the expectations.
 */
import { createRequire } from 'node:module';
import type { Etcd3, ICompare, IKeyValue, IOptions, IRequestOp, ITxnResponse } from 'etcd3';
import type { Logger } from '../api/logger.js';
import type { GroupRecords } from '../../machines/nodeMachine.types.js';
import type { GroupRecordsListener } from '../coordination/groupAuthority.js';
import type { DnsAuthority, RecordsExpectation, RecordsReplacement, UpdateOptions } from '../dns/dnsAuthority.js';
import { DnsNotAuthorizedError, DnsPrerequisiteFailedError, DnsUnreachableError } from '../dns/errors.js';
import { EtcdGroupWatch, type EtcdWatchHost, type GroupKeys, type GroupSnapshot } from './etcdGroupWatch.js';
import { RUN_ONCE_POLICY } from './runOncePolicy.js';

/** Options of an {@link EtcdAuthority}. */
export interface EtcdAuthorityOptions {
  /** The etcd members, `host:port` each (https when `tls` is given); one client per endpoint, tried in turn. */
  readonly endpoints: readonly string[];
  /** The key prefix, e.g. `/availability-group`: the group's keys are `<prefix>/groups/<fqdn>/{address,heartbeat}`. */
  readonly prefix: string;
  /** The longest one `read` or `compareAndSwap` takes, all endpoints and the token exchange included. */
  readonly timeoutMs: number;
  /** PEM contents: the CA to trust (the system's when absent), and a client certificate and key (both or neither). */
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
  /** etcd user and password (the password is a secret: it is never logged nor put into an error). */
  readonly auth?: { readonly username: string; readonly password: string };
  readonly logger?: Logger;
}

/** The heartbeat value this client last read or wrote for one group, and the etcd revisions that go with it. */
interface KnownHeartbeat {
  readonly txt: string;
  /** The heartbeat key's `mod_revision` while it held `txt`. */
  readonly modRevision: string;
  /** The store revision the knowledge is from (a later answer replaces an earlier one, never the reverse). */
  readonly asOf: bigint;
}

/** What a caller gets from {@link EtcdAuthority.#run}: the answer, and whether an earlier attempt may have been applied. */
interface RunOutcome<T> {
  readonly answer: T;
  readonly uncertain: boolean;
  /** The endpoint that answered. */
  readonly endpoint: number;
}

type Etcd3Module = typeof import('etcd3');
/** gRPC's call options (a deadline), as the etcd3 client takes them. */
type CallOptions = NonNullable<Parameters<Etcd3['kv']['range']>[1]>;

/** etcd3 (and gRPC with it) is loaded with the first client, not when this module is imported. */
function loadEtcd3(): Etcd3Module {
  return createRequire(import.meta.url)('etcd3') as Etcd3Module;
}

const EXPIRED = Symbol('expired');

/**
 * Lower-case, without the trailing dot: `App.Example.TEST.` and `app.example.test` are one group.
 *
 * @example
 * normaliseFqdn('App.Example.TEST.') // 'app.example.test'
 */
export function normaliseFqdn(fqdn: string): string {
  const name = fqdn.toLowerCase().replace(/\.$/, '');
  if (name === '' || /[/\s]/.test(name)) throw new TypeError(`fqdn must be a domain name (no "/" nor spaces), got ${JSON.stringify(fqdn)}`);
  return name;
}

/**
 * The authority port on etcd (v3 API over gRPC, the `etcd3` client). Keeps the port's promises:
 *
 * - `read` is one linearizable range request over `<prefix>/groups/<fqdn>/` (never a member-local serializable
 *   read): the `address` key's value as the A record, the `heartbeat` key's value as the TXT record (as it is, the
 *   caller parses it), null for a key that does not exist.
 * - `compareAndSwap` is one etcd transaction: all compares, then all writes. Expectation `null` compares the key's
 *   `version` with 0 (it does not exist); a string compares its value, except when the expected heartbeat is the
 *   value this client last read or wrote: then the transaction compares the heartbeat key's `mod_revision` with the
 *   one it had then, which also fails when someone rewrote the same text in between (no ABA). Replacement `null`
 *   deletes the key; a string puts it. A failed compare changes nothing and rejects with
 *   `DnsPrerequisiteFailedError`.
 * - Every call answers or rejects within `timeoutMs`: gRPC deadlines, no retries by the client library nor circuit
 *   breaker; this class tries the next endpoint after a connection failure while time remains, and starts the next
 *   call at the next endpoint when one used up a call's whole deadline (a frozen member). No answer (etcd down,
 *   no quorum, no leader, paused, connection refused) rejects with `DnsUnreachableError` naming the endpoints.
 *   Authentication or permission failures reject with `DnsNotAuthorizedError`.
 * - As with DNS, an unreachable outcome of a compare-and-swap may still have been applied: the caller's next
 *   compare-and-swap tells. After such an outcome this client forgets the heartbeat's revision and compares values.
 * - The keys carry no etcd lease, and `ttl` is ignored: takeover is decided by the rules on the monotonic clock.
 * - `watch` reads the group's keys once (linearizable) and tells their values, then watches the key prefix from the
 *   next revision and tells the values after each batch of events (a transaction's writes arrive together). When
 *   the stream breaks it reports the error and watches again, on the next endpoint, from the revision after the last
 *   one seen (etcd replays what was missed, in order); when etcd cancels it (compacted revision) it begins again
 *   with a read. A watch can lag (a member cut off from its cluster tells nothing new): `read` stays the truth.
 *   `close` stops every watch.
 *
 * @example
 * const etcd = new EtcdAuthority({ endpoints: ['127.0.0.1:2379'], prefix: '/availability-group', timeoutMs: 1000 });
 * const records = await etcd.read('app.example.test');
 * await etcd.compareAndSwap('app.example.test', { address: null, txt: null }, { address: '127.0.0.2', txt: hb }, { ttl: 30 });
 * await etcd.close();
 */
export class EtcdAuthority implements DnsAuthority {
  readonly #endpoints: readonly string[];
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #logger: Logger | undefined;
  readonly #password: string | undefined;
  readonly #clients: readonly Etcd3[];
  readonly #known = new Map<string, KnownHeartbeat>();
  readonly #watches = new Set<EtcdGroupWatch>();
  /** Watches stopped whose cancellation etcd has not confirmed yet: `close` waits for them too. */
  readonly #stopping = new Set<Promise<void>>();
  readonly #watchHost: EtcdWatchHost;
  /** The endpoint that answered last: the first one tried next time. */
  #preferred = 0;
  #closed = false;

  constructor(options: EtcdAuthorityOptions) {
    if (options.endpoints.length === 0) throw new TypeError('endpoints must name at least one etcd member (host:port)');
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) throw new TypeError(`timeoutMs must be a positive number, got ${options.timeoutMs}`);
    if (!options.prefix.startsWith('/') || options.prefix.endsWith('/')) {
      throw new TypeError(`prefix must start with "/" and not end with "/", got ${JSON.stringify(options.prefix)}`);
    }
    this.#endpoints = [...options.endpoints];
    this.#prefix = options.prefix;
    this.#timeoutMs = options.timeoutMs;
    this.#logger = options.logger;
    this.#password = options.auth?.password;
    const { Etcd3: Client } = loadEtcd3();
    const timeoutMs = options.timeoutMs;
    const tls = options.tls;
    const secure = tls !== undefined;
    this.#clients = this.#endpoints.map(
      (endpoint) =>
        new Client({
          hosts: [/^https?:\/\//.test(endpoint) ? endpoint : `${secure ? 'https' : 'http'}://${endpoint}`],
          ...(tls === undefined
            ? {}
            : {
                // gRPC takes null for "the system's CAs"; etcd3's type insists on a Buffer.
                credentials: {
                  rootCertificate: (tls.ca ?? null) as Buffer,
                  ...(tls.cert === undefined ? {} : { certChain: tls.cert }),
                  ...(tls.key === undefined ? {} : { privateKey: tls.key }),
                },
              }),
          ...(options.auth === undefined
            ? {}
            : {
                auth: {
                  username: options.auth.username,
                  password: options.auth.password,
                  callOptions: () => ({ deadline: Date.now() + timeoutMs }),
                },
              }),
          dialTimeout: timeoutMs,
          faultHandling: { host: () => RUN_ONCE_POLICY, global: RUN_ONCE_POLICY },
          grpcOptions: {
            // Each client its own connection, reconnecting quickly once etcd is back (gRPC's default backoff grows to 2 minutes).
            'grpc.use_local_subchannel_pool': 1,
            'grpc.initial_reconnect_backoff_ms': Math.min(1000, timeoutMs),
            'grpc.max_reconnect_backoff_ms': Math.max(1000, timeoutMs),
          },
        }),
    );
    const maxRetryMs = Math.max(1000, timeoutMs);
    this.#watchHost = {
      endpointCount: this.#clients.length,
      snapshot: (name) => this.#readGroup('watch', name),
      client: (endpoint) => this.#clients[endpoint]!,
      keys: (name) => this.#keys(name),
      learn: (name, heartbeat, revision) => this.#learn(name, heartbeat, revision),
      failure: (name, endpoint, error) => this.#watchFailure(name, endpoint, error),
      retryDelayMs: (failures) => Math.min(maxRetryMs, 100 * 2 ** Math.min(failures - 1, 10)),
    };
  }

  async read(fqdn: string): Promise<GroupRecords> {
    const { records } = await this.#readGroup('read', normaliseFqdn(fqdn));
    return records;
  }

  /**
   * Tells `listener` the group's values now, then after every committed change (see the class); `onError` hears of
   * each failure of the watch, which goes on by itself. The returned function stops it.
   */
  watch(fqdn: string, listener: GroupRecordsListener, onError?: (error: unknown) => void): () => void {
    const name = normaliseFqdn(fqdn);
    if (this.#closed) {
      onError?.(new DnsUnreachableError(`etcd client for ${this.#endpoints.join(', ')} is closed.`));
      return () => undefined;
    }
    const watch = new EtcdGroupWatch(this.#watchHost, name, listener, onError);
    this.#watches.add(watch);
    watch.start();
    return () => {
      if (!this.#watches.delete(watch)) return;
      const stopping = watch.stop().finally(() => this.#stopping.delete(stopping));
      this.#stopping.add(stopping);
    };
  }

  /** `options.ttl` is ignored: etcd keys carry no TTL here (see the class). */
  async compareAndSwap(fqdn: string, expectation: RecordsExpectation, replacement: RecordsReplacement, _options: UpdateOptions): Promise<void> {
    const name = normaliseFqdn(fqdn);
    const keys = this.#keys(name);
    const compare: ICompare[] = [];
    if (expectation.address !== undefined) compare.push(this.#compare(keys.address, expectation.address, undefined));
    if (expectation.txt !== undefined) compare.push(this.#compare(keys.heartbeat, expectation.txt, this.#known.get(name)));
    const success: IRequestOp[] = [];
    for (const [key, value] of [
      [keys.address, replacement.address],
      [keys.heartbeat, replacement.txt],
    ] as const) {
      if (value === null) success.push({ request_delete_range: { key } });
      else if (value !== undefined) success.push({ request_put: { key, value: Buffer.from(value) } });
    }
    // When a compare fails, the same transaction reads both keys: what changed, and the heartbeat's new revision.
    const failure: IRequestOp[] = [{ request_range: { key: keys.address } }, { request_range: { key: keys.heartbeat } }];
    let outcome: RunOutcome<ITxnResponse>;
    try {
      outcome = await this.#run('compare-and-swap', name, (client, callOptions) => client.kv.txn({ compare, success, failure }, callOptions));
    } catch (error) {
      // The write may have been applied: its heartbeat revision is unknown, so the next compare is by value.
      this.#known.delete(name);
      throw error;
    }
    const { answer, uncertain } = outcome;
    if (answer.succeeded) {
      this.#wrote(name, replacement, answer.header.revision);
      return;
    }
    const address = answer.responses[0]?.response_range.kvs[0] ?? null;
    const heartbeat = answer.responses[1]?.response_range.kvs[0] ?? null;
    this.#learn(name, heartbeat, answer.header.revision);
    // An attempt that failed on another endpoint may have been applied; its compare then fails here. A heartbeat
    // value is unique to one write, so finding ours tells it was.
    if (uncertain && typeof replacement.txt === 'string' && heartbeat?.value.toString('utf8') === replacement.txt) {
      const addressNow = address === null ? null : address.value.toString('utf8');
      if (replacement.address === undefined || replacement.address === addressNow) {
        this.#logger?.debug({ fqdn: name }, 'etcd compare-and-swap applied by an earlier attempt');
        return;
      }
    }
    throw new DnsPrerequisiteFailedError('ETCD_COMPARE_FAILED', `etcd compare failed for ${name}: the records changed.`);
  }

  /**
   * Stops every watch (waiting up to `timeoutMs` for etcd to confirm), then closes the clients; later calls reject
   * with `DnsUnreachableError`.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const stopping = [...this.#watches].map((watch) => watch.stop()).concat([...this.#stopping]);
    this.#watches.clear();
    if (stopping.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(stopping), new Promise((resolve) => (timer = setTimeout(resolve, this.#timeoutMs)))]);
      clearTimeout(timer);
    }
    for (const client of this.#clients) client.close();
  }

  /** One linearizable range request over the group's prefix: both values, and the store revision they are from. */
  async #readGroup(operation: string, name: string): Promise<GroupSnapshot> {
    const keys = this.#keys(name);
    const rangeEnd = Buffer.from(keys.prefix);
    rangeEnd[rangeEnd.length - 1]! += 1; // the prefix ends with "/": its successor "0" cannot overflow
    const { answer, endpoint } = await this.#run(operation, name, (client, callOptions) =>
      client.kv.range({ key: keys.prefix, range_end: rangeEnd }, callOptions),
    );
    const address = answer.kvs.find((kv) => kv.key.equals(keys.address)) ?? null;
    const heartbeat = answer.kvs.find((kv) => kv.key.equals(keys.heartbeat)) ?? null;
    this.#learn(name, heartbeat, answer.header.revision);
    return {
      records: { address: address === null ? null : address.value.toString('utf8'), txt: heartbeat === null ? null : heartbeat.value.toString('utf8') },
      revision: BigInt(answer.header.revision),
      endpoint,
    };
  }

  #keys(name: string): GroupKeys {
    const base = `${this.#prefix}/groups/${name}`;
    return { address: Buffer.from(`${base}/address`), heartbeat: Buffer.from(`${base}/heartbeat`), prefix: Buffer.from(`${base}/`) };
  }

  /** A failed watch stream as the port's errors: not authorised, or unreachable (the message without the password). */
  #watchFailure(name: string, endpoint: number, error: unknown): Error {
    if (isAuthFailure(error)) return this.#notAuthorized(`watch of ${name}`, this.#endpoints[endpoint]!, error);
    return new DnsUnreachableError(`etcd watch of ${name} at ${this.#endpoints[endpoint]} failed: ${this.#scrub(messageOf(error))}`, { rcode: 'ETCD_UNREACHABLE' });
  }

  #compare(key: Buffer, expected: string | null, known: KnownHeartbeat | undefined): ICompare {
    if (expected === null) return { key, target: 'Version', result: 'Equal', version: 0 };
    if (known !== undefined && known.txt === expected) return { key, target: 'Mod', result: 'Equal', mod_revision: known.modRevision };
    return { key, target: 'Value', result: 'Equal', value: Buffer.from(expected) };
  }

  /** Remembers the heartbeat as an answer at store revision `asOf` shows it, unless a later answer is known. */
  #learn(name: string, heartbeat: IKeyValue | null, asOf: string): void {
    const revision = BigInt(asOf);
    const known = this.#known.get(name);
    if (known !== undefined && known.asOf > revision) return;
    if (heartbeat === null) this.#known.delete(name);
    else this.#known.set(name, { txt: heartbeat.value.toString('utf8'), modRevision: heartbeat.mod_revision, asOf: revision });
  }

  #wrote(name: string, replacement: RecordsReplacement, revision: string): void {
    if (replacement.txt === undefined) return; // the heartbeat key is untouched: what is known of it stays true
    if (replacement.txt === null) {
      this.#known.delete(name);
      return;
    }
    this.#known.set(name, { txt: replacement.txt, modRevision: revision, asOf: BigInt(revision) });
  }

  /**
   * Runs one request: on the preferred endpoint first, then on the others after a connection failure, all within
   * one deadline of `timeoutMs` (on the monotonic clock; gRPC gets the same deadline so the request ends too).
   */
  async #run<T>(operation: string, name: string, call: (client: Etcd3, options: CallOptions) => Promise<T>): Promise<RunOutcome<T>> {
    if (this.#closed) throw new DnsUnreachableError(`etcd client for ${this.#endpoints.join(', ')} is closed.`);
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<typeof EXPIRED>((resolve) => {
      timer = setTimeout(() => resolve(EXPIRED), this.#timeoutMs);
    });
    let lastError: unknown;
    let attempts = 0;
    try {
      for (let tried = 0; tried < this.#clients.length; tried++) {
        const index = (this.#preferred + tried) % this.#clients.length;
        const remaining = this.#timeoutMs - (performance.now() - started);
        if (remaining <= 0) break;
        attempts += 1;
        const request = call(this.#clients[index]!, { deadline: Date.now() + remaining });
        request.catch(() => undefined); // settles after the race is lost: nobody waits for it
        let answer: T | typeof EXPIRED;
        try {
          answer = await Promise.race([request, expired]);
        } catch (error) {
          if (isAuthFailure(error)) throw this.#notAuthorized(operation, this.#endpoints[index]!, error);
          lastError = error;
          this.#logger?.debug({ fqdn: name, operation, endpoint: this.#endpoints[index], error: this.#scrub(messageOf(error)) }, 'etcd request failed');
          if (isDeadline(error)) {
            this.#avoid(index);
            break;
          }
          continue;
        }
        if (answer === EXPIRED) {
          this.#avoid(index);
          break;
        }
        this.#preferred = index;
        this.#logger?.debug({ fqdn: name, operation, endpoint: this.#endpoints[index], attempts, ms: performance.now() - started }, 'etcd answered');
        return { answer, uncertain: attempts > 1, endpoint: index };
      }
    } finally {
      clearTimeout(timer);
    }
    const reason = lastError === undefined || isDeadline(lastError) ? `no answer within ${this.#timeoutMs} ms` : this.#scrub(messageOf(lastError));
    throw new DnsUnreachableError(
      `etcd unreachable at ${this.#endpoints.join(', ')} (${operation} of ${name}, ${attempts} attempt${attempts === 1 ? '' : 's'}): ${reason}`,
      { rcode: 'ETCD_UNREACHABLE' },
    );
  }

  /**
   * The endpoint at `index` used up a call's whole deadline: the next call starts at the next endpoint. A member that
   * is frozen (or cut off) keeps its TCP connection and gRPC channel looking ready, so every call to it waits out
   * its deadline; without moving on, a client that preferred it would never reach the quorum the others still form.
   */
  #avoid(index: number): void {
    if (this.#preferred === index) this.#preferred = (index + 1) % this.#clients.length;
  }

  #notAuthorized(operation: string, endpoint: string, error: unknown): DnsNotAuthorizedError {
    const result = new DnsNotAuthorizedError('ETCD_AUTH');
    result.message = `etcd at ${endpoint} refused ${operation}: ${this.#scrub(messageOf(error))}`;
    return result;
  }

  /** A message with the password cut out, should a server or library ever echo it. */
  #scrub(message: string): string {
    return this.#password === undefined || this.#password === '' ? message : message.split(this.#password).join('***');
  }
}

/** The error's message without gRPC's empty trailer (`Resolution note:` with nothing after it). */
function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\.?\s*Resolution note:\s*$/, '');
}

const AUTH_ERRORS: ReadonlySet<string> = new Set([
  'EtcdAuthenticationFailedError',
  'EtcdPermissionDeniedError',
  'EtcdUserNotFoundError',
  'EtcdRoleNotGrantedError',
  'GRPCUnauthenticatedError',
]);

/** etcd's own words for an authentication or permission failure the library has no class for (no user given, ...). */
const AUTH_MESSAGES = /etcdserver: (user name is empty|user name not found|authentication failed|permission denied|invalid auth token|role is not granted)/;

/** etcd refused who we are or what we asked (the library's error classes, by name: the module loads lazily). */
function isAuthFailure(error: unknown): boolean {
  return error instanceof Error && (AUTH_ERRORS.has(error.constructor.name) || AUTH_MESSAGES.test(error.message));
}

function isDeadline(error: unknown): boolean {
  return error instanceof Error && error.constructor.name === 'GRPCDeadlineExceededError';
}
