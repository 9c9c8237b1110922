import type { GroupRecords } from '../../../machines/nodeMachine.types.js';
import type { DnsAuthority, RecordsExpectation, RecordsReplacement, UpdateOptions } from '../../dns/dnsAuthority.js';
import { DnsUnreachableError } from '../../dns/errors.js';
import { InMemoryDnsAuthority } from '../../dns/inMemoryDnsAuthority.js';
import type { ScenarioNetwork } from '../scenario.js';
import type { FaultConditions } from './faultConditions.js';
import type { SimHost } from './simHost.js';
import type { SimKernel } from './kernel.js';

/** What the simulated DNS tells the property monitor about every update it applied. */
export interface DnsApplied {
  readonly writer: SimHost;
  /** The writer's incarnation when it sent the update (a restarted node's writes carry a higher one). */
  readonly incarnation: number;
  readonly before: GroupRecords;
  readonly after: GroupRecords;
}

/**
 * A broken variant's change to how one node talks to DNS (see brokenVariants.ts). The real node uses none.
 */
export interface DnsVariantHook {
  /** Rewrites an update before it is sent. */
  update?(host: SimHost, expectation: RecordsExpectation, replacement: RecordsReplacement): { expectation: RecordsExpectation; replacement: RecordsReplacement };
  /** Rewrites a read's answer before the node sees it. */
  read?(host: SimHost, answer: GroupRecords, memory: DnsReadMemory): GroupRecords;
}

/** What the simulated DNS client of one machine remembers across the node's restarts (for variants). */
export interface DnsReadMemory {
  /** The records as any incarnation of the node last knew them (read, or written by it), and that incarnation. */
  lastKnown: { readonly records: GroupRecords; readonly incarnation: number } | null;
}

/**
 * The simulated DNS server and the paths to it. The server is an `InMemoryDnsAuthority` whose `apply` runs at the
 * simulated instant an update reaches it. Requests and answers each take a delay; an outage or a cut path loses
 * them, so a node may time out on an update that was applied. A slow-answers fault adds delay both ways.
 */
export class SimDns {
  readonly server = new InMemoryDnsAuthority();
  readonly #kernel: SimKernel;
  readonly #network: ScenarioNetwork;
  readonly #faults: FaultConditions;
  readonly #onApplied: (applied: DnsApplied) => void;
  #nextId = 1;

  constructor(kernel: SimKernel, network: ScenarioNetwork, faults: FaultConditions, onApplied: (applied: DnsApplied) => void) {
    this.#kernel = kernel;
    this.#network = network;
    this.#faults = faults;
    this.#onApplied = onApplied;
  }

  /**
   * The DNS port of `host`'s current incarnation.
   *
   * @example
   * const node = createNode(settings, { dns: simDns.port(host, null, memory), clock: host.clock() });
   */
  port(host: SimHost, hook: DnsVariantHook | null, memory: DnsReadMemory): DnsAuthority {
    const incarnation = host.incarnation;
    return {
      read: async (fqdn: string) => {
        const answer = await this.#request<GroupRecords>(host, incarnation, 'read', fqdn, () => this.server.peek(fqdn));
        const seen = hook?.read === undefined ? answer : hook.read(host, answer, memory);
        memory.lastKnown = { records: answer, incarnation };
        return seen;
      },
      compareAndSwap: async (fqdn: string, expectation: RecordsExpectation, replacement: RecordsReplacement, options: UpdateOptions) => {
        const update = hook?.update === undefined ? { expectation, replacement } : hook.update(host, expectation, replacement);
        const written = await this.#request<GroupRecords>(host, incarnation, 'update', fqdn, () => {
          const before = this.server.peek(fqdn);
          this.server.apply(fqdn, update.expectation, update.replacement, options);
          const after = this.server.peek(fqdn);
          this.#onApplied({ writer: host, incarnation, before, after });
          return after;
        });
        memory.lastKnown = { records: written, incarnation };
      },
    };
  }

  #delay(): number {
    const [min, max] = this.#network.dnsDelayMs;
    return this.#kernel.rng.between(min, max) + this.#faults.dnsExtraMs(this.#kernel.now);
  }

  /** One request/answer exchange with the server; `serve` runs at the server when (if) the request arrives. */
  #request<T>(host: SimHost, incarnation: number, op: 'read' | 'update', fqdn: string, serve: () => T): Promise<T> {
    const kernel = this.#kernel;
    const id = this.#nextId++;
    const node = host.id;
    const clock = host.clock();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        if (kernel.traceAll) kernel.trace({ kind: 'dns', t: kernel.now, action: 'timeout', id, node, op });
        reject(new DnsUnreachableError(`Simulated DNS did not answer within ${this.#network.requestTimeoutMs} ms.`));
      }, this.#network.requestTimeoutMs);
      const settle = (finish: () => void) => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        finish();
      };
      if (kernel.traceAll) kernel.trace({ kind: 'dns', t: kernel.now, action: 'request', id, node, op });
      if (!this.#faults.dnsReachable(node, kernel.now)) {
        if (kernel.traceAll) kernel.trace({ kind: 'dns', t: kernel.now, action: 'lost', id, node, op, detail: 'no path to the server' });
        return;
      }
      kernel.after(this.#delay(), () => {
        if (!this.#faults.dnsReachable(node, kernel.now)) {
          if (kernel.traceAll) kernel.trace({ kind: 'dns', t: kernel.now, action: 'lost', id, node, op, detail: 'server unreachable' });
          return;
        }
        let outcome: { ok: true; value: T } | { ok: false; error: unknown };
        try {
          outcome = { ok: true, value: serve() };
          if (kernel.traceAll) kernel.trace({ kind: 'dns', t: kernel.now, action: 'served', id, node, op, records: this.server.peek(fqdn) });
        } catch (error) {
          outcome = { ok: false, error };
          if (kernel.traceAll) kernel.trace({ kind: 'dns', t: kernel.now, action: 'refused', id, node, op, detail: (error as Error).message });
        }
        kernel.after(this.#delay(), () => {
          // The server acted; if the node's path is cut now, the node never learns how (an update may be applied).
          if (this.#faults.dnsPathCut(node, kernel.now)) {
            if (kernel.traceAll) kernel.trace({ kind: 'dns', t: kernel.now, action: 'answer-lost', id, node, op });
            return;
          }
          host.deliver(incarnation, () =>
            settle(() => {
              // A read's answer carries the records as the server read them: what the node learns.
              const records = op === 'read' && outcome.ok ? { records: outcome.value as GroupRecords } : {};
              if (kernel.traceAll) kernel.trace({ kind: 'dns', t: kernel.now, action: 'answer', id, node, op, ...records });
              if (outcome.ok) resolve(outcome.value);
              else reject(outcome.error);
            }),
          );
        });
      });
    });
  }
}
