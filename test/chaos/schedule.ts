/**
 * The fault suite's schedule: a seeded, bounded sequence of faults, one at a time. Kinds are drawn from a shuffled
 * bag (every kind once per round, in a random order), so a run of one round has injected each kind; each fault's
 * parameters (durations, which side, when a failover is sent, how a restart stops the nodes) are drawn from the same
 * seeded generator. Every duration derives from the group's timers: A = `allowed_absence_interval` (the failover
 * period). The same seed and timers give the same schedule; what the group does in it is real and varies.
 */
import type { TestTimers } from '../support/processes.js';

/** What one fault does. `primary`/`secondary` are the roles when the fault starts. */
export type FaultKind =
  /** kill -9 of the Primary, then restart it. */
  | 'kill-primary'
  /** kill -9 of the Secondary, then restart it. */
  | 'kill-secondary'
  /** SIGSTOP of the Primary for 1.5 × A. */
  | 'pause-primary-1.5x'
  /** SIGSTOP of the Primary for 3 × A. */
  | 'pause-primary-3x'
  /** SIGSTOP of the Secondary. */
  | 'pause-secondary'
  /** SIGSTOP of the DNS server while the group is healthy. */
  | 'pause-dns'
  /** kill -9 of the Primary, then SIGSTOP of the DNS server within the absence window (or as the takeover starts), then restart. */
  | 'pause-dns-at-takeover'
  /** The peer path cut one way: `out` written on one node (what it says is lost). */
  | 'cut-out'
  /** The peer path cut one way: `in` written on one node (what it receives is refused). */
  | 'cut-in'
  /** The peer path cut both ways. */
  | 'cut-both'
  /** PUT /failover on either node, nothing else wrong. */
  | 'failover'
  /** PUT /failover on either node during another fault (a cut, a pause of a node or of the DNS server). */
  | 'failover-during-fault'
  /** Both nodes stopped (kill -9 or SIGTERM) and started again. */
  | 'restart-both'
  /** etcd: SIGSTOP of one member (the leader or a follower); the others still make a quorum. */
  | 'pause-etcd-member'
  /** etcd: SIGSTOP of a majority of the members (two of three): no quorum, no read nor write succeeds. */
  | 'pause-etcd-quorum'
  /** etcd: kill -9 of one member (the leader or a follower), restarted with its data later. */
  | 'kill-etcd-member'
  /** etcd: kill -9 of the Primary, then SIGSTOP of a majority of the members within the absence window (or as the takeover starts), then restart. */
  | 'pause-etcd-at-takeover';

export const FAULT_KINDS: readonly FaultKind[] = [
  'kill-primary',
  'kill-secondary',
  'pause-primary-1.5x',
  'pause-primary-3x',
  'pause-secondary',
  'pause-dns',
  'pause-dns-at-takeover',
  'cut-out',
  'cut-in',
  'cut-both',
  'failover',
  'failover-during-fault',
  'restart-both',
];

/**
 * The kinds with `coordination: etcd`: the DNS server's faults give way to the etcd cluster's (a member paused, a
 * majority paused, a member killed, a majority paused as a takeover begins); the node and peer-path faults stay.
 */
export const ETCD_FAULT_KINDS: readonly FaultKind[] = [
  'kill-primary',
  'kill-secondary',
  'pause-primary-1.5x',
  'pause-primary-3x',
  'pause-secondary',
  'pause-etcd-member',
  'pause-etcd-quorum',
  'kill-etcd-member',
  'pause-etcd-at-takeover',
  'cut-out',
  'cut-in',
  'cut-both',
  'failover',
  'failover-during-fault',
  'restart-both',
];

/** The group's coordination authority in a chaos run. */
export type ChaosCoordination = 'dns' | 'etcd';

/** The fault kinds of a run on `coordination`. */
export function faultKindsFor(coordination: ChaosCoordination): readonly FaultKind[] {
  return coordination === 'etcd' ? ETCD_FAULT_KINDS : FAULT_KINDS;
}

