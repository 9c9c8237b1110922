/**
 * The tags of the node machine's states: what code outside `machines/` may ask of a snapshot
 * (`snapshot.hasTag(NodeTag.acting)`). State names are the machine's own business and change with its shape; a tag
 * says what a state means, and every state that replaces another keeps its tags.
 *
 * @example
 * if (actor.getSnapshot().hasTag(NodeTag.watching)) console.log('a Secondary following its Primary');
 */
export const NodeTag = {
  /** Starting: about to resolve its role (in a group) or to wait outside one. Transient. */
  starting: 'starting',
  /** Not in a group: waits to create or join one. */
  notInGroup: 'notInGroup',
  /** Writing the records of a new group (ends in `holdsLease` or `notInGroup`). */
  creatingGroup: 'creatingGroup',
  /** Any state of a group member (from resolving its role until it left the group). */
  inGroup: 'inGroup',
  /** Rule 5: reading the records to learn its role; a direct heartbeat cannot be judged yet. */
  resolving: 'resolving',
  /** Rule 5: the records still name this node; it re-asserts itself with a compare-and-swap before acting. */
  reclaiming: 'reclaiming',
  /** A Secondary following a Primary: watching its heartbeats, running a standby check, or answering a probe. */
  watching: 'watching',
  /** Rule 6: a watching Secondary reads DNS to answer its Primary's handover probe. */
  answeringProbe: 'answeringProbe',
  /** Rule 6: a Secondary asking its Primary to hand over (manual failover asked on the Secondary). */
  requestingStepDown: 'requestingStepDown',
  /** Rule 2: writing (or preparing) the takeover compare-and-swap. */
  takingOver: 'takingOver',
  /**
   * Holds the epoch it wrote and renews its lease by heartbeats (rules 3 and 4): acting, or still waiting out the old
   * Primary's lease after a forced takeover. A role `primary` is announced only once it acts.
   */
  holdsLease: 'holdsLease',
  /** Holds the lease and may act as Primary (the lease's validity at an instant is `leaseIsValidAt`, rule 7). */
  acting: 'acting',
  /** Rule 6: a handover asked of this Primary is under way: probing its peer (still acting), or stepped down and offering. */
  handingOver: 'handingOver',
  /** In a group but without a usable view of DNS. */
  disconnected: 'disconnected',
  /** In a group whose records are gone from DNS. */
  orphaned: 'orphaned',
  /** A Primary leaving: removing the group's records. */
  dissolvingGroup: 'dissolvingGroup',
} as const;

/** One of the node machine's tags. */
export type NodeTag = (typeof NodeTag)[keyof typeof NodeTag];
