import { EventId } from '../../src/api/constants.js';
import type { NodeEvent } from '../../src/api/events.js';
import { silentLogger } from '../../src/api/logger.js';
import { InMemoryDnsAuthority } from '../../src/dns/inMemoryDnsAuthority.js';
import { createNode, type AvailabilityNode } from '../../src/node/createNode.js';
import { inMemoryPorts } from '../../src/node/inMemoryPorts.js';
import { InMemoryNodeStore } from '../../src/node/nodeStore.js';
import type { SettingsInput } from '../../src/node/settings.js';
import { InMemoryPeerNetwork } from '../../src/peer/inMemoryPeerNetwork.js';
import { ManualClock } from './manualClock.js';
import { FQDN, GROUP_TIMERS } from './twoNodes.js';

/** One node of {@link ManyNodes}: restartable from its store, with every event its subscriber saw. */
export interface ManyNode {
  node: AvailabilityNode;
  readonly id: string;
  readonly address: string;
  readonly store: InMemoryNodeStore;
  readonly events: NodeEvent[];
  /** Whether the node runs (false after `crash`). */
  running: boolean;
  /** Stops the node without handing over: a crash. */
  crash(): Promise<void>;
  /** Starts the node process again from its persisted store. */
  restart(): Promise<void>;
}

/**
 * Nodes a, b, c, … in one process (inMemoryPorts on one network and one in-memory authority, one manual clock), the
 * group settings on a (the creator): `coordination: etcd` unless given, so more than two may join.
 */
export class ManyNodes {
  readonly clock = new ManualClock();
  readonly dns = new InMemoryDnsAuthority();
  readonly network = new InMemoryPeerNetwork();
  readonly nodes: ManyNode[];

  /** `priorities[i]` is the priority of the i-th node (a, b, c, …); `group` the creator's group settings. */
  constructor(options: { priorities: readonly number[]; group?: Partial<SettingsInput> }) {
    this.nodes = options.priorities.map((priority, index) => {
      const id = String.fromCharCode(97 + index);
      const group = index === 0 ? { group_fqdn: FQDN, ...GROUP_TIMERS, coordination: 'etcd' as const, etcd_endpoints: ['127.0.0.1:2379'], ...options.group } : {};
      return this.#makeNode(id, `127.0.0.${index + 2}`, { priority, ...group });
    });
  }

  /** The node `id`. */
  get(id: string): ManyNode {
    const found = this.nodes.find((node) => node.id === id);
    if (found === undefined) throw new Error(`no node ${id}`);
    return found;
  }

  /** Starts every node, creates the group on a and joins the others in order, and lets one heartbeat flow. */
  async formGroup(): Promise<void> {
    for (const node of this.nodes) await node.node.start();
    await this.nodes[0]!.node.createGroup();
    for (const node of this.nodes.slice(1)) {
      await node.node.joinGroup({ address: this.nodes[0]!.address });
      await this.clock.advance(10);
    }
    await this.clock.advance(1_100);
  }

  /** The running nodes that act as Primary now. */
  actingPrimaries(): string[] {
    return this.nodes.filter((node) => node.running && node.node.isActingPrimary()).map((node) => node.id);
  }

  async stopAll(): Promise<void> {
    for (const node of this.nodes) if (node.running) await node.node.stop({ handOver: false }).catch(() => undefined);
  }

  #makeNode(id: string, address: string, extra: Partial<SettingsInput>): ManyNode {
    const settings: SettingsInput = { node_id: id, external_ipv4_address: address, ...extra };
    const store = new InMemoryNodeStore();
    const events: NodeEvent[] = [];
    const build = () => {
      const node = createNode(settings, { ...inMemoryPorts({ network: this.network, dns: this.dns }), clock: this.clock, store, logger: silentLogger() });
      for (const eventId of Object.values(EventId)) node.subscribe(eventId, (event) => void events.push(event));
      return node;
    };
    const manyNode: ManyNode = {
      node: build(),
      id,
      address,
      store,
      events,
      running: true,
      crash: async () => {
        manyNode.running = false;
        await manyNode.node.stop({ handOver: false });
      },
      restart: async () => {
        if (manyNode.running) await manyNode.node.stop({ handOver: false });
        manyNode.node = build();
        await manyNode.node.start();
        manyNode.running = true;
      },
    };
    return manyNode;
  }
}
