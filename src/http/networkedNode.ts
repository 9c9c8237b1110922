import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fastify, type FastifyInstance } from 'fastify';
import type { InspectionEvent } from 'xstate';
import { SettingsError, type SettingsIssue } from '../api/errors.js';
import { createNode, type AvailabilityNode } from '../node/createNode.js';
import { HistoryLog } from '../node/historyLog.js';
import { HistoryRecorder } from '../node/historyRecorder.js';
import { RoleChangeHooks } from '../node/roleChangeHooks.js';
import { silentLogger, type Logger } from '../api/logger.js';
import { FileNodeStore, InMemoryNodeStore } from '../node/nodeStore.js';
import { readSecretFiles } from '../node/secretFiles.js';
import { loadSettings, type ConfigFileInput, type Settings } from '../node/settings.js';
import { parseHostPort } from '../dns/dnsTransport.js';
import { resolveServerHost } from '../dns/resolveServerHost.js';
import { createHttpPeerTransport, type HttpPeerTransport, type PeerPathCut, type PeerPathCutOf } from '../peer/httpPeerTransport.js';
import { availabilityGroupPlugin } from './availabilityGroupPlugin.js';
import {
  applyHttpConnectionLimits,
  closeWithin,
  fastifyConnectionOptions,
  httpConnectionLimitsFromEnv,
  resolveHttpConnectionLimits,
  type HttpConnectionLimits,
} from './httpConnectionLimits.js';
import { inspectorPlugin } from './inspector/inspectorPlugin.js';
import { NodeMetrics } from './nodeMetrics.js';
import { createPrimaryLocator, type PrimaryLocator } from '../dns/primaryLocator.js';
import { dnsBudgetMs } from '../dns/settingsDnsAuthority.js';
import { authorityPrimaryLocator } from '../node/authorityPrimaryLocator.js';
import { CoordinationAuthority } from '../node/coordinationAuthority.js';
import type { PeerMessage } from '../peer/peerMessages.js';
import { peerAnswerDnsRequests } from '../peer/peerAnswerDnsRequests.js';

/** Options of {@link startNetworkedNode}. */
export interface NetworkedNodeOptions {
  /** Any pino-compatible logger (pino's, a child, fastify's `app.log`). Default: none, nothing is written. */
  readonly logger?: Logger;
  /** The peer-path fault switch (tests and drills): while it returns true no peer message is sent or received. */
  readonly isPeerPathCut?: () => boolean;
  /** The same fault switch with a direction (`in`, `out`, `both`, `none`), possibly for some message types only; wins over `isPeerPathCut`. */
  readonly peerPathCut?: () => PeerPathCut | PeerPathCutOf;
  /**
   * Runs after the node is created and before it starts, and before the server listens: register your own routes
   * or plugins on the node's server (`app.requirePrimary` guards a route), subscribe to `node`'s events from the
   * first one. A throw stops the start (the error is rethrown).
   */
  readonly configure?: (app: FastifyInstance, node: AvailabilityNode) => void | Promise<void>;
  /** Sees every XState inspection event of the node's actor. */
  readonly inspect?: (event: InspectionEvent) => void;
  /** Export process metrics (CPU, memory) at `/metrics` too (default true). */
  readonly processMetrics?: boolean;
  /**
   * Limits on the server's connections (caps per server and per client address; header, request, idle and
   * keep-alive timeouts). Each one left out comes from its `AG_HTTP_*` environment variable, else its default: see
   * `DEFAULT_HTTP_CONNECTION_LIMITS` and docs/operations.md.
   */
  readonly connectionLimits?: Partial<HttpConnectionLimits>;
}

/** A node running with its HTTP server. */
export interface NetworkedNode {
  readonly node: AvailabilityNode;
  readonly app: FastifyInstance;
  readonly peer: HttpPeerTransport;
  /** The server's base URL, e.g. `http://127.0.0.2:18080`. */
  readonly url: string;
  /** The connection limits in force. */
  readonly connectionLimits: HttpConnectionLimits;
  /** The node's history (`GET /ag/api/v1/history`), in `data_dir/history.jsonl`. */
  readonly history: HistoryLog;
  /** The role-change hook runner (`on_role_change`); null when none is configured. */
  readonly hooks: RoleChangeHooks | null;
  /** Finds the Primary of a group to join: the A record on `dns_server`, or with coordination etcd the group's address key. */
  readonly locatePrimary: PrimaryLocator;
  /** Stops the node (an acting Primary with a healthy peer hands over first, unless `handOver: false`), then the server. */
  stop(options?: { handOver?: boolean }): Promise<void>;
}

/**
 * How long a node waits for its peer's answer: about one heartbeat interval (a heartbeat that takes longer is no use
 * to the lease anyway). A handover, its probe and a step-down request are answered only after the peer's own DNS
 * read or update, so they also get the DNS client's whole budget (see `dnsTimeoutMs`).
 */
