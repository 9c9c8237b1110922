/**
 * A node's watch of its group on the authority (when the authority has `watch`): every report becomes an
 * `AUTHORITY_CHANGED` event for the statechart, stamped on the node's clock.
 */
import type { GroupRecords } from '../../machines/nodeMachine.types.js';
import type { GroupAuthority } from '../coordination/groupAuthority.js';
import { stampOf } from './clock.js';
import { heartbeatOfRecords } from './nodeActors.js';
import type { NodeCore } from './nodeCore.js';

/** The shortest time between two warnings of a failing watch, in ms of the node's monotonic clock. */
const WARN_INTERVAL_MS = 60_000;

/**
 * Keeps one watch of the node's group on its authority while the node runs in a group: {@link sync} (after each
 * transition) starts it when the node is in a group with a `group_fqdn` and the authority has `watch`, moves it when
 * `group_fqdn` changes, and stops it when the node leaves; {@link stop} stops it when the node stops. Each report
 * goes to the statechart as `AUTHORITY_CHANGED` with the TXT value parsed as a heartbeat record (as a read's is) and
 * the node's stamp; the Secondary counts it as progress (rule 1). Failures are logged at warn, at most once a minute
 * (the others counted); the watch goes on by itself.
 *
 * @example
 * const watch = new AuthorityWatch(core, authority);
 * actor.subscribe(() => watch.sync());
 * watch.stop();
 */
export class AuthorityWatch {
  readonly #core: NodeCore;
  readonly #authority: GroupAuthority;
  /** The group name watched, and how to stop that watch; null while none runs. */
  #current: { readonly fqdn: string; stop: () => void } | null = null;
  #lastWarnAt = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  constructor(core: NodeCore, authority: GroupAuthority) {
    this.#core = core;
    this.#authority = authority;
  }

  /** Starts, moves or stops the watch to match the node now (cheap when nothing changed). */
  sync(): void {
    const core = this.#core;
    const inGroup = core.currentSnapshot()?.context.inGroup ?? false;
    const fqdn = inGroup ? (core.settings.groupFqdn ?? null) : null;
    if (this.#current !== null && this.#current.fqdn === fqdn) return;
    this.stop();
    if (fqdn === null) return;
    const watch = this.#authority.watch;
    if (watch === undefined) return;
    const current: { readonly fqdn: string; stop: () => void } = { fqdn, stop: () => undefined };
    this.#current = current;
    const stop = watch.call(
      this.#authority,
      fqdn,
      (records) => {
        if (this.#current === current) this.#report(records);
      },
      (error) => {
        if (this.#current === current) this.#warn(fqdn, error);
      },
    );
    current.stop = stop;
    // Stopped or moved while `watch` ran (a report handled synchronously can change the node): stop it now.
    if (this.#current !== current) stop();
  }

  /** Stops the watch, if one runs. */
  stop(): void {
    const current = this.#current;
    this.#current = null;
    current?.stop();
  }

  #report(records: GroupRecords): void {
    const core = this.#core;
    if (core.actor === null) return;
    core.send({ type: 'AUTHORITY_CHANGED', records: { ...records, heartbeat: heartbeatOfRecords(records, core.logger) }, at: stampOf(core.clock) });
  }

  #warn(fqdn: string, error: unknown): void {
    const now = this.#core.clock.monotonicNow();
    if (now - this.#lastWarnAt < WARN_INTERVAL_MS) {
      this.#suppressed += 1;
      return;
    }
    this.#lastWarnAt = now;
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    this.#core.logger.warn(
      { fqdn, code: typeof code === 'string' ? code : undefined, reason: typeof message === 'string' ? message : String(error), suppressed: this.#suppressed },
      'the watch of the group on the authority failed; it goes on by itself, and the standby checks read the authority meanwhile',
    );
    this.#suppressed = 0;
  }
}
