import fastify from 'fastify';
import { INSPECTOR_PATH } from './inspectorPlugin.js';
import { replayPlugin } from './replayPlugin.js';
import { mergeReplayTraces } from './mergeReplayTraces.js';
import { readReplayTrace, type ReplayTrace } from './replayTrace.js';

/** A running replay server. */
export interface ServedReplay {
  readonly trace: ReplayTrace;
  /** The page's URL. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Reads `text` as a trace (throws `TraceFormatError` before listening if it is not one) and serves it with
 * {@link replayPlugin} on 127.0.0.1 only. Several texts (the event logs of a group's nodes) are merged into one
 * group trace.
 *
 * @example
 * const served = await serveReplay(await readFile('trace.json', 'utf8'), { port: 0 });
 * console.log(served.url); // http://127.0.0.1:41234/ag/inspect
 */
export async function serveReplay(text: string | readonly string[], options: { port?: number } = {}): Promise<ServedReplay> {
  const trace = mergeReplayTraces((typeof text === 'string' ? [text] : text).map((one) => readReplayTrace(one)));
  const app = fastify({ logger: false });
  await app.register(replayPlugin, { trace });
  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return { trace, url: `http://127.0.0.1:${port}${INSPECTOR_PATH}`, close: () => app.close() };
}
