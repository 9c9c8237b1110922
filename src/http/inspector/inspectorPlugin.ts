import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ServerResponse } from 'node:http';
import { snapshotLabel } from '../../../machines/stateLabel.js';
import { NodeRole } from '../../api/constants.js';
import { InspectorConfigError } from '../../api/errors.js';
import type { NodeState } from '../../api/nodeState.js';
import { activeStateIds } from '../../inspect/chartModel.js';
import { loadChartSvg } from '../../inspect/chartSvgFile.js';
import { systemClock, type Clock } from '../../node/clock.js';
import type { AvailabilityNode } from '../../node/createNode.js';
import { inspectorAuth } from './inspectorAuth.js';
import { inspectorPageHtml } from './inspectorPage.js';
import { NodeEventLog, type NodeLogEntry } from './nodeEventLog.js';

/** Where the inspector lives on a node. */
export const INSPECTOR_PATH = '/ag/inspect';

/** Options of {@link inspectorPlugin}. */
export interface InspectorPluginOptions {
  readonly node: AvailabilityNode;
  /** The node's API token (`api_token`): required unless `open`. */
  readonly apiToken?: string;
  /** Serve the inspector without a token (only for a node on a trusted network). Default false. */
  readonly open?: boolean;
  /**
   * The node's event log, if the node was created with `{ inspect: log.inspect }` (then it holds every transition
   * from the start). Default: a new log that follows `node` from registration on.
   */
  readonly log?: NodeEventLog;
  /** Default {@link INSPECTOR_PATH}. */
  readonly path?: string;
  /** How often an idle stream gets a comment line, so proxies keep it open. Default 15 s. */
  readonly keepAliveMs?: number;
  /** How often the stream sends a Secondary's silence (`watch`), for the page's countdown. Default 500 ms. */
  readonly watchIntervalMs?: number;
  /** The node's clock (the one it was created with), to measure the Primary's silence. Default the system clock. */
  readonly clock?: Clock;
}

/** A Secondary's view of its Primary, for the page's countdown to takeover (rule 1). */
export interface WatchView {
  /** How long no heartbeat has raised the newest (epoch, seq), on the node's monotonic clock (ms). */
  readonly silenceMs: number;
  /** `allowed_absence_interval` (ms): the silence after which the standby check may take over. */
  readonly allowedAbsenceMs: number;
}

/** What `GET <path>/state.json` and the stream's first message carry. */
export interface LiveView {
  readonly node: string;
  /** The state label now; null before the node starts. */
  readonly state: string | null;
  readonly activeIds: readonly string[];
  readonly nodeState: NodeState | null;
  /** On a Secondary that has heard its Primary: the silence so far and the allowed absence; null otherwise. */
  readonly watch: WatchView | null;
  /** The recent transitions, oldest first. */
  readonly entries: readonly NodeLogEntry[];
}

/** The inspector was registered without a way to authenticate (defined in the error catalogue). */
export { InspectorConfigError };

/**
 * Serves a node's inspector: `GET /ag/inspect` (the page: the chart with the current states highlighted, recent
 * transitions, `getNodeState()` fields), `/ag/inspect/stream` (server-sent events: `snapshot`, then one
 * `transition` per state change), `/ag/inspect/state.json`, `/ag/inspect/log` (the event log as JSON lines, the
 * format `agctl inspect --trace` replays) and `/ag/inspect/chart.svg`. Everything needs the API token
 * (`Authorization: Bearer` or `?token=`) unless `open`. No secret is served: only the state, its context's public
 * fields and `getNodeState()`.
 *
 * @example
 * const log = new NodeEventLog();
 * const node = createNode(settings, { peer, dns, inspect: log.inspect });
 * await app.register(inspectorPlugin, { node, log, apiToken: settings.apiToken });
 */
export const inspectorPlugin: FastifyPluginAsync<InspectorPluginOptions> = async (app, options) => {
  const { node } = options;
  const path = options.path ?? INSPECTOR_PATH;
  if (options.open !== true) {
    if (options.apiToken === undefined || options.apiToken === '') {
      throw new InspectorConfigError('The inspector needs the node\'s api_token, or open: true to serve it without one.');
    }
    app.addHook('onRequest', inspectorAuth(options.apiToken));
  }
  const log = options.log ?? new NodeEventLog();
  const clock = options.clock ?? systemClock;
  const stopFollowing = log.follow(node);
  const svg = await loadChartSvg();
  const streams = new Set<ServerResponse>();

  app.addHook('preClose', async () => {
    stopFollowing();
    for (const stream of streams) stream.end();
  });

  app.get(path, async (_request, reply) => {
    const html = inspectorPageHtml({ mode: 'live', title: `node ${node.nodeId}`, svg, base: path });
    return noStore(reply).type('text/html; charset=utf-8').send(html);
  });

  app.get(`${path}/chart.svg`, async (_request, reply) => noStore(reply).type('image/svg+xml').send(svg));

  app.get(`${path}/state.json`, async (_request, reply) => noStore(reply).send(liveView(node, log, clock)));

  app.get(`${path}/log`, async (request, reply) => {
    const download = (request.query as Record<string, unknown>).download !== undefined;
    if (download) reply.header('content-disposition', `attachment; filename="ag-node-${node.nodeId}.log.jsonl"`);
    return noStore(reply).type('application/x-ndjson').send(log.toJsonLines());
  });

  app.get(`${path}/stream`, (request, reply) => {
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = (event: string, data: unknown): void => {
      response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    send('snapshot', liveView(node, log, clock));
    const unsubscribe = log.subscribe((entry) => send('transition', { entry, nodeState: nodeStateOf(node) }));
    const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), options.keepAliveMs ?? 15_000);
    const watching = setInterval(() => send('watch', watchOf(node, clock)), options.watchIntervalMs ?? 500);
    streams.add(response);
    request.raw.on('close', () => {
      clearInterval(keepAlive);
      clearInterval(watching);
      unsubscribe();
      streams.delete(response);
    });
  });
};

/**
 * The node as the inspector shows it now.
 *
 * @example
 * liveView(node, log).state // 'secondary.watching'
 */
export function liveView(node: AvailabilityNode, log: NodeEventLog, clock: Clock = systemClock): LiveView {
  const snapshot = node.actor?.getSnapshot();
  return {
    node: node.nodeId,
    state: snapshot === undefined ? null : snapshotLabel(snapshot),
    activeIds: snapshot === undefined ? [] : activeStateIds(snapshot.value),
    nodeState: nodeStateOf(node),
    watch: watchOf(node, clock),
    entries: log.entries(),
  };
}

/**
 * A Secondary's silence so far and its allowed absence (from the machine's context, on the node's monotonic clock);
 * null on any other role or before it has heard a Primary.
 *
 * @example
 * watchOf(node) // { silenceMs: 312.5, allowedAbsenceMs: 60000 }
 */
export function watchOf(node: AvailabilityNode, clock: Clock = systemClock): WatchView | null {
  const context = node.actor?.getSnapshot().context;
  if (context === undefined || context.role !== NodeRole.SECONDARY || context.progress.lastProgressAt === null) return null;
  return { silenceMs: Math.max(0, Math.round((clock.monotonicNow() - context.progress.lastProgressAt) * 10) / 10), allowedAbsenceMs: context.timers.absenceMs };
}

function nodeStateOf(node: AvailabilityNode): NodeState | null {
  return node.actor === null ? null : node.getNodeState();
}

function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store');
}