function peerTimeoutMs(settings: Settings, message: PeerMessage): number {
  const base = Math.min(5000, Math.max(100, settings.timers.heartbeatIntervalMs));
  const waitsForDns = peerAnswerDnsRequests(message.type) > 0 || message.type === 'step-down';
  // A forwarded settings change is answered once the Primary has pushed the settings back to this node.
  if (message.type === 'group-settings-change') return 2 * base + 500;
  return waitsForDns ? base + dnsBudgetMs(settings) : base;
}

/**
 * Node settings a networked node cannot run without, beyond what `loadSettings` requires (`agctl config validate`
 * checks them too).
 *
 * @example
 * networkIssues(loadSettings(config)) // [{ field: 'api_token', rule: 'is required to run a networked node (...)' }]
 */
export function networkIssues(settings: Settings): SettingsIssue[] {
  const issues: SettingsIssue[] = [];
  if (settings.apiToken === undefined) issues.push({ field: 'api_token', rule: 'is required to run a networked node (it guards the HTTP API)' });
  if (settings.peerSecret === undefined) issues.push({ field: 'peer_secret', rule: 'is required to run a networked node (it signs the direct heartbeats)' });
  if (settings.dnsServer === undefined && settings.coordination !== 'etcd') {
    issues.push({ field: 'dns_server', rule: 'is required to run a networked node (host:port of the authoritative DNS server)' });
  }
  if (settings.externalScheme === 'https') {
    if (settings.tlsCertFile === undefined) issues.push({ field: 'tls_cert_file', rule: 'is required when external_scheme is https' });
    if (settings.tlsKeyFile === undefined) issues.push({ field: 'tls_key_file', rule: 'is required when external_scheme is https' });
  }
  return issues;
}

/**
 * A `dns_server` host name that does not resolve is no reason to refuse a start (it may resolve in a moment, and a
 * running node must not die of it either): the node runs with DNS disconnected until it does. Say so once, now.
 */
function warnIfUnresolvable(dnsServer: string, logger: Logger): void {
  const { host } = parseHostPort(dnsServer);
  resolveServerHost(host, { timeoutMs: 2000 }).catch((error: unknown) =>
    logger.warn({ dnsServer, reason: (error as Error).message }, 'dns_server does not resolve now: the node runs with DNS disconnected until it does'),
  );
}

/**
 * Node's bundled CA certificates, read only for an https node: an ES `import` of node:tls reads them all (about 200
 * KB of heap) into every node, also the plain http ones.
 */
function rootCertificates(): readonly string[] {
  return (createRequire(import.meta.url)('node:tls') as typeof import('node:tls')).rootCertificates;
}

/** `partial` without the keys whose value is undefined, so that spreading it keeps what it would hide. */
function definedOnly<T extends object>(partial: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function readTlsFile(field: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new SettingsError([{ field, rule: `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` }]);
  }
}

/**
 * Runs one node on the network: the statechart over the real DNS client (`dns_server`, TSIG key from the
 * settings), the signed HTTP peer transport, settings and membership in `data_dir` (in memory without one), and one
 * fastify server on `external_ipv4_address:external_port` (HTTPS with the TLS files when `external_scheme` is
 * https) serving the API, health, metrics and peer routes within connection limits (`connectionLimits`: caps per
 * server and per client address, header, request, idle and keep-alive timeouts). Resolves once the node knows its first role and the
 * server listens. Secrets may be given by file (`tsig_secret_file`, `api_token_file`, `peer_secret_file`: read now,
 * see `readSecretFiles`). Throws, before anything starts: `SettingsError` naming the field for a bad or incomplete
 * configuration (a secret file that cannot be read, a `data_dir` that is not a directory this process can write);
 * `PersistedStateError` naming `data_dir/node.json`, the field and the rule when the persisted state is not valid. A
 * `dns_server` host name that does not resolve is not refused: it is logged, and the node runs with DNS
 * disconnected until the name resolves.
 *
 * @example
 * const running = await startNetworkedNode(JSON.parse(await readFile('node-a.json', 'utf8')));
 * await running.node.createGroup();
 * process.on('SIGTERM', () => void running.stop());
 */