/** The faults a manual failover may be sent during. */
export const FAULTS_UNDER_FAILOVER = ['cut-out', 'cut-in', 'cut-both', 'pause-dns', 'pause-secondary', 'pause-primary-1.5x'] as const;
/** With etcd: the authority fault under a failover is a majority of the members paused. */
export const ETCD_FAULTS_UNDER_FAILOVER = ['cut-out', 'cut-in', 'cut-both', 'pause-etcd-quorum', 'pause-secondary', 'pause-primary-1.5x'] as const;
export type FaultUnderFailover = (typeof FAULTS_UNDER_FAILOVER)[number] | (typeof ETCD_FAULTS_UNDER_FAILOVER)[number];

export type Side = 'primary' | 'secondary';

/** One planned fault: its kind and every parameter drawn for it (durations in ms). */
export interface FaultPlan {
  readonly index: number;
  readonly kind: FaultKind;
  /** Which round of the bag it belongs to (0 = the first). */
  readonly round: number;
  /**
   * How long the fault holds: a pause or a cut lasts this long; for a kill, the time from the kill to the restart;
   * for `pause-dns-at-takeover`, how long the DNS server stays paused (`pause-etcd-at-takeover`: the etcd members);
   * for `kill-etcd-member`, the time from the kill to the restart.
   */
  readonly holdMs: number;
  /** The node whose cut file is written (cuts, and a cut under a failover). */
  readonly cutSide?: Side;
  /** For `failover` and `failover-during-fault`: the node the request is sent to. */
  readonly failoverOn?: Side;
  /** For `failover-during-fault`: the fault the request is sent during, and when, after it started. */
  readonly under?: FaultUnderFailover;
  readonly failoverDelayMs?: number;
  /** For `pause-dns-at-takeover` (`pause-etcd-at-takeover`): pause the DNS server (a majority of the etcd members) this long after the kill, or as soon as the Secondary logs TAKEOVER_STARTED. */
  readonly dnsPause?: { readonly trigger: 'after-kill'; readonly delayMs: number } | { readonly trigger: 'takeover-started' };
  /** For `pause-dns-at-takeover` (`pause-etcd-at-takeover`): the restart of the killed node, this long after the DNS server (the etcd members) resumes. */
  readonly restartDelayMs?: number;
  /** For `restart-both`: how the nodes are stopped, which starts first, and how long before the other. */
  readonly restart?: { readonly signal: 'SIGKILL' | 'SIGTERM'; readonly first: Side; readonly staggerMs: number };
  /** For `pause-etcd-member`, `kill-etcd-member`: which member, by its role in raft when the fault starts. */
  readonly etcdMember?: 'leader' | 'follower';
  /** For `pause-etcd-quorum`, `pause-etcd-at-takeover` (and a failover under a majority paused): whether the leader is among the members paused. */
  readonly etcdWithLeader?: boolean;
  /** The quiet time after the group recovered, before the next fault. */
  readonly gapMs: number;
}

/** A small, fast, seeded generator (mulberry32): the same seed gives the same numbers on every platform. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A float in [from, to). */
  between(from: number, to: number): number {
    return from + (to - from) * this.next();
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  }
}

/** The bounds every duration of the schedule derives from. */
export interface ScheduleBounds {
  /** A: the failover period, ms. */
  readonly absenceMs: number;
  /** The quiet gap after recovery: 2 to 4 A. */
  readonly gapMs: readonly [number, number];
  /** How long to wait for the group to be healthy again after a fault ended before going on regardless. */
  readonly recoveryDeadlineMs: number;
}

export function scheduleBounds(timers: TestTimers): ScheduleBounds {
  const absenceMs = timers.absence * 1000;
  // A restart is a process start (about a second on a loaded machine) plus a standby check and a takeover.
  return { absenceMs, gapMs: [2 * absenceMs, 4 * absenceMs], recoveryDeadlineMs: Math.max(20 * absenceMs, 20_000) };
}

/**
 * The seeded fault schedule: `next()` plans the next fault. Unbounded by itself; the runner stops asking once its time
 * budget is spent (and, when asked, once at least one whole round ran).
 */
export class FaultSchedule {
  readonly bounds: ScheduleBounds;
  readonly #random: Random;
  #bag: FaultKind[] = [];
  #round = -1;
  #index = 0;

