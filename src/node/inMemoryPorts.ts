import { InMemoryDnsAuthority } from '../dns/inMemoryDnsAuthority.js';
import { InMemoryPeerNetwork } from '../peer/inMemoryPeerNetwork.js';
import type { PeerTransport } from '../peer/peerTransport.js';

/** Options of {@link inMemoryPorts}: pass the same network and authority to nodes that must reach each other. */
export interface InMemoryPortsOptions {
  /** The network the node's peer transport joins; default: a private one, where no peer is reachable. */
  readonly network?: InMemoryPeerNetwork;
  /** The group's DNS authority; default: a fresh one. */
  readonly dns?: InMemoryDnsAuthority;
}

/** The DNS authority and peer transport of a node that runs inside this process. */
export interface InMemoryPorts {
  readonly dns: InMemoryDnsAuthority;
  readonly peer: PeerTransport;
}

/**
 * In-memory ports for `createNode`, asked for by name: a DNS authority held in memory and a transport on an
 * in-memory peer network. Nodes given the same `network` and `dns` form a group inside one process (tests, the
 * in-memory demo); a node given fresh ones is alone. A node never runs on these unless they are passed.
 *
 * @example
 * const network = new InMemoryPeerNetwork();
 * const dns = new InMemoryDnsAuthority();
 * const a = createNode({ node_id: 'a', external_ipv4_address: '127.0.0.2', group_fqdn: 'app.example.test' }, inMemoryPorts({ network, dns }));
 * const b = createNode({ node_id: 'b', external_ipv4_address: '127.0.0.3' }, inMemoryPorts({ network, dns }));
 */
export function inMemoryPorts(options: InMemoryPortsOptions = {}): InMemoryPorts {
  return { dns: options.dns ?? new InMemoryDnsAuthority(), peer: (options.network ?? new InMemoryPeerNetwork()).transport() };
}
