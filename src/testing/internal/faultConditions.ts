import { faultEnd, type Fault, type SimNodeId } from '../scenario.js';

/** How a link behaves at one instant. */
export interface LinkState {
  readonly blocked: boolean;
  readonly loss: number;
  readonly duplicate: number;
  readonly extraMs: number;
}

/**
 * Answers "what do the faults do at time t" and "was anything wrong during [start, end]" from a scenario's fault
 * list. Faults are few, so a scan is fast enough and obviously right.
 */
export class FaultConditions {
  readonly #faults: readonly Fault[];

  constructor(faults: readonly Fault[]) {
    this.#faults = faults;
  }

  /** The peer link `from -> to` at time `t`. */
  link(from: SimNodeId, to: SimNodeId, t: number): LinkState {
    let blocked = false;
    let loss = 0;
    let duplicate = 0;
    let extraMs = 0;
    for (const fault of this.#active(t)) {
      if (!('from' in fault) || fault.from !== from || fault.to !== to) continue;
      if (fault.kind === 'partition') blocked = true;
      else if (fault.kind === 'lossy') {
        loss = Math.max(loss, fault.loss);
        duplicate = Math.max(duplicate, fault.duplicate);
      } else if (fault.kind === 'slowLink') extraMs += fault.extraMs;
    }
    return { blocked, loss, duplicate, extraMs };
  }

  /** Whether `node` can reach the DNS server at `t` (server up and its path not cut). */
  dnsReachable(node: SimNodeId, t: number): boolean {
    return !this.#active(t).some((fault) => fault.kind === 'dnsOutage' || (fault.kind === 'dnsCut' && fault.node === node));
  }

  /** Whether `node`'s own path to the DNS server is cut at `t` (an answer in flight is lost). */
  dnsPathCut(node: SimNodeId, t: number): boolean {
    return this.#active(t).some((fault) => fault.kind === 'dnsCut' && fault.node === node);
  }

  /** Extra DNS delay at `t` (slow answers). */
  dnsExtraMs(t: number): number {
    return this.#active(t).reduce((sum, fault) => sum + (fault.kind === 'dnsSlow' ? fault.extraMs : 0), 0);
  }

  /** Whether any fault matching `predicate` overlaps [start, end]. */
  anyDuring(start: number, end: number, predicate: (fault: Fault) => boolean): boolean {
    return this.#faults.some((fault) => fault.at <= end && faultEnd(fault) >= start && predicate(fault));
  }

  /**
   * Whether the peer link `from -> to` delivered every message within `boundMs` during [start, end]: no partition
   * and no loss on it (duplicates do no harm), and the base delay `baseMaxMs` plus every slow-link delay that
   * overlaps the interval below the bound. Faults on the other direction do not count.
   */
  linkDelivers(from: SimNodeId, to: SimNodeId, start: number, end: number, baseMaxMs: number, boundMs: number): boolean {
    let extraMs = 0;
    for (const fault of this.#faults) {
      if (!('from' in fault) || fault.from !== from || fault.to !== to || fault.at > end || faultEnd(fault) < start) continue;
      if (fault.kind === 'partition' || (fault.kind === 'lossy' && fault.loss > 0)) return false;
      if (fault.kind === 'slowLink') extraMs += fault.extraMs;
    }
    return baseMaxMs + extraMs < boundMs;
  }

  /**
   * Whether every node in `nodes` reached the DNS server and got its answers within `roundTripBoundMs` during
   * [start, end]: no outage, no cut path of one of them, and a round trip, two times the base delay `baseMaxMs`
   * plus every slow-answers delay that overlaps the interval, below the bound.
   */
  dnsDelivers(nodes: readonly SimNodeId[], start: number, end: number, baseMaxMs: number, roundTripBoundMs: number): boolean {
    let extraMs = 0;
    for (const fault of this.#faults) {
      if (fault.at > end || faultEnd(fault) < start) continue;
      if (fault.kind === 'dnsOutage' || (fault.kind === 'dnsCut' && nodes.includes(fault.node))) return false;
      if (fault.kind === 'dnsSlow') extraMs += fault.extraMs;
    }
    return 2 * (baseMaxMs + extraMs) < roundTripBoundMs;
  }

  /** Whether the DNS path of one of `nodes` had any fault (slow answers included) during [start, end]. */
  dnsPathFaulty(nodes: readonly SimNodeId[], start: number, end: number): boolean {
    return this.anyDuring(
      start,
      end,
      (fault) => fault.kind === 'dnsOutage' || fault.kind === 'dnsSlow' || (fault.kind === 'dnsCut' && nodes.includes(fault.node)),
    );
  }

  /** Whether `node` was paused, crashed or restarting at any time during [start, end]. */
  nodeFaulty(node: SimNodeId, start: number, end: number): boolean {
    return this.anyDuring(start, end, (fault) => (fault.kind === 'pause' || fault.kind === 'crash') && fault.node === node);
  }

  /** Whether `node`'s application is unhealthy at `t` (rule 10). */
  applicationUnhealthy(node: SimNodeId, t: number): boolean {
    return this.#active(t).some((fault) => fault.kind === 'appUnhealthy' && fault.node === node);
  }

  #active(t: number): Fault[] {
    return this.#faults.filter((fault) => fault.at <= t && t < faultEnd(fault));
  }
}
