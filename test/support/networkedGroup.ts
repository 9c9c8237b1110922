/**
 * Networked nodes in the test process: the embedded DNS server on 127.0.0.1, and one `startNetworkedNode` per node
 * id on 127.0.0.2, 127.0.0.3, ... (all on one port, as a group's nodes are), each with its own data_dir and config
 * file, talking over the real signed HTTP peer channel. Only the first node's create body carries the TSIG key;
 * the others get it from their Primary when they join.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';
import type { GroupRecords } from '../../machines/nodeMachine.types.js';
import { freePort } from '../../src/cli/agctlProcess.js';
import { startDnsServer, type RunningDnsServer } from '../../src/dns/dnsServer.js';
import { DnsUpdateClient } from '../../src/dns/dnsUpdateClient.js';
import type { TsigKey } from '../../src/dns/tsig.js';
import { startNetworkedNode, type NetworkedNode } from '../../src/http/networkedNode.js';
import { silentLogger } from '../../src/api/logger.js';
import type { SettingsInput } from '../../src/node/settings.js';
import { FQDN } from './twoNodes.js';

const ZONE = 'example.test';
const TOKEN = 'api-token-networked-0123456789';
const PEER_SECRET = 'peer-secret-networked-0123456789';

/** Group timers of a networked test group, seconds: slow enough that a loaded machine answers a peer in time. */
export const NETWORKED_TIMERS = { health_report_interval: 0.5, health_check_interval: 0.5, allowed_absence_interval: 3 } as const;

/** A running set of networked nodes and their DNS server. */
export interface NetworkedGroup {
  /** The one port every node listens on. */
  readonly port: number;
  readonly dnsServer: string;
  readonly key: TsigKey;
  /** The body of a `POST /group` that creates the group: the TSIG key and the timers. */
  readonly createBody: Record<string, unknown>;
  address(id: string): string;
  /** The node's config file (what `agctl --config` reads). */
  configFile(id: string): string;
  dataDir(id: string): string;
  running(id: string): NetworkedNode;
  /** Calls the node's `/ag/api/v1` API with its token. */
  api(id: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Stops the node without handing over, server and all: a crash, seen from the network. */
  crash(id: string): Promise<void>;
  /** The group's A and TXT records as the DNS server holds them now. */
  records(): Promise<GroupRecords>;
  stop(): Promise<void>;
}

/**
 * Starts the DNS server and one networked node per id (none in a group yet).
 *
 * @example
 * const net = await startNetworkedGroup(['a', 'b']);
 * await net.api('a', 'POST', '/group', net.createBody);
 */
export async function startNetworkedGroup(ids: readonly string[], extraSettings: Partial<SettingsInput> = {}): Promise<NetworkedGroup> {
  const dir = await mkdtemp(join(tmpdir(), 'ag-networked-'));
  const key: TsigKey = { name: `ag-key.${ZONE}`, algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };
  const dns: RunningDnsServer = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: key });
  const dnsServer = `127.0.0.1:${dns.port}`;
  const addresses = new Map(ids.map((id, index) => [id, `127.0.0.${index + 2}`]));
  const port = await freePort([...addresses.values()], { from: 18000, to: 18999 });
  const nodes = new Map<string, NetworkedNode>();
  const reader = new DnsUpdateClient({ server: { host: '127.0.0.1', port: dns.port }, zone: ZONE, tsig: key, timeoutMs: 1000, retries: 1 });
  const settingsOf = (id: string): SettingsInput => ({
    node_id: id,
    external_ipv4_address: addresses.get(id)!,
    external_port: port,
    group_fqdn: FQDN,
    dns_server: dnsServer,
    api_token: TOKEN,
    peer_secret: PEER_SECRET,
    data_dir: join(dir, id),
    ...extraSettings,
  });
  try {
    for (const id of ids) {
      await writeFile(join(dir, `${id}.json`), JSON.stringify(settingsOf(id)));
      nodes.set(id, await startNetworkedNode(settingsOf(id), { logger: silentLogger(), processMetrics: false }));
    }
  } catch (error) {
    for (const node of nodes.values()) await node.stop({ handOver: false });
    await dns.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const running = (id: string) => {
    const node = nodes.get(id);
    if (node === undefined) throw new Error(`No running node ${id}.`);
    return node;
  };
  return {
    port,
    dnsServer,
    key,
    createBody: { tsig_name: key.name, tsig_secret: key.secret, ...NETWORKED_TIMERS },
    address: (id) => addresses.get(id)!,
    configFile: (id) => join(dir, `${id}.json`),
    dataDir: (id) => join(dir, id),
    running,
    async api(id, method, path, body) {
      const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${running(id).url}/ag/api/v1${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
      return { status: response.status, body: await response.json() };
    },
    async crash(id) {
      await running(id).stop({ handOver: false });
      nodes.delete(id);
    },
    records: () => reader.read(FQDN),
    async stop() {
      for (const node of nodes.values()) await node.stop({ handOver: false }).catch(() => undefined);
      nodes.clear();
      reader.close();
      await dns.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs an agctl command in this process and collects its exit code, stdout and stderr. */
export async function captureCli(run: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    const code = await run();
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
