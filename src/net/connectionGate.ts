/**
 * Caps on the connections a server holds: in all, and from any one client address. The embedded DNS server's TCP
 * side and the node's HTTP server both use it, so that a flood of slow clients from one address cannot hold every
 * file descriptor of the process (and with it the node's own DNS and peer traffic).
 */
import type { Socket } from 'node:net';
import type { Logger } from '../api/logger.js';

/** How many connections a server holds at once. */
export interface ConnectionCaps {
  /** In all; a connection beyond it is closed at once. */
  readonly maxConnections: number;
  /** From one client address; a connection beyond it is closed at once. */
  readonly maxConnectionsPerAddress: number;
}

/** What a gate has done since it was created. */
export interface ConnectionGateStats {
  /** Connections admitted. */
  admitted: number;
  /** Connections closed at once because a cap was reached. */
  refused: number;
}

/** Refusals are logged at most this often (the first one at once), with the count since the last line. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/**
 * Counts open connections per client address and closes the ones beyond the caps.
 *
 * @example
 * const gate = new ConnectionGate({ maxConnections: 150, maxConnectionsPerAddress: 16 }, { what: 'DNS TCP', logger });
 * net.createServer((socket) => { if (gate.admit(socket)) serve(socket); });
 */
export class ConnectionGate {
  readonly caps: ConnectionCaps;
  readonly stats: ConnectionGateStats = { admitted: 0, refused: 0 };
  readonly #perAddress = new Map<string, number>();
  readonly #what: string;
  readonly #logger: Logger | undefined;
  #open = 0;
  #lastLogAt = -Infinity;
  #refusedSinceLog = 0;

  constructor(caps: ConnectionCaps, options: { what: string; logger?: Logger | undefined }) {
    for (const name of ['maxConnections', 'maxConnectionsPerAddress'] as const) {
      const value = caps[name];
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
    }
    this.caps = { maxConnections: caps.maxConnections, maxConnectionsPerAddress: caps.maxConnectionsPerAddress };
    this.#what = options.what;
    this.#logger = options.logger;
  }

  /** Connections open now. */
  get open(): number {
    return this.#open;
  }

  /** Connections open now from `address`. */
  openFrom(address: string): number {
    return this.#perAddress.get(address) ?? 0;
  }

  /**
   * Admits `socket` (counted until it closes) and returns true, or destroys it and returns false when a cap is
   * reached.
   */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress ?? '?';
    const fromAddress = this.#perAddress.get(address) ?? 0;
    if (this.#open >= this.caps.maxConnections || fromAddress >= this.caps.maxConnectionsPerAddress) {
      this.stats.refused += 1;
      this.#noteRefusal(address, this.#open >= this.caps.maxConnections ? 'maxConnections' : 'maxConnectionsPerAddress');
      socket.destroy();
      return false;
    }
    this.stats.admitted += 1;
    this.#open += 1;
    this.#perAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      this.#open -= 1;
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left === 0) this.#perAddress.delete(address);
      else this.#perAddress.set(address, left);
    });
    return true;
  }

  #noteRefusal(address: string, cap: keyof ConnectionCaps): void {
    this.#refusedSinceLog += 1;
    const now = performance.now();
    if (now - this.#lastLogAt < REFUSAL_LOG_INTERVAL_MS) return;
    this.#logger?.warn(
      { peer: address, cap, limit: this.caps[cap], open: this.#open, openFromPeer: this.openFrom(address), refused: this.#refusedSinceLog },
      `${this.#what}: connection refused, ${cap} reached (refusals are logged at most every ${REFUSAL_LOG_INTERVAL_MS / 1000} s)`,
    );
    this.#lastLogAt = now;
    this.#refusedSinceLog = 0;
  }
}
