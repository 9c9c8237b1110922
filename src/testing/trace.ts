/**
 * The simulator's trace: every transition, change of a node's acting flag or of its seen heartbeat, peer message,
 * DNS operation, fault, workload step, emitted event and property violation, stamped with simulated time. The JSON format is documented in docs/trace-format.md; the
 * inspector replays it. Entries appear in the order they happened; `t` never decreases.
 */
import type { Scenario, SimNodeId } from './scenario.js';

/** Name and version of the trace format. */
export const TRACE_FORMAT = 'ag-sim-trace';
/** Version 2 added `acting` and `leaseUntil` to transitions, the `acting` and `progress` entries, and records on read answers. */
export const TRACE_VERSION = 2;

/** A node's statechart changed state (or role, epoch or DNS connection state). */
export interface TransitionEntry {
  readonly kind: 'transition';
  readonly t: number;
  readonly node: SimNodeId;
  /** Counts the node's starts: 1 for the first run, 2 after the first restart, ... */
  readonly incarnation: number;
  /** The state label after the transition (machines/stateLabel.ts), e.g. `secondary.watching`. */
  readonly state: string;
  /** The event that caused it, e.g. `HEARTBEAT_RECEIVED`, `xstate.after.standbyCheckInterval...`, `xstate.done.actor...`. */
  readonly event: string;
  readonly role: string | null;
  readonly epoch: number;
  /** Own sequence number on a Primary, newest seen sequence number otherwise. */
  readonly seq: number | null;
  readonly dnsConnection: string;
  /** The node's monotonic clock at the transition (ms). */
  readonly monotonic: number;
  /** Whether the node acts as Primary after the transition: role primary and a lease valid on its own clock. */
  readonly acting: boolean;
  /**
   * When (simulated true time, ms) the node's lease runs out as it stands after the transition; null when it holds
   * none. Later confirmed heartbeats extend it without a transition; when it runs out without one, an `acting`
   * entry says so.
   */
  readonly leaseUntil: number | null;
}

/** A node stopped acting as Primary without a transition: its lease ran out, or its process crashed. */
export interface ActingEntry {
  readonly kind: 'acting';
  readonly t: number;
  readonly node: SimNodeId;
  readonly incarnation: number;
  readonly acting: false;
  /** `lease-ran-out`: its clock passed the lease's end (a paused node notices on resume); `crash`: the process died. */
  readonly cause: 'lease-ran-out' | 'crash';
}

/** The newest (epoch, seq) a node outside the primary state has seen changed: a Secondary's progress (rule 1). */
export interface ProgressEntry {
  readonly kind: 'progress';
  readonly t: number;
  readonly node: SimNodeId;
  readonly incarnation: number;
  readonly epoch: number;
  readonly seq: number;
  /** How the newest heartbeat arrived: `direct`, `dns`, or null when none did (a Primary that stepped down). */
  readonly via: string | null;
}

/** An event the node emitted to its subscribers (`NODE_ROLE_CHANGED`, `LEASE_LOST`, ...). */
export interface EmittedEntry {
  readonly kind: 'emitted';
  readonly t: number;
  readonly node: SimNodeId;
  readonly eventId: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** A peer message's life: sent, dropped, delivered (maybe twice), answered, timed out. */
export interface MessageEntry {
  readonly kind: 'message';
  readonly t: number;
  readonly action: 'send' | 'drop' | 'deliver' | 'duplicate' | 'reply' | 'reply-drop' | 'answer' | 'timeout' | 'ignored';
  readonly id: number;
  readonly from: SimNodeId;
  readonly to: SimNodeId;
  /** The message type: `heartbeat`, `handover`, `step-down`, `join`. */
  readonly type: string;
  readonly detail?: string;
}

/** A DNS operation's life: request sent, lost, applied (or refused) at the server, answered, timed out. */
export interface DnsEntry {
  readonly kind: 'dns';
  readonly t: number;
  readonly action: 'request' | 'lost' | 'served' | 'refused' | 'answer' | 'answer-lost' | 'timeout';
  readonly id: number;
  readonly node: SimNodeId;
  readonly op: 'read' | 'update';
  /** On `served`: the server's records after the operation; on a read's `answer`: the records the answer holds. */
  readonly records?: { readonly address: string | null; readonly txt: string | null };
  readonly detail?: string;
}

/** A fault began or ended. */
export interface FaultEntry {
  readonly kind: 'fault';
  readonly t: number;
  readonly action: 'start' | 'end';
  readonly fault: string;
  readonly node?: SimNodeId;
}

/** A workload step (group setup, manual failover) began, completed or failed. */
export interface WorkloadEntry {
  readonly kind: 'workload';
  readonly t: number;
  readonly node: SimNodeId;
  readonly action: string;
  readonly outcome: 'begin' | 'done' | 'failed' | 'skipped';
  readonly detail?: string;
}

/** A property failed at this instant. */
export interface ViolationEntry {
  readonly kind: 'violation';
  readonly t: number;
  readonly property: string;
  readonly message: string;
  readonly node?: SimNodeId;
}

export type TraceEntry = TransitionEntry | ActingEntry | ProgressEntry | EmittedEntry | MessageEntry | DnsEntry | FaultEntry | WorkloadEntry | ViolationEntry;

/** A whole run as data: the scenario (enough to replay it) and what happened. */
export interface TraceDocument {
  readonly format: typeof TRACE_FORMAT;
  readonly version: typeof TRACE_VERSION;
  readonly scenario: Scenario;
  /** The broken variant the run used, or null for the real machine. */
  readonly variant: string | null;
  /** The scenario's nodes (`a`, `b`, ... as many as its `members`) and their addresses, for reading DNS records. */
  readonly nodes: Readonly<Partial<Record<SimNodeId, { readonly address: string }>>>;
  readonly entries: readonly TraceEntry[];
}
