/**
 * One failover measured, whatever the authority: watches started at once (clients that keep asking whether the
 * authority names the Secondary), a wait (the settle time and a random phase of the heartbeat), `kill -9` of the
 * Primary, and the milliseconds from the kill until each watch saw the Secondary named. The killed node is then
 * started again. Used by the keepalived bench (ourGroup.ts) and the etcd bench (localPair.ts).
 */
import { sleep } from './sleep.js';

/** The authority named the Secondary while its Primary still ran: a takeover nobody caused (the run is not measured). */
export class TakeoverBeforeKill extends Error {
  constructor(readonly secondaryId: string) {
    super(`The authority named the Secondary ${secondaryId} before its Primary was killed: a takeover without a failure.`);
    this.name = 'TakeoverBeforeKill';
  }
}

/** A running watch: `seen` resolves with `performance.now()` at the first answer naming the awaited address. */
export interface AuthorityWatch {
  readonly seen: Promise<number>;
  /** Stops asking (also done once `seen` settles). */
  stop(): void;
}

/** The two roles of a formed group, as the measurement needs them. */
export interface FailoverRoles {
  /** Kills the Primary's process with SIGKILL and resolves once it exited. */
  readonly killPrimary: () => Promise<unknown>;
  /** Starts the killed node again (it joins as Secondary). */
  readonly restartPrimary: () => Promise<unknown>;
  readonly secondary: { readonly id: string; readonly address: string };
}

/**
 * Starts `watch(secondaryAddress, deadlineMs)`, waits `beforeKillMs`, kills the Primary, and resolves with the
 * milliseconds from the kill until each watch saw the Secondary's address (in the order `watch` returned them); then
 * restarts the killed node. Rejects with {@link TakeoverBeforeKill} when a watch sees the Secondary named before
 * the kill (nothing is killed, or the run is not counted).
 *
 * @example
 * const [ms] = await measureFailover(roles, 1000 + phaseMs, (address, deadlineMs) => [pollDnsAddress({ ...vantage, fqdn, expected: address, everyMs: 2, deadlineMs })]);
 */
export async function measureFailover(roles: FailoverRoles, beforeKillMs: number, watch: (address: string, deadlineMs: number) => AuthorityWatch[]): Promise<number[]> {
  const watches = watch(roles.secondary.address, beforeKillMs + 30_000);
  const allSeen = Promise.all(watches.map((one) => one.seen));
  allSeen.catch(() => undefined); // awaited below; a failure during the wait must not go unhandled
  try {
    const firstSeen = Promise.race(watches.map((one) => one.seen)).then(() => 'seen' as const);
    const waited = await Promise.race([sleep(beforeKillMs).then(() => 'waited' as const), firstSeen]);
    if (waited === 'seen') throw new TakeoverBeforeKill(roles.secondary.id);
    const killedAt = performance.now();
    await roles.killPrimary();
    const seenAt = await allSeen;
    if (seenAt.some((at) => at < killedAt)) throw new TakeoverBeforeKill(roles.secondary.id);
    await roles.restartPrimary();
    return seenAt.map((at) => at - killedAt);
  } finally {
    for (const one of watches) one.stop();
  }
}
