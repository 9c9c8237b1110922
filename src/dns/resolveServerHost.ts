/**
 * The `dns_server` host as an address to send to: an IP address as it is, a host name through the system resolver
 * (`node:dns` lookup), bounded in time, and failing only as `DnsUnreachableError`.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { DnsUnreachableError } from './errors.js';

/** Resolves a host name to one address (IPv4 or IPv6); rejects when it does not resolve. */
export type HostLookup = (host: string) => Promise<string>;

/** Options of {@link resolveServerHost}. */
export interface ResolveServerHostOptions {
  /** How long to wait for the resolver; a slower answer counts as a failure. */
  readonly timeoutMs: number;
  /** Stops waiting (the DNS client was closed). */
  readonly signal?: AbortSignal;
  /** The resolver (default: `node:dns` lookup, the system's resolver: /etc/hosts, then DNS). */
  readonly lookup?: HostLookup;
}

/** Lookups of the system resolver in flight, by host: callers share one, so a resolver that hangs ties up one thread per name, not one per call. */
const inFlight = new Map<string, Promise<string>>();

const systemLookup: HostLookup = (host) => {
  const known = inFlight.get(host);
  if (known !== undefined) return known;
  const started = lookup(host).then((answer) => answer.address);
  inFlight.set(host, started);
  const forget = () => {
    if (inFlight.get(host) === started) inFlight.delete(host);
  };
  started.then(forget, forget);
  return started;
};

/**
 * The address to reach `host` at: `host` itself when it is an IP address (brackets of an IPv6 literal removed),
 * otherwise what the resolver answers within `timeoutMs`. Rejects with `DnsUnreachableError` naming the host when the
 * name does not resolve, the resolver is slower than `timeoutMs`, or `signal` aborts; it never leaves a timer or a
 * listener behind. A name is resolved at every call, so a server that moves to another address is followed.
 *
 * @example
 * await resolveServerHost('ns1.example.com', { timeoutMs: 1000 }) // '192.0.2.53'
 * await resolveServerHost('127.0.0.1', { timeoutMs: 1000 }) // '127.0.0.1', without a lookup
 */
export function resolveServerHost(host: string, options: ResolveServerHostOptions): Promise<string> {
  const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(literal) !== 0) return Promise.resolve(literal);
  const { timeoutMs, signal } = options;
  const resolve = options.lookup ?? systemLookup;
  return new Promise<string>((done, fail) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const onAbort = () => finish(() => fail(new DnsUnreachableError(`DNS server ${host}: the client was closed while resolving its name.`)));
    const timer = setTimeout(() => finish(() => fail(new DnsUnreachableError(`DNS server ${host}: its name did not resolve within ${timeoutMs} ms.`))), timeoutMs);
    // The lookup itself keeps the process alive while it runs; its deadline alone must not hold a stopping process.
    timer.unref();
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let started: Promise<string>;
    try {
      started = resolve(host);
    } catch (error) {
      return finish(() => fail(notResolved(host, error)));
    }
    started.then(
      (address) =>
        finish(() =>
          isIP(address) !== 0 ? done(address) : fail(new DnsUnreachableError(`DNS server ${host}: its name resolved to ${JSON.stringify(address)}, not an IP address.`)),
        ),
      (error: unknown) => finish(() => fail(notResolved(host, error))),
    );
  });
}

function notResolved(host: string, error: unknown): DnsUnreachableError {
  const code = (error as NodeJS.ErrnoException | null)?.code ?? (error as Error | null)?.message ?? String(error);
  return new DnsUnreachableError(`DNS server ${host}: its name does not resolve (${code}).`, { cause: error });
}
