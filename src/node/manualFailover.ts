/**
 * Manual failover (docs/design.md rule 6) as asked on this node: a Primary hands over, a Secondary takes over. The
 * machine settles each request; this waits for it, and for a Primary whose handover did not complete, until it acts
 * again.
 */
import { NodeTag } from '../../machines/nodeTags.js';
import { NodeRole } from '../api/constants.js';
import { FailoverError, MembershipError, NoSuchMemberError } from '../api/errors.js';
import { stampOf } from './clock.js';
import type { NodeCore } from './nodeCore.js';
import { actsAgainAsPrimary, isOutsideGroup } from './stateView.js';

/** One node's manual failovers: one at a time (a second one is refused, not queued). */
export class ManualFailover {
  readonly #core: NodeCore;
  #running = false;

  constructor(core: NodeCore) {
    this.#core = core;
  }

  /**
   * `AvailabilityNode.failover`: resolves once the new Primary acts; rejects with `FailoverError` when it did not
   * complete, `MembershipError` when there is no group or no peer, or when `to` names this node on the Primary or
   * another member on a Secondary (a failover to a member is asked on the Primary or on that member), and
   * `NoSuchMemberError` when `to` is no member. Without `to` a Primary hands over to the first Secondary in the
   * takeover order.
   *
   * @example
   * await new ManualFailover(core).run({ to: 'c' }); // on the Primary: hands over to c
   */
  async run(options: { to?: string } = {}): Promise<void> {
    const core = this.#core;
    const before = core.snapshot();
    if (isOutsideGroup(before)) throw new MembershipError('This node is not in a group.');
    if (core.peerMember === null && !before.hasTag(NodeTag.watching)) throw new MembershipError('The group has no Secondary to hand over to.');
    const isPrimary = before.context.role === NodeRole.PRIMARY;
    const to = options.to;
    if (to !== undefined && to !== core.nodeId && core.member(to) === null) {
      throw new NoSuchMemberError(to, `The group has no member ${to} (its members: ${[core.nodeId, ...core.members.map((member) => member.nodeId)].join(', ')}).`);
    }
    if (to !== undefined && isPrimary && to === core.nodeId) throw new MembershipError(`${to} is the Primary already: name a Secondary to hand over to.`);
    if (to !== undefined && !isPrimary && to !== core.nodeId) {
      const primary = core.primaryMember()?.nodeId;
      const where = primary === undefined ? 'the Primary (not known here yet)' : `the Primary (${primary})`;
      throw new MembershipError(`A failover to ${to} is asked on ${where} or on ${to} itself; ${core.nodeId} is a Secondary.`);
    }
    if (this.#running) throw new FailoverError('refused', 'in_progress', 'Manual failover refused: one asked on this node is still running.', core.isActingPrimary());
    this.#running = true;
    // The handover (probe and offer) goes to the member named, else to the first Secondary in the takeover order.
    core.handoverTarget = isPrimary && to !== undefined ? to : null;
    try {
      const wasPrimary = before.context.role === NodeRole.PRIMARY;
      core.send({ type: 'FAILOVER_REQUESTED', at: stampOf(core.clock) });
      // The machine settles every request: completed only once the new Primary acts (rule 6).
      const settled = await core.settle((s) => !s.context.failover.failoverPending);
      const result = settled.context.failover.failoverResult ?? { outcome: 'failed', code: 'unknown', reason: 'the failover ended without a result' };
      if (result.outcome === 'completed') return;
      // A failover that did not complete leaves the group as it was: a Primary answers once it acts again.
      if (wasPrimary) await core.settleWithin(core.settings.timers.leaseMs, actsAgainAsPrimary);
      const acting = core.isActingPrimary();
      const where = wasPrimary ? (acting ? ' This node still acts as Primary.' : ' This node does not act as Primary now.') : '';
      throw new FailoverError(result.outcome, result.code, `Manual failover did not complete: ${result.reason}.${where}`, acting);
    } finally {
      this.#running = false;
      core.handoverTarget = null;
    }
  }
}