  readonly kinds: readonly FaultKind[];
  readonly #underFailover: readonly FaultUnderFailover[];

  /** `kinds`: a part of the coordination's kinds to draw from (a shorter round), in their order; default all of them. */
  constructor(
    readonly seed: number,
    timers: TestTimers,
    readonly coordination: ChaosCoordination = 'dns',
    kinds?: readonly FaultKind[],
  ) {
    this.#random = new Random(seed);
    this.bounds = scheduleBounds(timers);
    const all = faultKindsFor(coordination);
    const unknown = (kinds ?? []).filter((kind) => !all.includes(kind));
    if (unknown.length > 0) throw new Error(`fault kinds ${unknown.join(', ')} do not apply to coordination ${coordination} (its kinds: ${all.join(', ')})`);
    this.kinds = kinds === undefined ? all : all.filter((kind) => kinds.includes(kind));
    this.#underFailover = coordination === 'etcd' ? ETCD_FAULTS_UNDER_FAILOVER : FAULTS_UNDER_FAILOVER;
  }

  /** The round of the fault `next()` returned last (0 = the first). */
  get round(): number {
    return this.#round;
  }

  /** Whether the bag of the current round is empty: the last fault returned completed a round. */
  get roundComplete(): boolean {
    return this.#bag.length === 0;
  }

