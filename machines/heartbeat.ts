import type { MaintenanceFlag } from './maintenance.js';

/**
 * A heartbeat: the Primary's proof of life, as it travels directly to the peer and as it is stored in the group's
 * TXT record (docs/design.md section 2).
 *
 * `epoch` counts Primaries (every takeover raises it by one); `seq` rises with every heartbeat within an epoch.
 * `sentAt` is the sender's wall clock in milliseconds since 1970: shown to people, never used for a decision.
 */
export interface Heartbeat {
  readonly holder: string;
  readonly epoch: number;
  readonly seq: number;
  readonly sentAt: number;
  /** The group's maintenance flag as the sender knows it (direct path only; rule 9). Absent until anyone paused. */
  readonly maintenance?: MaintenanceFlag;
}

/** The part of a heartbeat that orders it: `(epoch, seq)`, compared lexicographically. */
export interface HeartbeatProgress {
  readonly epoch: number;
  readonly seq: number;
}

/**
 * Whether `candidate` is strictly newer than `seen` in `(epoch, seq)` order; anything is newer than nothing.
 *
 * @example
 * isNewerHeartbeat({ epoch: 2, seq: 0 }, { epoch: 1, seq: 9 }) // true
 */
export function isNewerHeartbeat(candidate: HeartbeatProgress, seen: HeartbeatProgress | null): boolean {
  if (seen === null) return true;
  return candidate.epoch > seen.epoch || (candidate.epoch === seen.epoch && candidate.seq > seen.seq);
}

/** Whether two heartbeats carry the same `(epoch, seq)`. */
export function isSameHeartbeat(a: HeartbeatProgress, b: HeartbeatProgress | null): boolean {
  return b !== null && a.epoch === b.epoch && a.seq === b.seq;
}
