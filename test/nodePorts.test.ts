/**
 * No silent in-memory node: `createNode` runs on in-memory ports only when asked for by name (`inMemoryPorts()`),
 * builds the real DNS client from `dns_server` and the TSIG key, and refuses, saying what is missing and how to
 * get it, a node it cannot connect.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { NodePortsError, SettingsError } from '../src/api/errors.js';
import { startDnsServer, type RunningDnsServer } from '../src/dns/dnsServer.js';
import { DnsUpdateClient } from '../src/dns/dnsUpdateClient.js';
import { InMemoryDnsAuthority } from '../src/dns/inMemoryDnsAuthority.js';
import type { TsigKey } from '../src/dns/tsig.js';
import * as mainEntry from '../src/index.js';
import { createNode, type AvailabilityNode } from '../src/node/createNode.js';
import { inMemoryPorts } from '../src/node/inMemoryPorts.js';
import { silentLogger } from '../src/api/logger.js';
import { InMemoryPeerNetwork } from '../src/peer/inMemoryPeerNetwork.js';
import { FQDN, GROUP_TIMERS } from './support/twoNodes.js';
import { requirePorts } from '../src/node/requirePorts.js';
import { networkIssues } from '../src/http/networkedNode.js';

const KEY: TsigKey = { name: 'ag-key.example.test', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };
const BASE = { node_id: 'a', external_ipv4_address: '127.0.0.2', group_fqdn: FQDN, ...GROUP_TIMERS } as const;

const running: AvailabilityNode[] = [];
let server: RunningDnsServer | null = null;
afterEach(async () => {
  for (const node of running.splice(0)) await node.stop({ handOver: false });
  await server?.stop();
  server = null;
});

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

describe('createNode refuses a node it cannot connect', () => {
  it('without ports and without network settings, naming both ways to give them', () => {
    const error = caught(() => createNode(BASE, { logger: silentLogger() }));
    expect(error).toBeInstanceOf(NodePortsError);
    expect((error as NodePortsError).code).toBe('AG_NODE_PORTS_MISSING');
    const { message } = error as Error;
    expect(message).toMatch(/no a DNS authority .*dns_server is not set/);
    expect(message).toMatch(/no a peer transport .*peer_secret is not set/);
    expect(message).toContain('inMemoryPorts()');
    expect(message).toContain('startNetworkedNode');
  });

  it('with dns_server, the TSIG key and peer_secret but no peer port: the signed HTTP transport needs a server', () => {
    const settings = { ...BASE, dns_server: '127.0.0.1:5353', tsig_name: KEY.name, tsig_secret: KEY.secret, peer_secret: 'peer-secret-0123456789' };
    const error = caught(() => createNode(settings, { logger: silentLogger() }));
    expect(error).toBeInstanceOf(NodePortsError);
    expect((error as Error).message).toMatch(/peer_secret is set but no peer transport was given/);
    expect((error as Error).message).toContain('startNetworkedNode');
    expect((error as Error).message).toContain('ports.peer');
  });

  it('with dns_server but no TSIG key and no DNS port: a SettingsError naming tsig_name and tsig_secret', () => {
    const error = caught(() => createNode({ ...BASE, dns_server: '127.0.0.1:5353' }, { peer: new InMemoryPeerNetwork().transport(), logger: silentLogger() }));
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).issues.map((issue) => issue.field)).toEqual(['tsig_name', 'tsig_secret']);
  });

  it('with a DNS port but no peer: still refused, naming inMemoryPorts()', () => {
    const error = caught(() => createNode(BASE, { dns: new InMemoryDnsAuthority(), logger: silentLogger() }));
    expect(error).toBeInstanceOf(NodePortsError);
    expect((error as Error).message).toMatch(/no a peer transport/);
    expect((error as Error).message).not.toMatch(/DNS authority/);
  });
});

describe('the DNS port from the settings', () => {
  it('is the real DNS client of dns_server: createGroup writes the records on that server', async () => {
    server = await startDnsServer({ zone: 'example.test', listen: { host: '127.0.0.1', port: 0 }, tsig: KEY });
    const node = createNode(
      { ...BASE, dns_server: `127.0.0.1:${server.port}`, tsig_name: KEY.name, tsig_secret: KEY.secret },
      { peer: new InMemoryPeerNetwork().transport(), logger: silentLogger() },
    );
    running.push(node);
    await node.start();
    await node.createGroup();
    const reader = new DnsUpdateClient({ server: { host: '127.0.0.1', port: server.port }, zone: 'example.test', tsig: KEY, timeoutMs: 1000, retries: 1 });
    try {
      const records = await reader.read(FQDN);
      expect(records.address).toBe('127.0.0.2');
      expect(records.txt).toMatch(/^ag1 node=a epoch=1 /);
    } finally {
      reader.close();
    }
  });
});

describe('inMemoryPorts', () => {
  it('is exported from the main entry', () => {
    expect(mainEntry.inMemoryPorts).toBe(inMemoryPorts);
    expect(mainEntry.NodePortsError).toBe(NodePortsError);
  });

  it('given a shared network and authority, lets two nodes of one process form a group', async () => {
    const network = new InMemoryPeerNetwork();
    const dns = new InMemoryDnsAuthority();
    const a = createNode(BASE, { ...inMemoryPorts({ network, dns }), logger: silentLogger() });
    const b = createNode({ node_id: 'b', external_ipv4_address: '127.0.0.3' }, { ...inMemoryPorts({ network, dns }), logger: silentLogger() });
    running.push(a, b);
    await a.start();
    await b.start();
    await a.createGroup();
    await b.joinGroup({ address: '127.0.0.2' });
    expect(a.members().secondary).toMatchObject({ nodeId: 'b' });
    expect(dns.peek(FQDN).address).toBe('127.0.0.2');
  });

  it('without them, gives a node of its own: no peer is reachable', async () => {
    const a = createNode(BASE, { ...inMemoryPorts(), logger: silentLogger() });
    const b = createNode({ node_id: 'b', external_ipv4_address: '127.0.0.3' }, { ...inMemoryPorts(), logger: silentLogger() });
    running.push(a, b);
    await a.start();
    await b.start();
    await a.createGroup();
    await expect(b.joinGroup({ address: '127.0.0.2' }, { group_fqdn: FQDN })).rejects.toThrow(/Could not reach the Primary/);
  });
});

describe('coordination etcd', () => {
  const ETCD = { ...BASE, coordination: 'etcd' as const, etcd_endpoints: ['127.0.0.1:2379'] };

  it('builds the node without ports.dns, dns_server or the TSIG key (nothing started, etcd not contacted)', async () => {
    const node = createNode(ETCD, { peer: new InMemoryPeerNetwork().transport(), logger: silentLogger() });
    expect(node.settings.coordination).toBe('etcd');
    expect(node.settings.dnsServer).toBeUndefined();
    expect(node.settings.tsigName).toBeUndefined();
    // Stopping a node never started closes nothing and does not throw.
    await node.stop({ handOver: false });
  });

  it('without etcd_endpoints: refused at load, naming etcd_endpoints', () => {
    const error = caught(() => createNode({ ...BASE, coordination: 'etcd' }, { peer: new InMemoryPeerNetwork().transport(), logger: silentLogger() }));
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).issues).toEqual([{ field: 'etcd_endpoints', rule: expect.stringMatching(/^is required when coordination is etcd/) }]);
  });

  it('requirePorts asks for etcd_endpoints, not dns_server or the TSIG key, when coordination is etcd', () => {
    const loaded = mainEntry.loadSettings(ETCD);
    const peer = new InMemoryPeerNetwork().transport();
    expect(() => requirePorts(loaded, { peer })).not.toThrow();
    const error = caught(() => requirePorts({ ...loaded, etcdEndpoints: undefined }, { peer }));
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).issues.map((issue) => issue.field)).toEqual(['etcd_endpoints']);
    // With ports.dns the settings need neither.
    expect(() => requirePorts({ ...loaded, etcdEndpoints: undefined }, { peer, dns: new InMemoryDnsAuthority() })).not.toThrow();
    // And with coordination dns, dns_server is still required.
    const dns = caught(() => requirePorts(mainEntry.loadSettings(BASE), { peer }));
    expect(dns).toBeInstanceOf(NodePortsError);
    expect((dns as Error).message).toMatch(/dns_server is not set/);
  });

  it('a networked node needs neither dns_server nor the TSIG key with coordination etcd', () => {
    const secrets = { api_token: 't'.repeat(20), peer_secret: 'p'.repeat(20) };
    expect(networkIssues(mainEntry.loadSettings({ ...ETCD, ...secrets }))).toEqual([]);
    expect(networkIssues(mainEntry.loadSettings({ ...BASE, ...secrets })).map((issue) => issue.field)).toEqual(['dns_server']);
  });
});
