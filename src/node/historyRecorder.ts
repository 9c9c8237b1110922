import type { InspectionEvent } from 'xstate';
import type { NodeContext } from '../../machines/nodeMachine.types.js';
import { EventId } from '../api/constants.js';
import type { TakeoverMode } from '../api/events.js';
import type { AvailabilityNode } from './createNode.js';
import { formatWallTime } from './clock.js';
import type { HistoryLog, NewHistoryEntry } from './historyLog.js';
import type { RoleChangeHookRun } from './roleChangeHooks.js';

/** The slice of the statechart's context the recorder reads to follow a manual failover asked on this node. */
type FailoverContext = Pick<NodeContext, 'epoch' | 'failover'>;

/** Characters of a failed hook's stderr kept in its history entry (the log has more). */
const HOOK_STDERR_CHARS = 200;

/**
 * Writes a node's history ({@link HistoryLog}) from its events: every `NODE_ROLE_CHANGED`, `LEASE_LOST` and
 * `MAINTENANCE_CHANGED`; each takeover as one entry once it ends (its mode, how it ended and how long it took from
 * `TAKEOVER_STARTED` to the role change or `TAKEOVER_ABANDONED`, on the monotonic clock); each manual failover
 * asked on this node, when asked and when it ended (through {@link inspect}, which sees the statechart's steps);
 * and each failed role-change hook ({@link hookRun}). Subscribing only queues appends: the node never waits for
 * the history.
 *
 * @example
 * const history = await HistoryLog.open({ dataDir, logger });
 * let recorder: HistoryRecorder | null = null;
 * const node = createNode(settings, { ...ports, inspect: (event) => recorder?.inspect(event) });
 * recorder = new HistoryRecorder(node, history);
 */
export class HistoryRecorder {
  readonly #node: AvailabilityNode;
  readonly #log: HistoryLog;
  readonly #now: () => number;
  readonly #unsubscribe: Array<() => void> = [];
  #takeover: { mode: TakeoverMode; epoch: number; startedAt: number } | null = null;
  /** The result of the last manual failover recorded as ended. */
  #failoverResult: FailoverContext['failover']['failoverResult'] = null;

  /** `now`: the monotonic clock takeovers are timed on (default `performance.now`). */
  constructor(node: AvailabilityNode, log: HistoryLog, now: () => number = () => performance.now()) {
    this.#node = node;
    this.#log = log;
    this.#now = now;
    this.#unsubscribe.push(
      node.subscribe(EventId.TAKEOVER_STARTED, (event) => {
        this.#takeover = { mode: event.mode, epoch: event.epoch, startedAt: this.#now() };
      }),
      node.subscribe(EventId.NODE_ROLE_CHANGED, (event) => {
        const takeover = this.#takeover;
        if (takeover !== null && event.new === 'primary') {
          this.#takeover = null;
          this.#append(event.at, event.epoch, 'takeover', { mode: takeover.mode, outcome: 'completed', duration_ms: this.#since(takeover.startedAt) });
        }
        this.#append(event.at, event.epoch, 'role_changed', { previous: event.previous, new: event.new, reason: event.reason });
      }),
      node.subscribe(EventId.TAKEOVER_ABANDONED, (event) => {
        const takeover = this.#takeover;
        this.#takeover = null;
        // The epoch this node knows (it stays): the one it would have held is `target_epoch`.
        this.#append(event.at, event.epoch, 'takeover', {
          mode: takeover?.mode ?? null,
          outcome: 'abandoned',
          reason: event.reason,
          target_epoch: takeover?.epoch ?? null,
          duration_ms: takeover === null ? null : this.#since(takeover.startedAt),
        });
      }),
      node.subscribe(EventId.LEASE_LOST, (event) => this.#append(event.at, event.epoch, 'lease_lost', { reason: event.reason })),
      node.subscribe(EventId.MAINTENANCE_CHANGED, (event) => this.#append(event.at, event.epoch, 'maintenance_changed', { enabled: event.enabled, by: event.by })),
    );
  }

  /**
   * Sees the node's inspection events (pass it as, or call it from, the node's `inspect` port): a manual failover
   * asked on this node is recorded when the statechart takes it, and again when it ends, with its outcome.
   */
  inspect(event: InspectionEvent): void {
    if (event.actorRef.sessionId !== event.rootId) return;
    if (event.type === '@xstate.event' && event.event.type === 'FAILOVER_REQUESTED') {
      const context = (event.actorRef.getSnapshot() as { context?: FailoverContext }).context;
      this.#append(formatWallTime(Date.now()), context?.epoch ?? 0, 'failover', { phase: 'asked' });
      return;
    }
    if (event.type !== '@xstate.snapshot') return;
    const context = (event.snapshot as { context?: FailoverContext }).context;
    const result = context?.failover.failoverResult ?? null;
    // Each failover asked here ends with a new result object (a refusal may end it in the step that took it).
    if (context === undefined || result === null || result === this.#failoverResult) return;
    this.#failoverResult = result;
    this.#append(formatWallTime(Date.now()), context.epoch, 'failover', { phase: 'ended', outcome: result.outcome, code: result.code, reason: result.reason });
  }

  /** Records a role-change hook run that did not succeed (successful runs are only logged). */
  hookRun(run: RoleChangeHookRun): void {
    if (run.result === 'success') return;
    this.#append(formatWallTime(Date.now()), run.input.epoch, 'hook_failed', {
      result: run.result,
      role: run.input.role,
      previous: run.input.previous,
      exit_code: run.exitCode,
      signal: run.signal,
      error: run.error,
      duration_ms: Math.round(run.durationMs),
      stderr: run.stderr.slice(0, HOOK_STDERR_CHARS),
    });
  }

  /** Stops recording; resolves once what was recorded is written. */
  async stop(): Promise<void> {
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    await this.#log.flush();
  }

  #since(startedAt: number): number {
    return Math.round(this.#now() - startedAt);
  }

  #append(time: string, epoch: number, kind: NewHistoryEntry['kind'], details: Record<string, unknown>): void {
    void this.#log.append({ time, node_id: this.#node.nodeId, epoch, kind, ...details });
  }
}
