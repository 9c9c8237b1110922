/**
 * Maintenance mode (docs/design.md rule 9): an operator pauses the group's automatic takeover, as Patroni's
 * pause/resume. The flag is group-wide and versioned: every change anywhere raises the version by one past the
 * highest the changing node knows, both nodes persist it, the Primary's direct heartbeats carry it to the Secondary
 * and the Secondary's acknowledgements carry it back, and each node adopts a newer one. Pure: no I/O, no clock.
 */

/** The group's maintenance flag as one node knows it. */
export interface MaintenanceFlag {
  /** Whether automatic takeover (takeover for the Primary's absence) is suspended. */
  readonly enabled: boolean;
  /** Rises by one with every change: a node adopts a flag with a higher version (ties: paused wins, then `by`). */
  readonly version: number;
  /** The node on which the change was asked; null before any change. */
  readonly by: string | null;
}

/** The flag of a group nobody ever paused: version 0, never sent on the wire. */
export const NO_MAINTENANCE: MaintenanceFlag = { enabled: false, version: 0, by: null };

/**
 * Whether `candidate` is newer than `current`: a higher version; at the same version (two changes made at once on
 * two nodes that could not talk), paused before resumed, then the larger node id. A total order, so both nodes
 * end with the same flag whatever order they hear of the two changes in.
 *
 * @example
 * isNewerMaintenance({ enabled: false, version: 3, by: 'b' }, { enabled: true, version: 2, by: 'a' }) // true
 */
export function isNewerMaintenance(candidate: MaintenanceFlag, current: MaintenanceFlag): boolean {
  if (candidate.version !== current.version) return candidate.version > current.version;
  if (candidate.enabled !== current.enabled) return candidate.enabled;
  return (candidate.by ?? '') > (current.by ?? '');
}

/**
 * The flag after an operator on node `by` asks for `enabled`: unchanged (the same object) when it already says so,
 * otherwise one version past the current one.
 *
 * @example
 * changeMaintenance(NO_MAINTENANCE, true, 'node-a') // { enabled: true, version: 1, by: 'node-a' }
 */
export function changeMaintenance(current: MaintenanceFlag, enabled: boolean, by: string): MaintenanceFlag {
  if (current.enabled === enabled) return current;
  return { enabled, version: current.version + 1, by };
}

/**
 * The flag as it travels with a heartbeat or an acknowledgement: absent while nobody ever paused the group, so a
 * group that never uses maintenance sends exactly what nodes without it send.
 *
 * @example
 * maintenanceOnWire(NO_MAINTENANCE) // {}
 */
export function maintenanceOnWire(flag: MaintenanceFlag): { maintenance?: MaintenanceFlag } {
  return flag.version === 0 ? {} : { maintenance: flag };
}
