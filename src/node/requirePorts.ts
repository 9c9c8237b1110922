/**
 * The ports a node needs, checked before it is created: {@link requirePorts} refuses ports that the settings cannot
 * complete (no silent in-memory DNS authority or peer).
 */
import { NodePortsError, SettingsError, type SettingsIssue } from '../api/errors.js';
import type { NodePorts } from './availabilityNode.js';
import type { Settings } from './settings.js';

/** How to give a node its DNS authority and peer transport, for the messages of {@link requirePorts}. */
const PORTS_HOW_TO =
  'Pass them as ports (in one process: createNode(settings, inMemoryPorts())), or configure the network ' +
  "(dns_server, tsig_name, tsig_secret, or coordination etcd with etcd_endpoints; peer_secret, api_token) and run the node with startNetworkedNode from 'availability-group/http'.";

/**
 * Refuses ports that the settings cannot complete: no silent in-memory DNS authority or peer.
 *
 * @example
 * requirePorts(settings, {}); // throws NodePortsError naming the DNS authority and the peer transport it lacks
 * // With coordination etcd and no ports.dns, etcd_endpoints is required instead of dns_server and the TSIG key.
 */
export function requirePorts(settings: Settings, ports: NodePorts): void {
  const missing: string[] = [];
  const etcd = settings.coordination === 'etcd';
  if (ports.dns === undefined && etcd && (settings.etcdEndpoints === undefined || settings.etcdEndpoints.length === 0)) {
    throw new SettingsError([{ field: 'etcd_endpoints', rule: 'is required when coordination is etcd and no ports.dns is given: host:port of each etcd member, e.g. ["10.0.0.5:2379"]' }]);
  }
  if (ports.dns === undefined && !etcd && settings.dnsServer === undefined) missing.push('a DNS authority (no ports.dns, and dns_server is not set)');
  if (ports.peer === undefined && settings.peerSecret === undefined) missing.push('a peer transport (no ports.peer, and peer_secret is not set)');
  if (missing.length > 0) throw new NodePortsError(`This node has no ${missing.join(' and no ')}. ${PORTS_HOW_TO}`);
  // With etcd the authority is the etcd client; dns_server and the TSIG key only add the best-effort DNS mirror.
  if (ports.dns === undefined && !etcd) {
    const issues: SettingsIssue[] = [];
    const rule = 'is required with dns_server when no ports.dns is given: the DNS client signs its updates with the TSIG key (a node that joins gets the key from its Primary: run it with startNetworkedNode, or pass ports.dns)';
    if (settings.tsigName === undefined) issues.push({ field: 'tsig_name', rule });
    if (settings.tsigSecret === undefined) issues.push({ field: 'tsig_secret', rule });
    if (issues.length > 0) throw new SettingsError(issues);
  }
  if (ports.peer === undefined) {
    throw new NodePortsError(
      'peer_secret is set but no peer transport was given: the signed HTTP peer transport needs an HTTP server to receive on. ' +
        "Run the node with startNetworkedNode from 'availability-group/http', or pass the transport as ports.peer (createHttpPeerTransport, registered on your server).",
    );
  }
}
