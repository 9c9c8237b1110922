import type { FastifyPluginAsync } from 'fastify';
import { loadChartSvg } from '../../inspect/chartSvgFile.js';
import { INSPECTOR_PATH } from './inspectorPlugin.js';
import { inspectorPageHtml } from './inspectorPage.js';
import type { ReplayTrace } from './replayTrace.js';

/** Options of {@link replayPlugin}. */
export interface ReplayPluginOptions {
  readonly trace: ReplayTrace;
  /** Default `/ag/inspect`, as on a node. */
  readonly path?: string;
}

/**
 * Serves the inspector page in replay mode for a recorded trace: `GET /ag/inspect` (the page: step forward and
 * back, per node for a two-node trace), `/ag/inspect/trace.json` and `/ag/inspect/chart.svg`. It has no token: it
 * is meant for `agctl inspect --trace`, which listens on loopback only.
 *
 * @example
 * await app.register(replayPlugin, { trace: readReplayTrace(text) });
 */
export const replayPlugin: FastifyPluginAsync<ReplayPluginOptions> = async (app, options) => {
  const path = options.path ?? INSPECTOR_PATH;
  const svg = await loadChartSvg();
  const html = inspectorPageHtml({ mode: 'replay', title: options.trace.title, svg, base: path });
  app.get(path, async (_request, reply) => reply.type('text/html; charset=utf-8').send(html));
  app.get(`${path}/trace.json`, async () => options.trace);
  app.get(`${path}/chart.svg`, async (_request, reply) => reply.type('image/svg+xml').send(svg));
};
