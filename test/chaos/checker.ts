/**
 * The fault suite's observer: polls every node's `GET /ag/api/v1/state` (two, or all N with `--members N`) and the address the authority names (the group
 * FQDN's A record over DNS, or the group's etcd address key with `coordination: etcd`), each on its own loop every
 * `intervalMs` (10 ms), and notes every node process's exit. Every sample carries two instants on
 * the machine's monotonic clock (the clock of the nodes' `mono` log field): `sentAt`, taken before the request left,
 * and `at`, when its answer was read. The node answered at some instant in between; the analysis never assumes which.
 * The nodes' event streams are read from their logs at the end (test/support/announcements.ts).
 */
import { machineMonotonicMs } from '../../src/api/logger.js';
import type { AgctlProcess, TestNodePair, TestNode } from '../support/processes.js';

/** The fields of GET /state the analysis uses. */
export interface PolledState {
  readonly node_role: string;
  readonly acting_primary: boolean;
  readonly lease_remaining_ms: number | null;
  readonly epoch: number;
  readonly heartbeat_method: string | null;
  readonly node_dns_connection_state: string;
  readonly state: string;
}

export interface StateSample {
  readonly node: string;
  /** Which process of the node was running when the request left (index into `TestNode.processes`). */
  readonly run: number;
  readonly sentAt: number;
  readonly at: number;
  /** null: no answer (refused, timed out, not 200). */
  readonly state: PolledState | null;
}

/** One poll of the address the authority names (the A record; with etcd, the address key). */
export interface DnsSample {
  readonly sentAt: number;
  readonly at: number;
  /** The address; null when the query failed or timed out. */
  readonly address: string | null;
}

/** Reads the address the authority names now, within `timeoutMs`; rejects or resolves null when it cannot. */
export type AddressReader = (timeoutMs: number) => Promise<string | null>;

export interface ProcessExit {
  readonly node: string;
  readonly run: number;
  readonly pid: number;
  /** When the exit was seen. */
  readonly at: number;
  readonly code: number | null;
  /** The suite stopped it (kill -9, SIGTERM); anything else is a crash. */
  readonly expected: boolean;
  /** What the process wrote on stderr and its last log lines, for a crash. */
  readonly last: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export class Checker {
  readonly samples: StateSample[] = [];
  readonly dnsSamples: DnsSample[] = [];
  readonly exits: ProcessExit[] = [];
  readonly #expected = new WeakSet<AgctlProcess>();
  readonly #watched = new WeakSet<AgctlProcess>();
  readonly #loops: Promise<void>[] = [];
  #running = false;

  constructor(
    readonly cluster: Pick<TestNodePair, 'a' | 'b'> & { readonly nodes?: readonly TestNode[] },
    /** The authority's address: the A record (a plain DNS query), or the etcd address key (a linearizable read). */
    readonly readAddress: AddressReader,
    readonly intervalMs = 10,
    /** A state request that takes longer is given up (a paused node): the sample says no answer. */
    readonly requestTimeoutMs = 1000,
    readonly dnsTimeoutMs = 100,
  ) {}

  start(): void {
    this.#running = true;
    for (const node of this.cluster.nodes ?? [this.cluster.a, this.cluster.b]) {
      this.watch(node);
      this.#loops.push(this.#pollNode(node));
    }
    this.#loops.push(this.#pollDns());
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  /** Notes the exit of the node's current process (call after every start). */
  watch(node: TestNode): void {
    const process = node.process;
    if (process === null || this.#watched.has(process)) return;
    this.#watched.add(process);
    const run = node.processes.indexOf(process);
    void process.exited().then((code) => {
      this.exits.push({ node: node.id, run, pid: process.pid, at: machineMonotonicMs(), code, expected: this.#expected.has(process), last: this.#expected.has(process) ? '' : process.describe(20) });
    });
  }

  /** Marks the node's current process as about to be stopped by the suite: its exit is no crash. */
  expectExit(node: TestNode): void {
    if (node.process !== null) this.#expected.add(node.process);
  }

  /** The newest answered sample of `node` at or before `at` (or the newest of all). */
  latest(node: string, at = Infinity): StateSample | undefined {
    for (let i = this.samples.length - 1; i >= 0; i--) {
      const sample = this.samples[i]!;
      if (sample.node === node && sample.at <= at) return sample;
    }
    return undefined;
  }

  async #pollNode(node: TestNode): Promise<void> {
    while (this.#running) {
      const run = node.processes.length - 1;
      const sentAt = machineMonotonicMs();
      let state: PolledState | null = null;
      try {
        const response = await fetch(`${node.url}/ag/api/v1/state`, { headers: { authorization: `Bearer ${node.token}` }, signal: AbortSignal.timeout(this.requestTimeoutMs) });
        const body = (await response.json()) as Record<string, any>;
        if (response.status === 200) {
          state = {
            node_role: body.node_role,
            acting_primary: body.acting_primary === true,
            lease_remaining_ms: body.lease_remaining_ms ?? null,
            epoch: body.epoch,
            heartbeat_method: body.heartbeat_method ?? null,
            node_dns_connection_state: body.node_dns_connection_state,
            state: body.state,
          };
        }
      } catch {
        state = null;
      }
      const at = machineMonotonicMs();
      this.samples.push({ node: node.id, run, sentAt, at, state });
      // A node that does not answer (killed, paused) is asked again at the same pace, not hammered.
      await sleep(state === null ? Math.max(this.intervalMs, 20) : this.intervalMs);
    }
  }

  async #pollDns(): Promise<void> {
    while (this.#running) {
      const sentAt = machineMonotonicMs();
      let address: string | null = null;
      try {
        address = await this.readAddress(this.dnsTimeoutMs);
      } catch {
        address = null;
      }
      this.dnsSamples.push({ sentAt, at: machineMonotonicMs(), address });
      await sleep(this.intervalMs);
    }
  }
}

/** The resident set size of a process in KiB (from /proc), or null when it is gone or unreadable. */
export async function rssKiB(pid: number | null | undefined): Promise<number | null> {
  if (pid === null || pid === undefined || pid <= 0) return null;
  try {
    const { readFile } = await import('node:fs/promises');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}