export async function startNetworkedNode(input: ConfigFileInput, options: NetworkedNodeOptions = {}): Promise<NetworkedNode> {
  const settings = loadSettings(readSecretFiles(input));
  const issues = networkIssues(settings);
  if (issues.length > 0) throw new SettingsError(issues);
  const connectionLimits = resolveHttpConnectionLimits({ ...httpConnectionLimitsFromEnv(process.env), ...definedOnly(options.connectionLimits ?? {}) });
  const tls =
    settings.externalScheme === 'https'
      ? {
          cert: readTlsFile('tls_cert_file', settings.tlsCertFile!),
          key: readTlsFile('tls_key_file', settings.tlsKeyFile!),
          ca: settings.tlsCaFile === undefined ? [] : [readTlsFile('tls_ca_file', settings.tlsCaFile)],
        }
      : null;
  const store = settings.dataDir === undefined ? new InMemoryNodeStore() : await FileNodeStore.open(settings.dataDir);
  const logger = options.logger ?? silentLogger();
  const history = await HistoryLog.open({ dataDir: settings.dataDir, logger: logger.child({ component: 'history' }) });
  let recorder: HistoryRecorder | null = null;
  let node: AvailabilityNode | null = null;
  let metrics: NodeMetrics | null = null;
  const current = () => node?.settings ?? settings;
  const peer = createHttpPeerTransport({
    peerSecret: settings.peerSecret!,
    // About one heartbeat interval: a heartbeat that takes longer is no use to the lease anyway.
    timeoutMs: (message) => peerTimeoutMs(current(), message),
    logger: logger.child({ component: 'peer' }),
    // The peer's certificate: signed by a public CA, by the private CA of tls_ca_file, or the same as this node's.
    ...(tls === null ? {} : { tls: { ca: [...rootCertificates(), tls.cert, ...tls.ca] } }),
    ...(options.isPeerPathCut === undefined ? {} : { isPathCut: options.isPeerPathCut }),
    ...(options.peerPathCut === undefined ? {} : { pathCut: options.peerPathCut }),
  });
  // DNS or etcd by `coordination` (etcd: with the best-effort DNS mirror of the A record when dns_server and the key are set).
  const dns = new CoordinationAuthority({ settings: current, logger, onError: (error) => metrics?.countDnsError(error) });
  node = createNode(settings, {
    dns,
    peer,
    logger,
    store,
    inspect: (event) => {
      recorder?.inspect(event);
      options.inspect?.(event);
    },
  });
  const running = node;
  // History and hooks subscribe before the start: they see the first role too.
  recorder = new HistoryRecorder(running, history);
  const historyRecorder = recorder;
  const hooks =
    settings.onRoleChange === undefined
      ? null
      : new RoleChangeHooks({
          command: settings.onRoleChange,
          timeoutMs: settings.onRoleChangeTimeout * 1000,
          nodeId: settings.nodeId,
          logger: logger.child({ component: 'hook' }),
          onRun: (run) => historyRecorder.hookRun(run),
        });
  hooks?.attach(running);
  metrics = new NodeMetrics(running, { processMetrics: options.processMetrics ?? true, peerRefusals: () => peer.stats.refused, ...(hooks === null ? {} : { hookRuns: () => hooks.counts }) });
  const app = fastify({
    logger: false,
    ...fastifyConnectionOptions(connectionLimits),
    // A TLS handshake is part of getting the headers in: it gets no longer.
    ...(tls === null ? {} : { https: { cert: tls.cert, key: tls.key, handshakeTimeout: connectionLimits.headersTimeoutMs } }),
  });
  applyHttpConnectionLimits(app.server, connectionLimits, logger.child({ component: 'http' }));
  // The Primary of a group to join: the group's A record on dns_server, or its address key in etcd.
  const locatePrimary: PrimaryLocator = (fqdn) => {
    const now = current();
    if (now.coordination === 'etcd') return authorityPrimaryLocator(dns)(fqdn);
    if (now.dnsServer === undefined) return Promise.reject(new Error('dns_server is not set: there is no DNS server to find the Primary through'));
    return createPrimaryLocator(now.dnsServer)(fqdn);
  };
  await app.register(availabilityGroupPlugin, {
    node: running,
    apiToken: settings.apiToken!,
    peer,
    metrics,
    locatePrimary,
    history,
  });
  await app.register(inspectorPlugin, { node: running, apiToken: settings.apiToken! });
  try {
    await options.configure?.(app, running);
    if (settings.dnsServer !== undefined) warnIfUnresolvable(settings.dnsServer, logger);
    // etcd: the client library loads now, not inside the first write's lease (CoordinationAuthority.prepare).
    dns.prepare();
    await running.start();
    await app.listen({ host: settings.externalIpv4Address, port: settings.externalPort });
  } catch (error) {
    await running.stop({ handOver: false }).catch(() => undefined);
    await hooks?.close();
    await historyRecorder.stop();
    await app.close();
    peer.close();
    await dns.close();
    throw error;
  }
  let stopping: Promise<void> | null = null;
  return {
    node: running,
    app,
    peer,
    url: `${settings.externalScheme}://${settings.externalIpv4Address}:${settings.externalPort}`,
    connectionLimits,
    history,
    hooks,
    locatePrimary,
    stop: (stopOptions = {}) =>
      (stopping ??= (async () => {
        await running.stop(stopOptions);
        // The hooks of the last role changes (a handover's) still run; each is bounded by on_role_change_timeout.
        await hooks?.close();
        await historyRecorder.stop();
        // Slow clients must not hold the stop open: what is still connected after a second is closed.
        await closeWithin(app, 1000);
        peer.close();
        await dns.close();
      })()),
  };
}
