import { randomBytes } from 'node:crypto';
import { isNewerHeartbeat, type HeartbeatProgress } from '../../machines/heartbeat.js';

/** Options of a {@link PeerReplayGuard}. */
export interface PeerReplayGuardOptions {
  /** Monotonic milliseconds (nonce lifetimes are measured on it, never on the wall clock). */
  readonly now?: () => number;
  /** How long an issued nonce may be used, in milliseconds (default 10 s). */
  readonly nonceTtlMs?: number;
  /** At most this many nonces are outstanding; the oldest are dropped first (default 256). */
  readonly maxNonces?: number;
}

/**
 * The receiving side's memory against replayed peer messages.
 *
 * - Heartbeats carry `(epoch, seq)`, which only rises: one not newer than the last accepted is a replay. A sender
 *   that restarts keeps rising (a reclaiming Primary and a new Primary both start a higher epoch).
 * - Every other message (handover, step-down, join, group-settings, leave) must carry a nonce this receiver issued
 *   moments before and has not seen used. Nonces are random and held in memory only, so no clock is compared
 *   across nodes, a restarted sender simply asks for a new one, and a restarted receiver refuses everything
 *   captured before.
 *
 * @example
 * const guard = new PeerReplayGuard();
 * guard.isReplayedHeartbeat({ epoch: 1, seq: 5 }) // false: nothing accepted yet
 * guard.recordHeartbeat({ epoch: 1, seq: 5 });
 * guard.isReplayedHeartbeat({ epoch: 1, seq: 5 }) // true
 * const nonce = guard.issueNonce();
 * guard.consumeNonce(nonce) // true
 * guard.consumeNonce(nonce) // false: a replay
 */
export class PeerReplayGuard {
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #maxNonces: number;
  /** Outstanding nonces and when each expires; a Map keeps insertion order, so the oldest comes first. */
  readonly #nonces = new Map<string, number>();
  #lastHeartbeat: HeartbeatProgress | null = null;

  constructor(options: PeerReplayGuardOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#ttlMs = options.nonceTtlMs ?? 10_000;
    this.#maxNonces = options.maxNonces ?? 256;
  }

  /** Whether `heartbeat` is not newer than one accepted before: a replay (or a duplicate) to refuse. */
  isReplayedHeartbeat(heartbeat: HeartbeatProgress): boolean {
    return !isNewerHeartbeat(heartbeat, this.#lastHeartbeat);
  }

  /** Remembers `heartbeat` as accepted (call it once the node has taken it), if it is the newest so far. */
  recordHeartbeat(heartbeat: HeartbeatProgress): void {
    if (isNewerHeartbeat(heartbeat, this.#lastHeartbeat)) this.#lastHeartbeat = { epoch: heartbeat.epoch, seq: heartbeat.seq };
  }

  /** A fresh single-use nonce. */
  issueNonce(): string {
    this.#expire();
    while (this.#nonces.size >= this.#maxNonces) this.#nonces.delete(this.#nonces.keys().next().value as string);
    const nonce = randomBytes(18).toString('base64url');
    this.#nonces.set(nonce, this.#now() + this.#ttlMs);
    return nonce;
  }

  /** Uses up `nonce`: true only for a nonce issued here, unexpired and not used before. */
  consumeNonce(nonce: string | undefined): boolean {
    if (nonce === undefined) return false;
    const expiresAt = this.#nonces.get(nonce);
    this.#nonces.delete(nonce);
    return expiresAt !== undefined && this.#now() < expiresAt;
  }

  #expire(): void {
    const now = this.#now();
    for (const [nonce, expiresAt] of this.#nonces) {
      if (expiresAt > now) break;
      this.#nonces.delete(nonce);
    }
  }
}
