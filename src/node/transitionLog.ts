/**
 * The node's transitions as one projection ({@link transitionOf}), written once and shared by the node's log
 * ({@link TransitionLog}), the simulator's trace and the inspector's event log.
 */
import type { StateValue } from 'xstate';
import type { NodeContext } from '../../machines/nodeMachine.types.js';
import type { NodeSnapshot } from '../../machines/nodeReplies.js';
import { snapshotLabel } from '../../machines/stateLabel.js';
import { NodeRole, type NodeDnsConnectionState } from '../api/constants.js';
import type { Logger } from './logger.js';

/** What a transition shows: the state label (display only), role, epoch, sequence number and DNS connection. */
export interface TransitionView {
  /** The state label (machines/stateLabel.ts), e.g. `secondary.watching`: for people, never for decisions. */
  readonly state: string;
  readonly role: NodeRole | null;
  readonly epoch: number;
  /** Own sequence number on a Primary, newest seen sequence number otherwise. */
  readonly seq: number | null;
  readonly dnsConnection: NodeDnsConnectionState;
}

/**
 * The projection of a snapshot that every transition log writes.
 *
 * @example
 * transitionOf(actor.getSnapshot()); // { state: 'secondary.watching', role: 'secondary', epoch: 3, seq: 41, dnsConnection: 'connected' }
 */
export function transitionOf(snapshot: { readonly value: StateValue; readonly context: NodeContext }): TransitionView {
  const { context } = snapshot;
  return {
    state: snapshotLabel(snapshot),
    role: context.role,
    epoch: context.epoch,
    seq: context.role === NodeRole.PRIMARY ? context.lease.ownSeq : (context.progress.seen?.seq ?? null),
    dnsConnection: context.dnsConnection,
  };
}

/** Whether two tag sets hold the same tags. */
function sameTags(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const tag of a) if (!b.has(tag)) return false;
  return true;
}

/**
 * Logs the node's transitions: at info level when the state's tags change (a new role, a takeover, a handover, ...),
 * at debug level otherwise (a Primary makes several sub-state transitions per heartbeat). Counts the machine's steps,
 * so that the events one step emits are logged with the same `step`.
 *
 * @example
 * const log = new TransitionLog(logger);
 * actor.system.inspect((event) => { if (event.type === '@xstate.snapshot') log.record(event.snapshot as NodeSnapshot, event.event.type); });
 */
export class TransitionLog {
  readonly #logger: Logger;
  #step = 0;
  #lastTags: ReadonlySet<string> | null = null;
  #lastLabel: string | null = null;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** The statechart's steps so far (its own snapshots). */
  get step(): number {
    return this.#step;
  }

  /** Records one step of the node's own actor, which reached `snapshot` on an event of type `eventType`. */
  record(snapshot: NodeSnapshot, eventType: string): void {
    this.#step += 1;
    const changed = this.#lastTags === null || !sameTags(this.#lastTags, snapshot.tags);
    if (!changed && !(this.#logger.isLevelEnabled?.('debug') ?? true)) return;
    const { state, epoch, seq } = transitionOf(snapshot);
    const details = { to: state, event: eventType, epoch, seq };
    if (changed) this.#logger.info({ from: this.#lastLabel, ...details }, 'transition');
    else this.#logger.debug(details, 'transition');
    this.#lastTags = snapshot.tags;
    this.#lastLabel = state;
  }
}
