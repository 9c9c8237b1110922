/** What `agctl failover` reads of a node's `GET /state` to follow a failover. */
export interface FailoverNodeView {
  readonly node_id: string;
  readonly node_role: string;
  readonly acting_primary: boolean;
  readonly epoch: number;
  /** The statechart state label (`secondary.watching`, `primary{authority.acting,...}`, `handingOver`). */
  readonly state: string;
}

/** A step of a failover that a node's state shows, in the order they happen (docs/design.md rule 6). */
type Step = 'probe' | 'confirm' | 'ask' | 'agreed' | 'offered' | 'accepted' | 'forced' | 'dns' | 'reclaim' | 'acting';

/**
 * Turns the states of the two nodes, polled while `PUT /failover` runs, into progress lines, each printed once:
 * `handover offered`, `peer accepted`, `DNS updated`, `b is acting Primary (epoch 7)`. A poll can miss a short
 * state, so a step may be skipped; `DNS updated` is also told when a node is first seen at a newer epoch (a node's
 * epoch rises only when its compare-and-swap was applied).
 *
 * @example
 * const progress = new FailoverProgress(['a', 'b'], 6);
 * progress.observe(stateOfB) // ['peer accepted: b takes over with a DNS compare-and-swap']
 */
export class FailoverProgress {
  readonly #told = new Set<Step>();
  /** The node seen acting as Primary at a newer epoch, once it is. */
  newPrimary: FailoverNodeView | null = null;
  /** Whether any node showed a step of the failover (it is under way). */
  started = false;

  /**
   * @param nodeIds the two members' ids (the other of a node is the one it is not)
   * @param epochBefore the highest epoch either node knew before the failover was asked
   */
  constructor(
    readonly nodeIds: readonly string[],
    readonly epochBefore: number,
  ) {}

  #other(nodeId: string): string {
    return this.nodeIds.find((id) => id !== nodeId) ?? 'the other node';
  }

  /** The new lines that `state` (one node's, polled now) tells. */
  observe(state: FailoverNodeView): string[] {
    const x = state.node_id;
    const y = this.#other(x);
    const lines: string[] = [];
    const tell = (step: Step, line: string) => {
      if (this.#told.has(step)) return;
      this.#told.add(step);
      this.started = true;
      lines.push(line);
    };
    const label = state.state;
    if (/authority\.probingPeer/.test(label)) tell('probe', `${x} asks ${y} whether it can take over now (${y} reads DNS)`);
    if (/^requestingStepDown\.confirmingDns/.test(label)) tell('confirm', `${x} reads DNS before asking ${y} to hand over`);
    if (/^requestingStepDown\.asking/.test(label)) tell('ask', `${x} asks ${y} to hand over`);
    if (/^requestingStepDown\.awaitingOffer/.test(label)) tell('agreed', `${y} agreed to hand over; ${x} waits for its offer`);
    if (/^handingOver/.test(label)) tell('offered', `handover offered: ${x} stepped down and offers ${y} the Primary role`);
    if (/^takingOver/.test(label)) tell('accepted', `peer accepted: ${x} takes over with a DNS compare-and-swap`);
    if (/^reclaiming/.test(label)) tell('reclaim', `${x} reclaims the Primary role: the handover did not complete`);
    const newer = state.epoch > this.epochBefore;
    // A forced taker holds the new epoch, with role secondary, until the old lease has certainly ended.
    if (newer && /awaitingOldLeaseExpiry/.test(label)) {
      tell('dns', `DNS updated: the group's records name ${x} (epoch ${state.epoch})`);
      tell('forced', `${x} waits until ${y}'s lease has certainly ended before it acts`);
    }
    if (newer && state.acting_primary) {
      tell('dns', `DNS updated: the group's records name ${x} (epoch ${state.epoch})`);
      tell('acting', `${x} is acting Primary (epoch ${state.epoch})`);
      this.newPrimary = state;
    }
    return lines;
  }
}

/**
 * A node's state answer as a {@link FailoverNodeView}, or null when it lacks a field.
 *
 * @example
 * viewOf((await client.call('GET', '/state')).body)
 */
export function viewOf(body: unknown): FailoverNodeView | null {
  const state = body as Partial<Record<keyof FailoverNodeView, unknown>> | null;
  if (state === null || typeof state !== 'object') return null;
  const { node_id, node_role, acting_primary, epoch, state: label } = state;
  if (typeof node_id !== 'string' || typeof node_role !== 'string' || typeof acting_primary !== 'boolean' || typeof epoch !== 'number' || typeof label !== 'string') return null;
  return { node_id, node_role, acting_primary, epoch, state: label };
}

/**
 * How a node stands, in words: `a (acting Primary, epoch 6)`, `b (Secondary)`.
 *
 * @example
 * describeNode({ node_id: 'a', node_role: 'primary', acting_primary: true, epoch: 6, state: 'primary{...}' }) // 'a (acting Primary, epoch 6)'
 */
export function describeNode(view: FailoverNodeView): string {
  if (view.acting_primary) return `${view.node_id} (acting Primary, epoch ${view.epoch})`;
  const role = view.node_role === 'primary' ? 'Primary, not acting' : view.node_role === 'secondary' ? 'Secondary' : view.node_role;
  return `${view.node_id} (${role}, epoch ${view.epoch})`;
}
