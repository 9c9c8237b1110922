/**
 * The simulator's trace: every transition, peer message, DNS operation, fault, workload step, emitted event and
 * property violation, stamped with simulated time. The JSON format is documented in docs/trace-format.md; the
 * inspector replays it. Entries appear in the order they happened; `t` never decreases.
 */
import type { Scenario, SimNodeId } from './scenario.js';

/** Name and version of the trace format. */
export const TRACE_FORMAT = 'ag-sim-trace';
export const TRACE_VERSION = 1;

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
  /** The server's records after the operation (on `served`), or the read result. */
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

export type TraceEntry = TransitionEntry | EmittedEntry | MessageEntry | DnsEntry | FaultEntry | WorkloadEntry | ViolationEntry;

/** A whole run as data: the scenario (enough to replay it) and what happened. */
export interface TraceDocument {
  readonly format: typeof TRACE_FORMAT;
  readonly version: typeof TRACE_VERSION;
  readonly scenario: Scenario;
  /** The broken variant the run used, or null for the real machine. */
  readonly variant: string | null;
  /** Node addresses, for reading DNS records in the trace. */
  readonly nodes: Readonly<Record<SimNodeId, { readonly address: string }>>;
  readonly entries: readonly TraceEntry[];
}
