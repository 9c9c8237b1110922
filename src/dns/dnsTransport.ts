/**
 * One DNS exchange on the wire: UDP first, TCP when the answer comes back truncated (or the request is too large
 * for a datagram), with a timeout per attempt and a bounded number of retransmissions.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, isIPv6, type Socket as TcpSocket } from 'node:net';
import { DnsError, DnsUnreachableError } from './errors.js';
import { resolveServerHost, type HostLookup } from './resolveServerHost.js';

/** Where the server is. */
export interface DnsServerAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Splits `host:port` (the `dns_server` setting, already validated) into its parts; an IPv6 host loses its brackets
 * (`[::1]:53`). A host name stays a name: {@link exchange} resolves it.
 *
 * @example
 * parseHostPort('127.0.0.1:5353') // { host: '127.0.0.1', port: 5353 }
 */
export function parseHostPort(value: string): DnsServerAddress {
  const at = value.lastIndexOf(':');
  const host = value.slice(0, at);
  return { host: host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host, port: Number(value.slice(at + 1)) };
}

/** What to do with one received message: a parsed result to finish with, or undefined to ignore it and wait on. */
export type AcceptResponse<T> = (bytes: Buffer) => { readonly result: T; readonly truncated: boolean } | undefined;

export interface ExchangeOptions<T> {
  readonly server: DnsServerAddress;
  readonly timeoutMs: number;
  /** Retransmissions after the first attempt, per transport. */
  readonly retries: number;
  readonly accept: AcceptResponse<T>;
  readonly signal?: AbortSignal;
  /** How a host name is resolved (default: the system resolver); tests pass one that hangs or fails. */
  readonly lookup?: HostLookup;
}

/** The result of an exchange, with how it went (a retransmitted UPDATE may have been applied by an earlier copy). */
export interface ExchangeResult<T> {
  readonly result: T;
  readonly attempts: number;
  readonly tcp: boolean;
}

/** Requests above this size go straight to TCP: the largest UDP payload that is safe everywhere (DNS flag day 2020). */
const MAX_UDP_REQUEST = 1232;

/**
 * Sends `request` and resolves with the first response `accept` takes. A host name is resolved first, waiting at most
 * `timeoutMs`. Rejects with `DnsUnreachableError` on timeout after every attempt, on a name that does not resolve, a
 * port outside 1-65535, a refused connection, any socket error, or when aborted: never with another error, and
 * never by throwing from a timer or a socket callback. Every socket, timer and abort listener of the exchange is
 * released before it settles, however it ends. An `accept` that throws is treated as ignoring that message.
 *
 * @example
 * const { result } = await exchange(bytes, { server, timeoutMs: 1000, retries: 2, accept: (b) => ({ result: b, truncated: false }) });
 */
export async function exchange<T>(request: Buffer, options: ExchangeOptions<T>): Promise<ExchangeResult<T>> {
  const { server } = options;
  try {
    if (!Number.isInteger(server.port) || server.port < 1 || server.port > 65535) {
      throw unreachable(server, `the port must be from 1 to 65535 (got ${server.port})`);
    }
    if (options.signal?.aborted) throw unreachable(server, 'the client was closed');
    const address = await resolveServerHost(server.host, {
      timeoutMs: options.timeoutMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.lookup === undefined ? {} : { lookup: options.lookup }),
    });
    const target = { ...options, accept: guarded(options.accept) };
    if (request.length <= MAX_UDP_REQUEST) {
      const udp = await exchangeUdp(request, address, target);
      if (!udp.truncated) return { result: udp.result, attempts: udp.attempts, tcp: false };
    }
    const tcp = await exchangeTcp(request, address, target);
    return { result: tcp.result, attempts: tcp.attempts, tcp: true };
  } catch (error) {
    if (error instanceof DnsError) throw error;
    throw unreachable(server, `the exchange failed (${errorCode(error)})`, error);
  }
}

/** `accept`, with a throw counted as ignoring the message (a malformed answer must not end the exchange by throwing in a socket callback). */
function guarded<T>(accept: AcceptResponse<T>): AcceptResponse<T> {
  return (bytes) => {
    try {
      return accept(bytes);
    } catch {
      return undefined;
    }
  };
}

