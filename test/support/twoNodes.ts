import type { InspectionEvent } from 'xstate';
import { EventId } from '../../src/api/constants.js';
import type { NodeEvent } from '../../src/api/events.js';
import type { DnsAuthority, RecordsExpectation, RecordsReplacement, UpdateOptions } from '../../src/dns/dnsAuthority.js';
import { InMemoryDnsAuthority } from '../../src/dns/inMemoryDnsAuthority.js';
import { createNode, type AvailabilityNode, type NodePorts } from '../../src/node/createNode.js';
import { silentLogger } from '../../src/api/logger.js';
import { InMemoryNodeStore } from '../../src/node/nodeStore.js';
import type { SettingsInput } from '../../src/node/settings.js';
import { InMemoryPeerNetwork } from '../../src/peer/inMemoryPeerNetwork.js';
import type { GroupRecords } from '../../machines/nodeMachine.types.js';
import { ManualClock } from './manualClock.js';

export const FQDN = 'app.example.test';

/** Timers of the test group, seconds: heartbeat 1, check 1, failover period 5 (lease 3.75). */
export const GROUP_TIMERS = { health_report_interval: 1, health_check_interval: 1, allowed_absence_interval: 5 } as const;

/**
 * A DNS authority whose compare-and-swaps can be intercepted: `beforeUpdate` runs just before each one reaches the
 * records (to make another writer win a race, or to see what each update expects and writes).
 */
export class HookedDns implements DnsAuthority {
  readonly inner = new InMemoryDnsAuthority();
  beforeUpdate: ((fqdn: string, replacement: RecordsReplacement, expectation: RecordsExpectation) => void) | null = null;
  reads = 0;
  updates = 0;
  /** While true, reads wait until `release()`: an answer in flight, so events can arrive meanwhile. */
  holdReads = false;
  #held: Array<() => void> = [];

  async read(fqdn: string): Promise<GroupRecords> {
    this.reads += 1;
    if (this.holdReads) await new Promise<void>((resolve) => this.#held.push(resolve));
    return this.inner.read(fqdn);
  }
  /** Lets every held read go on. */
  release(): void {
    this.holdReads = false;
    for (const resolve of this.#held.splice(0)) resolve();
  }
  async compareAndSwap(fqdn: string, expectation: RecordsExpectation, replacement: RecordsReplacement, options: UpdateOptions): Promise<void> {
    this.updates += 1;
    const hook = this.beforeUpdate;
    hook?.(fqdn, replacement, expectation);
    return this.inner.compareAndSwap(fqdn, expectation, replacement, options);
  }
  setReachable(reachable: boolean): void {
    this.inner.setReachable(reachable);
  }
  records(): GroupRecords {
    return this.inner.peek(FQDN);
  }
}

/** One node's own settings and ports in the harness (beyond the group's). */
export interface NodeExtras {
  readonly settings?: Partial<SettingsInput>;
  readonly ports?: Partial<NodePorts>;
}

/** One node of the harness, with every event its subscriber saw. */
export interface HarnessNode {
  node: AvailabilityNode;
  readonly id: string;
  readonly address: string;
  readonly store: InMemoryNodeStore;
  readonly events: NodeEvent[];
  /** Restarts the node process from its persisted store (a crash first, when it runs). */
  restart(): Promise<void>;
  /** Stops the node without handing over: a crash. */
  crash(): Promise<void>;
}

/**
 * Two nodes, a and b, on one manual clock, one hooked in-memory DNS authority and one in-memory network. Every event
 * of every id is recorded per node; `transitions` records every transition taken (for coverage).
 */
export class TwoNodes {
  readonly clock = new ManualClock();
  readonly dns = new HookedDns();
  readonly network = new InMemoryPeerNetwork();
  readonly transitions: InspectionEvent[] = [];
  readonly a: HarnessNode;
  readonly b: HarnessNode;

  /** `nodes`: node-level settings and ports of one node (an application health check and its probe, say). */
  constructor(options: { group?: Partial<SettingsInput>; machine?: NodePorts['machine']; nodes?: Partial<Record<'a' | 'b', NodeExtras>> } = {}) {
    this.a = this.#makeNode('a', '127.0.0.2', { group_fqdn: FQDN, ...GROUP_TIMERS, ...options.group, ...options.nodes?.a?.settings }, options.machine, options.nodes?.a?.ports);
    this.b = this.#makeNode('b', '127.0.0.3', { ...options.nodes?.b?.settings }, options.machine, options.nodes?.b?.ports);
  }

  /** Starts both nodes, forms the group with a as Primary and b as Secondary, and lets one heartbeat flow. */
  async formGroup(): Promise<void> {
    await this.a.node.start();
    await this.b.node.start();
    await this.a.node.createGroup();
    await this.b.node.joinGroup({ address: this.a.address });
    await this.clock.advance(1_100);
  }

  /** Cuts the direct path both ways. */
  cutDirectPath(): void {
    this.network.cut('a', 'b');
    this.network.cut('b', 'a');
  }

  async stopAll(): Promise<void> {
    for (const harnessNode of [this.a, this.b]) await harnessNode.node.stop({ handOver: false }).catch(() => undefined);
  }

  #makeNode(id: string, address: string, extra: Partial<SettingsInput>, machine: NodePorts['machine'], ports: Partial<NodePorts> = {}): HarnessNode {
    const settings: SettingsInput = { node_id: id, external_ipv4_address: address, ...extra };
    const store = new InMemoryNodeStore();
    const events: NodeEvent[] = [];
    const build = () => {
      const node = createNode(settings, {
        clock: this.clock,
        dns: this.dns,
        peer: this.network.transport(),
        store,
        logger: silentLogger(),
        inspect: (event) => {
          if (event.type === '@xstate.microstep') this.transitions.push(event);
        },
        ...(machine === undefined ? {} : { machine }),
        ...ports,
      });
      for (const eventId of Object.values(EventId)) node.subscribe(eventId, (event) => void events.push(event));
      return node;
    };
    const harnessNode: HarnessNode = {
      node: build(),
      id,
      address,
      store,
      events,
      crash: async () => {
        await harnessNode.node.stop({ handOver: false });
      },
      restart: async () => {
        await harnessNode.node.stop({ handOver: false });
        harnessNode.node = build();
        await harnessNode.node.start();
      },
    };
    return harnessNode;
  }
}

/** The roles a node's NODE_ROLE_CHANGED events announced, in order. */
export function roleChanges(events: readonly NodeEvent[]): string[] {
  return events.flatMap((event) => (event.eventId === EventId.NODE_ROLE_CHANGED ? [`${event.previous ?? '-'}>${event.new}`] : []));
}

/** The events of one id. */
export function eventsOf<E extends NodeEvent['eventId']>(events: readonly NodeEvent[], eventId: E): Extract<NodeEvent, { eventId: E }>[] {
  return events.filter((event): event is Extract<NodeEvent, { eventId: E }> => event.eventId === eventId);
}
