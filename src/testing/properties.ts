/**
 * The properties of DESIGN.md section 4 as the simulator checks them, by name. The simulator checks every one at
 * every simulated instant (after each happening and the promises it settles); `determinism` is checked by running
 * a scenario twice.
 */
export const PROPERTY_DESCRIPTIONS = {
  oneActingPrimary: 'at no instant do two running, unpaused nodes act as Primary (role primary and a lease valid on their own clock)',
  dnsNamesNewestEpoch:
    'every DNS update leaves the A record naming the holder of the TXT heartbeat, never lowers the epoch, and never gives one epoch to two holders',
  failoverHappens:
    'when the Primary crashes and the Secondary (watching, unpaused, DNS healthy, no operator action) stays so, it acts as Primary within allowed_absence_interval + one standby check of its last heartbeat, plus one DNS round trip per standby check and one for the takeover',
  noFalseFailover:
    'the Secondary never starts a takeover for absence while the other node has been Primary for a whole failover period (on the fastest clock) and one heartbeat path (direct, both ways; or DNS) was fault-free in that period',
  eventsTellTruth:
    "each subscriber's NODE_ROLE_CHANGED events start with previous = null, chain (previous = the last new), never repeat a role, and end at the role getNodeState() reports",
  restartSafety:
    'a restarted node only writes itself into DNS over a record naming itself at the same epoch (a reclaim) or with a higher epoch than the record it replaces (a takeover)',
  determinism: 'the same scenario and seed give the same trace, entry for entry',
} as const;

/** A property's name. */
export type PropertyName = keyof typeof PROPERTY_DESCRIPTIONS;

/** Every property name, in the order above. */
export const PROPERTY_NAMES = Object.keys(PROPERTY_DESCRIPTIONS) as PropertyName[];

/** A property that failed, at a simulated instant. */
export interface Violation {
  readonly property: PropertyName;
  /** Simulated time (ms) of the failure. */
  readonly t: number;
  readonly message: string;
}
