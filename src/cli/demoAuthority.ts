/**
 * The group authority of the process demo (`agctl demo`), as the demo uses it: what every node's config gets to
 * reach it, where it says which address is the Primary's, and how the story names it. Two kinds: DNS (the
 * embedded server or one given with `--dns-server`, here) and etcd (etcdDemoAuthority.ts). The etcd bench starts
 * its authorities through these too, and uses `client` to time a heartbeat write.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { GroupAuthority } from '../coordination/groupAuthority.js';
import { DnsUpdateClient } from '../dns/dnsUpdateClient.js';
import type { TsigAlgorithm } from '../dns/tsig.js';
import { parseHostPort, type DnsServerAddress } from '../dns/dnsTransport.js';
import { lookupAddress } from '../dns/primaryLocator.js';
import { freePort, type AgctlProcess } from './agctlProcess.js';
import type { Timeline } from './timeline.js';

/** A running authority of the demo. */
export interface DemoAuthority {
  readonly kind: 'dns' | 'etcd';
  /** `DNS` or `etcd`: how status lines name the node's connection to it. */
  readonly label: string;
  /** A client of the authority as a node has one (reads without cache, compare-and-swap); closed by `close()`. */
  readonly client: GroupAuthority;
  /** Settings every node's config gets (where the authority is). */
  readonly nodeSettings: Readonly<Record<string, unknown>>;
  /** Settings only the node that creates the group gets (the others receive them when they join). */
  readonly creatorSettings: Readonly<Record<string, unknown>>;
  /** What the takeover writes, for the TAKEOVER_STARTED line. */
  readonly takeoverWrite: string;
  /** The address the authority names as the Primary's now; null when none, or no answer. */
  address(): Promise<string | null>;
  /** One timeline line saying what the authority names: `DNS: app.demo.test A 127.0.0.2`. */
  describe(address: string | null): string;
  /** The timeline line once the authority names the new Primary `who` (at `address`) `ms` after the kill. */
  describeFailover(address: string, who: string, ms: number): string;
  /** The end of the rejoin line: `DNS still answers 127.0.0.3`. */
  describeStill(address: string | null): string;
  /** The summary's failover line, without the timers line: `who` at `address` took over `ms` after the kill. */
  summarizeFailover(ms: number, who: string, address: string): string;
  /** What the shutdown line names besides the nodes: `the DNS server`. */
  readonly stopsWith: string;
  /** Closes `client` and stops what this authority started (not the children spawned through the demo's `spawn`: the demo stops those). Idempotent. */
  close(): Promise<void>;
}

/** The DNS authority: the server's address too (the bench queries it over UDP). */
export interface DnsDemoAuthority extends DemoAuthority {
  readonly kind: 'dns';
  readonly server: DnsServerAddress;
}

/** What starting an authority gets from the demo. */
export interface DemoAuthorityContext {
  readonly dir: string;
  readonly timeline: Timeline;
  readonly groupFqdn: string;
  /** Spawns an `agctl` child the demo stops however it ends. */
  readonly spawn: (name: string, args: readonly string[]) => AgctlProcess;
}

/** The DNS authority's options: an external RFC 2136 server (then `tsig` too), or none for the embedded one. */
export interface DnsDemoAuthorityOptions {
  /** `host:port` of an RFC 2136 server to use instead of starting the embedded one; then `tsig` is required. */
  readonly dnsServer?: string;
  /** The TSIG key the server accepts updates with (default: a fresh key for the embedded server). */
  readonly tsig?: { readonly name: string; readonly secret: string; readonly algorithm: string };
}

/** The zone of the embedded DNS server of the demo. */
export const DEMO_ZONE = 'demo.test';

/**
 * Starts the embedded DNS server (`agctl dns-server`, zone {@link DEMO_ZONE}, a fresh TSIG key), or takes the one
 * given; only the creating node gets the TSIG key (the others get it from the Primary when they join).
 *
 * @example
 * const dns = await startDnsDemoAuthority({}, { dir, timeline, groupFqdn: 'app.demo.test', spawn });
 * timeline.add('demo', dns.describe(await dns.address()));
 */
export async function startDnsDemoAuthority(options: DnsDemoAuthorityOptions, context: DemoAuthorityContext): Promise<DnsDemoAuthority> {
  const tsig = options.tsig ?? { name: `ag-key.${DEMO_ZONE}`, algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };
  let dnsServer = options.dnsServer;
  if (dnsServer === undefined) {
    const port = await freePort(['127.0.0.1']);
    dnsServer = `127.0.0.1:${port}`;
    context.timeline.add('demo', `starting the embedded DNS server on ${dnsServer} (zone ${DEMO_ZONE}, TSIG key ${tsig.name})`);
    const dns = context.spawn('dns', ['dns-server', '--zone', DEMO_ZONE, '--listen', dnsServer, '--tsig-name', tsig.name, '--tsig-secret', tsig.secret, '--tsig-algorithm', tsig.algorithm, '--data', join(context.dir, 'zone.json')]);
    await dns.waitForLog((line) => line.msg === 'DNS server listening', 15_000);
  } else {
    context.timeline.add('demo', `using the DNS server at ${dnsServer}`);
  }
  const server = parseHostPort(dnsServer);
  const { groupFqdn } = context;
  // Built on first use (the demo itself reads over plain DNS queries): the algorithm is the one the nodes check.
  let client: DnsUpdateClient | null = null;
  return {
    kind: 'dns',
    server,
    get client() {
      client ??= new DnsUpdateClient({ server, tsig: { name: tsig.name, secret: tsig.secret, algorithm: tsig.algorithm as TsigAlgorithm }, timeoutMs: 2000, retries: 0 });
      return client;
    },
    label: 'DNS',
    nodeSettings: { dns_server: dnsServer },
    creatorSettings: { tsig_name: tsig.name, tsig_secret: tsig.secret, tsig_algorithm: tsig.algorithm },
    takeoverWrite: 'compare-and-swap update of A and TXT',
    address: () => lookupAddress(server, groupFqdn, 200).catch(() => null),
    describe: (address) => `DNS: ${groupFqdn} A ${address}`,
    describeFailover: (address, _who, ms) => `DNS: ${groupFqdn} A ${address}: the answer changed ${ms.toFixed(0)} ms after the kill`,
    describeStill: (address) => `DNS still answers ${address}`,
    summarizeFailover: (ms) => `Failover: ${ms.toFixed(0)} ms from kill -9 of the Primary to ${groupFqdn} answering the Secondary's address`,
    stopsWith: 'the DNS server',
    close: async () => {
      client?.close();
      client = null;
    },
  };
}