  next(): FaultPlan {
    if (this.#bag.length === 0) {
      this.#bag = this.#random.shuffle(this.kinds);
      this.#round += 1;
    }
    const kind = this.#bag.shift()!;
    const r = this.#random;
    const A = this.bounds.absenceMs;
    const base = { index: this.#index++, kind, round: this.#round };
    const gapMs = Math.round(r.between(...this.bounds.gapMs));
    const side = (): Side => r.pick(['primary', 'secondary'] as const);
    switch (kind) {
      case 'kill-primary':
      case 'kill-secondary':
        // Some restarts come back before the Secondary's failover period ran out, most after.
        return { ...base, holdMs: Math.round(r.between(0.2 * A, 3 * A)), gapMs };
      case 'pause-primary-1.5x':
        return { ...base, holdMs: Math.round(1.5 * A), gapMs };
      case 'pause-primary-3x':
        return { ...base, holdMs: Math.round(3 * A), gapMs };
      case 'pause-secondary':
      case 'pause-dns':
        return { ...base, holdMs: Math.round(r.between(A, 3 * A)), gapMs };
      case 'pause-dns-at-takeover': {
        const dnsPause = r.next() < 0.5 ? ({ trigger: 'after-kill', delayMs: Math.round(r.between(0, A)) } as const) : ({ trigger: 'takeover-started' } as const);
        return { ...base, holdMs: Math.round(r.between(A, 3 * A)), dnsPause, restartDelayMs: Math.round(r.between(0, A)), gapMs };
      }
      case 'pause-etcd-member':
        return { ...base, holdMs: Math.round(r.between(A, 4 * A)), etcdMember: r.pick(['leader', 'follower'] as const), gapMs };
      case 'pause-etcd-quorum':
        return { ...base, holdMs: Math.round(r.between(A, 4 * A)), etcdWithLeader: r.next() < 0.5, gapMs };
      case 'kill-etcd-member':
        return { ...base, holdMs: Math.round(r.between(A, 4 * A)), etcdMember: r.pick(['leader', 'follower'] as const), gapMs };
      case 'pause-etcd-at-takeover': {
        const dnsPause = r.next() < 0.5 ? ({ trigger: 'after-kill', delayMs: Math.round(r.between(0, A)) } as const) : ({ trigger: 'takeover-started' } as const);
        return { ...base, holdMs: Math.round(r.between(A, 3 * A)), dnsPause, etcdWithLeader: r.next() < 0.5, restartDelayMs: Math.round(r.between(0, A)), gapMs };
      }
      case 'cut-out':
      case 'cut-in':
      case 'cut-both':
        return { ...base, holdMs: Math.round(r.between(A, 4 * A)), cutSide: side(), gapMs };
      case 'failover':
        return { ...base, holdMs: 0, failoverOn: side(), gapMs };
      case 'failover-during-fault': {
        const under = r.pick(this.#underFailover);
        const holdMs = under === 'pause-primary-1.5x' ? Math.round(1.5 * A) : Math.round(r.between(1.5 * A, 4 * A));
        const plan = { ...base, holdMs, under, failoverOn: side(), failoverDelayMs: Math.round(r.between(0.05, 0.8) * holdMs), cutSide: side(), gapMs };
        // Drawn only under an etcd fault: the DNS schedule of a seed stays what it was.
        return under === 'pause-etcd-quorum' ? { ...plan, etcdWithLeader: r.next() < 0.5 } : plan;
      }
      case 'restart-both':
        return {
          ...base,
          holdMs: Math.round(r.between(0.2 * A, 2 * A)),
          restart: { signal: r.pick(['SIGKILL', 'SIGTERM'] as const), first: side(), staggerMs: Math.round(r.between(0, A)) },
          gapMs,
        };
    }
  }
}

/** One line saying what a planned fault does. */
export function describePlan(plan: FaultPlan): string {
  const ms = (value: number) => `${value} ms`;
  switch (plan.kind) {
    case 'kill-primary':
    case 'kill-secondary':
      return `${plan.kind}: kill -9, restart after ${ms(plan.holdMs)}`;
    case 'pause-primary-1.5x':
    case 'pause-primary-3x':
    case 'pause-secondary':
    case 'pause-dns':
      return `${plan.kind}: SIGSTOP for ${ms(plan.holdMs)}`;
    case 'pause-dns-at-takeover':
      return `${plan.kind}: kill -9 of the Primary, DNS server SIGSTOP ${plan.dnsPause!.trigger === 'after-kill' ? `${ms(plan.dnsPause!.delayMs)} after the kill` : 'as the Secondary logs TAKEOVER_STARTED'} for ${ms(plan.holdMs)}, restart ${ms(plan.restartDelayMs!)} after it resumes`;
    case 'cut-out':
    case 'cut-in':
    case 'cut-both':
      return `${plan.kind}: '${plan.kind.slice(4)}' written on the ${plan.cutSide} for ${ms(plan.holdMs)}`;
    case 'failover':
      return `failover: PUT /failover on the ${plan.failoverOn}`;
    case 'failover-during-fault':
      return `failover-during-fault: ${plan.under}${plan.under!.startsWith('cut-') ? ` (on the ${plan.cutSide})` : ''}${plan.under === 'pause-etcd-quorum' ? ` (${plan.etcdWithLeader ? 'with' : 'without'} the leader)` : ''} for ${ms(plan.holdMs)}, PUT /failover on the ${plan.failoverOn} ${ms(plan.failoverDelayMs!)} into it`;
    case 'restart-both':
      return `restart-both: ${plan.restart!.signal} to both, ${ms(plan.holdMs)} down, the ${plan.restart!.first} first, the other ${ms(plan.restart!.staggerMs)} later`;
    case 'pause-etcd-member':
      return `pause-etcd-member: SIGSTOP of a ${plan.etcdMember} for ${ms(plan.holdMs)}`;
    case 'pause-etcd-quorum':
      return `pause-etcd-quorum: SIGSTOP of a majority (${plan.etcdWithLeader ? 'with' : 'without'} the leader) for ${ms(plan.holdMs)}`;
    case 'kill-etcd-member':
      return `kill-etcd-member: kill -9 of a ${plan.etcdMember}, restart after ${ms(plan.holdMs)}`;
    case 'pause-etcd-at-takeover':
      return `pause-etcd-at-takeover: kill -9 of the Primary, SIGSTOP of a majority (${plan.etcdWithLeader ? 'with' : 'without'} the leader) ${plan.dnsPause!.trigger === 'after-kill' ? `${ms(plan.dnsPause!.delayMs)} after the kill` : 'as the Secondary logs TAKEOVER_STARTED'} for ${ms(plan.holdMs)}, restart ${ms(plan.restartDelayMs!)} after it resumes`;
  }
}
