/**
 * Live inspection with @statelyai/inspect: off unless switched on, and when on (AG_INSPECT), a node's inspection
 * events reach a WebSocket inspector on loopback. The only test that starts its client, against a server that
 * stays up until the client has closed (so the client never enters its reconnect loop).
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { createNode } from '../src/node/createNode.js';
import { inMemoryPorts } from '../src/node/inMemoryPorts.js';
import { silentLogger } from '../src/api/logger.js';
import { DEFAULT_INSPECT_URL, INSPECT_ENV, liveInspectionUrl, LiveInspectionError } from '../src/inspect/liveInspector.js';
import { waitFor } from './support/inspector.js';

/** The part of the `ws` package (installed with @statelyai/inspect, which speaks through it) this test uses. */
interface WsServer {
  on(event: 'connection', listener: (socket: { on(event: 'message' | 'close', listener: (data?: unknown) => void): void }) => void): void;
  on(event: 'listening' | 'error', listener: (error?: Error) => void): void;
  close(callback: () => void): void;
}
const { WebSocketServer } = createRequire(import.meta.url)('ws') as { WebSocketServer: new (options: { host: string; port: number }) => WsServer };

describe('liveInspectionUrl', () => {
  it('is off by default and follows the setting and AG_INSPECT', () => {
    expect(liveInspectionUrl({ inspect: false }, {})).toBeNull();
    expect(liveInspectionUrl({ inspect: true }, {})).toBe(DEFAULT_INSPECT_URL);
    expect(liveInspectionUrl({ inspect: true }, { [INSPECT_ENV]: '0' })).toBeNull();
    expect(liveInspectionUrl({ inspect: false }, { [INSPECT_ENV]: '1' })).toBe(DEFAULT_INSPECT_URL);
    expect(liveInspectionUrl({ inspect: false }, { [INSPECT_ENV]: 'ws://127.0.0.1:19490' })).toBe('ws://127.0.0.1:19490');
    expect(() => liveInspectionUrl({ inspect: false }, { [INSPECT_ENV]: 'http://127.0.0.1:1' })).toThrow(LiveInspectionError);
    expect(() => liveInspectionUrl({ inspect: false }, { [INSPECT_ENV]: 'nonsense' })).toThrow(/AG_INSPECT must be a ws/);
  });
});

describe('a node with AG_INSPECT set', () => {
  const saved = process.env[INSPECT_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[INSPECT_ENV];
    else process.env[INSPECT_ENV] = saved;
  });

  it('sends its inspection events to the WebSocket inspector and disconnects when stopped', async () => {
    const port = 19490;
    const server = new WebSocketServer({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      server.on('listening', () => resolve());
      server.on('error', (error) => reject(error));
    });
    const messages: { type: string; snapshot?: { value?: unknown } }[] = [];
    let closed = false;
    server.on('connection', (socket) => {
      socket.on('message', (data) => messages.push(JSON.parse(String(data))));
      socket.on('close', () => (closed = true));
    });
    process.env[INSPECT_ENV] = `ws://127.0.0.1:${port}`;
    const node = createNode({ node_id: 'live', external_ipv4_address: '127.0.0.7', group_fqdn: 'live.inspect.test' }, { ...inMemoryPorts(), logger: silentLogger() });
    try {
      await node.start();
      await node.createGroup();
      await waitFor('a snapshot in primary', () => messages.some((m) => m.type === '@xstate.snapshot' && String(JSON.stringify(m.snapshot?.value)).includes('primary')));
      expect(messages.some((m) => m.type === '@xstate.actor')).toBe(true);
      expect(messages.some((m) => m.type === '@xstate.event')).toBe(true);
    } finally {
      await node.stop({ handOver: false });
      await waitFor('the inspector to disconnect', () => closed, 5_000);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