function unreachable(server: DnsServerAddress, message: string, cause?: unknown): DnsUnreachableError {
  const host = isIPv6(server.host) ? `[${server.host}]` : server.host;
  return new DnsUnreachableError(`DNS server ${host}:${server.port}: ${message}`, cause === undefined ? {} : { cause });
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | null)?.code ?? (error as Error | null)?.message ?? String(error);
}

/** One UDP exchange with `address` (resolved), retransmitted `retries` times. Rejects only with `DnsUnreachableError`. */
function exchangeUdp<T>(request: Buffer, address: string, options: ExchangeOptions<T>): Promise<{ result: T; truncated: boolean; attempts: number }> {
  const { server, timeoutMs, retries, accept, signal } = options;
  return new Promise((resolve, reject) => {
    let attempts = 0;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    let socket: UdpSocket | undefined;
    // Every way out goes through here: the timer, the abort listener and the socket are released before settling.
    const finish = (outcome: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      try {
        socket?.close();
      } catch {
        // already closed
      }
      outcome();
    };
    const fail = (message: string, cause?: unknown) => finish(() => reject(unreachable(server, message, cause)));
    const onAbort = () => fail('the client was closed');
    const send = () => {
      if (done) return;
      attempts += 1;
      try {
        socket!.send(request, (error) => {
          if (error) fail(`send failed (${errorCode(error)})`, error);
        });
      } catch (error) {
        return fail(`send failed (${errorCode(error)})`, error);
      }
      timer = setTimeout(() => {
        if (attempts > retries) fail(`no answer over UDP after ${attempts} attempts of ${timeoutMs} ms`);
        else send();
      }, timeoutMs);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // A fresh socket per exchange: a random source port plus a random ID, so a blind spoofer has to guess both.
      socket = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
      socket.on('message', (bytes) => {
        const accepted = accept(bytes);
        if (accepted !== undefined) finish(() => resolve({ ...accepted, attempts }));
      });
      socket.on('error', (error: NodeJS.ErrnoException) => fail(`UDP error (${errorCode(error)})`, error));
      // Connecting the socket makes the kernel filter answers to the server's address and report ICMP refusals.
      // A failed connect calls back with the error (and emits no 'error'): the socket is then not connected.
      socket.connect(server.port, address, (error?: Error) => {
        if (error) fail(`cannot connect (${errorCode(error)})`, error);
        else send();
      });
    } catch (error) {
      fail(`UDP error (${errorCode(error)})`, error);
    }
  });
}

/** The TCP exchange with `address` (resolved): one connection per attempt. Rejects only with `DnsUnreachableError`. */
function exchangeTcp<T>(request: Buffer, address: string, options: ExchangeOptions<T>): Promise<{ result: T; attempts: number }> {
  const { retries } = options;
  const attempt = async (n: number): Promise<{ result: T; attempts: number }> => {
    try {
      return { result: await tcpOnce(request, address, options), attempts: n };
    } catch (error) {
      if (n > retries || options.signal?.aborted) throw error;
      return attempt(n + 1);
    }
  };
  return attempt(1);
}

function tcpOnce<T>(request: Buffer, address: string, options: ExchangeOptions<T>): Promise<T> {
  const { server, timeoutMs, accept, signal } = options;
  return new Promise((resolve, reject) => {
    let done = false;
    let buffered: Buffer = Buffer.alloc(0);
    let socket: TcpSocket | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket?.destroy();
      outcome();
    };
    const fail = (message: string, cause?: unknown) => finish(() => reject(unreachable(server, message, cause)));
    const onAbort = () => fail('the client was closed');
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(() => fail(`no answer over TCP within ${timeoutMs} ms`), timeoutMs);
    try {
      socket = connect({ host: address, port: server.port });
      const connected = socket;
      connected.setNoDelay(true);
      connected.on('connect', () => {
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(request.length, 0);
        connected.write(Buffer.concat([prefix, request]));
      });
      connected.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2) {
          const length = buffered.readUInt16BE(0);
          if (buffered.length < 2 + length) return;
          const bytes = buffered.subarray(2, 2 + length);
          buffered = buffered.subarray(2 + length);
          const accepted = accept(bytes);
          if (accepted !== undefined) return finish(() => resolve(accepted.result));
        }
      });
      connected.on('error', (error: NodeJS.ErrnoException) => fail(`TCP error (${errorCode(error)})`, error));
      connected.on('close', () => fail('the TCP connection closed without an answer'));
    } catch (error) {
      fail(`TCP error (${errorCode(error)})`, error);
    }
  });
}
