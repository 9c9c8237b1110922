/**
 * The signed HTTP peer transport, in process over real loopback sockets: messages and answers are signed, forged,
 * replayed, malformed and unsigned ones are refused, the TSIG secret travels sealed, timeouts and the fault switch
 * reject with PeerUnreachableError.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastify, type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PeerUnreachableError } from '../src/api/errors.js';
import { freePort } from '../src/cli/agctlProcess.js';
import { peerPathCutFromFile } from '../src/cli/startCommand.js';
import { createHttpPeerTransport, PEER_MESSAGE_PATH, PEER_NONCE_PATH, type HttpPeerTransport, type PeerPathCut, type PeerPathCutOf } from '../src/peer/httpPeerTransport.js';
import type { MemberAddress, PeerMessage } from '../src/peer/peerMessages.js';
import { PeerReplayGuard } from '../src/peer/peerReplayGuard.js';
import { openSealed, seal } from '../src/peer/peerSeal.js';
import { PEER_SIGNATURE_HEADER, signPeerRequest } from '../src/peer/peerSignature.js';

const SECRET = 'peer-secret-0123456789';
const heartbeat = (seq: number, epoch = 1): PeerMessage => ({ type: 'heartbeat', group: 'app.example.test', heartbeat: { holder: 'a', epoch, seq, sentAt: Date.UTC(2026, 0, 1) } });

let port: number;
let receiverApp: FastifyInstance;
let receiverTransport: HttpPeerTransport;
let sender: HttpPeerTransport;
let cutPath: PeerPathCut | PeerPathCutOf = 'none';
const receiver = vi.fn(async (message: PeerMessage): Promise<any> => {
  switch (message.type) {
    case 'heartbeat':
      return { nodeId: 'b', role: 'secondary', epoch: message.heartbeat.epoch, accepted: true };
    case 'join':
      return { accepted: true, groupSettings: { group_fqdn: 'app.example.test', tsig_secret: 'c2VjcmV0LXRzaWc=' }, members: { primary: null, secondary: message.member } };
    default:
      return { accepted: true };
  }
});
let target: MemberAddress;

/** Posts `body` to the receiver as-is, signed with `secret` (or with the given signature). */
async function post(path: string, body: string, signature: string | null = signPeerRequest(SECRET, body)) {
  const response = await fetch(`http://127.0.0.3:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature === null ? {} : { [PEER_SIGNATURE_HEADER]: signature }) },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, signature: response.headers.get(PEER_SIGNATURE_HEADER) };
}

beforeAll(async () => {
  port = await freePort(['127.0.0.3'], { from: 18000, to: 18999 });
  target = { nodeId: 'b', address: '127.0.0.3', port, scheme: 'http' };
  receiverTransport = createHttpPeerTransport({ peerSecret: SECRET, timeoutMs: 1000, pathCut: () => cutPath });
  receiverApp = fastify();
  await receiverApp.register(receiverTransport.plugin);
  await receiverApp.listen({ host: '127.0.0.3', port });
  await receiverTransport.listen(target, receiver as never);
  sender = createHttpPeerTransport({ peerSecret: SECRET, timeoutMs: 1000 });
});

afterAll(async () => {
  sender.close();
  receiverTransport.close();
  await receiverApp.close();
});

beforeEach(() => {
  receiver.mockClear();
  cutPath = 'none';
});

describe('signed messages', () => {
  it('delivers a heartbeat and returns the signed acknowledgement', async () => {
    const ack = await sender.send(target, heartbeat(1));
    expect(ack).toEqual({ nodeId: 'b', role: 'secondary', epoch: 1, accepted: true });
    expect(receiver).toHaveBeenCalledOnce();
  });

  it('refuses a forged signature with 401 before the node sees it, and logs it as refused', async () => {
    const before = receiverTransport.stats.refused.signature ?? 0;
    const body = JSON.stringify({ v: 1, message: heartbeat(100) });
    const forged = await post(PEER_MESSAGE_PATH, body, signPeerRequest('another-secret-0123456', body));
    expect(forged.status).toBe(401);
    expect(forged.body.code).toBe('AG_PEER_BAD_SIGNATURE');
    expect((await post(PEER_MESSAGE_PATH, body, null)).status).toBe(401);
    expect(receiver).not.toHaveBeenCalled();
    expect(receiverTransport.stats.refused.signature).toBe(before + 2);
  });

  it('refuses a replayed heartbeat and an older one with 409', async () => {
    const body = JSON.stringify({ v: 1, message: heartbeat(200) });
    expect((await post(PEER_MESSAGE_PATH, body)).status).toBe(200);
    const replay = await post(PEER_MESSAGE_PATH, body);
    expect(replay.status).toBe(409);
    expect(replay.body.code).toBe('AG_PEER_REPLAY');
    expect((await post(PEER_MESSAGE_PATH, JSON.stringify({ v: 1, message: heartbeat(150) }))).status).toBe(409);
    // A new epoch starts again at seq 0 and is newer.
    expect((await post(PEER_MESSAGE_PATH, JSON.stringify({ v: 1, message: heartbeat(0, 2) }))).status).toBe(200);
    expect(receiver).toHaveBeenCalledTimes(2);
  });

  it('refuses other messages without a fresh nonce, and a nonce used twice', async () => {
    const handover = { type: 'handover', group: 'app.example.test', from: 'a', epoch: 1, records: { address: '127.0.0.2', txt: null }, askedBy: 'a' };
    expect((await post(PEER_MESSAGE_PATH, JSON.stringify({ v: 1, message: handover }))).status).toBe(409);
    const { body: issued } = await post(PEER_NONCE_PATH, JSON.stringify({ v: 1, challenge: 'x' }));
    const withNonce = JSON.stringify({ v: 1, message: handover, nonce: issued.nonce });
    expect((await post(PEER_MESSAGE_PATH, withNonce)).status).toBe(200);
    expect((await post(PEER_MESSAGE_PATH, withNonce)).status).toBe(409);
    expect(await sender.send(target, handover as PeerMessage)).toEqual({ accepted: true });
  });

  it('carries a leave like the other messages: only with a fresh nonce, never replayed, its role checked', async () => {
    const leave = { type: 'leave', group: 'app.example.test', from: 'b', role: 'secondary' } as const;
    expect((await post(PEER_MESSAGE_PATH, JSON.stringify({ v: 1, message: leave }))).status).toBe(409);
    const { body: issued } = await post(PEER_NONCE_PATH, JSON.stringify({ v: 1, challenge: 'z' }));
    const withNonce = JSON.stringify({ v: 1, message: leave, nonce: issued.nonce });
    expect((await post(PEER_MESSAGE_PATH, withNonce)).status).toBe(200);
    expect((await post(PEER_MESSAGE_PATH, withNonce)).status).toBe(409);
    const { body: another } = await post(PEER_NONCE_PATH, JSON.stringify({ v: 1, challenge: 'w' }));
    const badRole = await post(PEER_MESSAGE_PATH, JSON.stringify({ v: 1, message: { ...leave, role: 'observer' }, nonce: another.nonce }));
    expect(badRole.status).toBe(400);
    expect(receiver).toHaveBeenCalledTimes(1);
    expect(await sender.send(target, leave)).toEqual({ accepted: true });
    expect(receiver).toHaveBeenLastCalledWith(leave);
  });

  it('refuses malformed messages with 400', async () => {
    expect((await post(PEER_MESSAGE_PATH, '{not json')).status).toBe(400);
    const wrong = await post(PEER_MESSAGE_PATH, JSON.stringify({ v: 1, message: { type: 'heartbeat', group: 'g', heartbeat: { holder: 'a', epoch: 0, seq: -1, sentAt: 0 } } }));
    expect(wrong.status).toBe(400);
    expect(String(wrong.body.message)).toContain('heartbeat');
  });

  it('seals the TSIG secret of a join answer on the wire and opens it for the joining node', async () => {
    const join = { type: 'join', group: 'app.example.test', member: { nodeId: 'c', address: '127.0.0.4', port: 8080, scheme: 'http' } };
    const { body: issued } = await post(PEER_NONCE_PATH, JSON.stringify({ v: 1, challenge: 'y' }));
    const raw = await post(PEER_MESSAGE_PATH, JSON.stringify({ v: 1, message: join, nonce: issued.nonce }));
    expect(JSON.stringify(raw.body)).not.toContain('c2VjcmV0LXRzaWc=');
    const reply = await sender.send(target, join as Extract<PeerMessage, { type: 'join' }>);
    expect(reply.groupSettings?.tsig_secret).toBe('c2VjcmV0LXRzaWc=');
  });
});

describe('pushed group settings', () => {
  it('carry the TSIG secret sealed on the wire and opened for the receiving node', async () => {
    const wirePort = await freePort(['127.0.0.3'], { from: 18000, to: 18999 });
    const bodies: string[] = [];
    const received: PeerMessage[] = [];
    const transport = createHttpPeerTransport({ peerSecret: SECRET, timeoutMs: 1000 });
    const app = fastify();
    // The peer routes keep the raw body as a Buffer: what travelled on the wire.
    app.addHook('preValidation', async (request) => void bodies.push(String(request.body)));
    await app.register(transport.plugin);
    await app.listen({ host: '127.0.0.3', port: wirePort });
    const to: MemberAddress = { nodeId: 'b', address: '127.0.0.3', port: wirePort, scheme: 'http' };
    await transport.listen(to, (async (message: PeerMessage) => {
      received.push(message);
      return { accepted: true };
    }) as never);
    try {
      const push: PeerMessage = { type: 'group-settings', group: 'app.example.test', from: 'a', epoch: 1, groupSettings: { group_fqdn: 'app.example.test', tsig_secret: 'c2VjcmV0LXRzaWc=' } };
      expect(await sender.send(to, push)).toEqual({ accepted: true });
      // A change asked on the Secondary and forwarded to the Primary (PUT /group there) is sealed the same way.
      const forwarded: PeerMessage = { type: 'group-settings-change', group: 'app.example.test', from: 'b', epoch: 1, groupSettings: { tsig_secret: 'c2VjcmV0LXRzaWc=' } };
      expect(await sender.send(to, forwarded)).toEqual({ accepted: true });
      expect(received).toEqual([push, forwarded]);
      expect(bodies.some((body) => body.includes('"group-settings"'))).toBe(true);
      expect(bodies.some((body) => body.includes('"group-settings-change"'))).toBe(true);
      expect(bodies.join('\n')).not.toContain('c2VjcmV0LXRzaWc=');
    } finally {
      transport.close();
      await app.close();
    }
  });
});

describe('failures reject with PeerUnreachableError', () => {
  it('when the answer is not signed with the peer secret', async () => {
    const wrongSecret = createHttpPeerTransport({ peerSecret: 'another-secret-0123456', timeoutMs: 1000 });
    await expect(wrongSecret.send(target, heartbeat(1000))).rejects.toThrow(/refused the message \(401\)/);
    wrongSecret.close();
    // A server that answers 200 without a signature (a man in the middle) is not believed either.
    const fakePort = await freePort(['127.0.0.3'], { from: 18000, to: 18999 });
    const fake: Server = createServer((_request, response) => response.end('{"reply":{"nodeId":"b","role":"secondary","epoch":99,"accepted":true}}'));
    await new Promise<void>((resolve) => fake.listen(fakePort, '127.0.0.3', resolve));
    try {
      await expect(sender.send({ ...target, port: fakePort }, heartbeat(1001))).rejects.toThrow(/not signed/);
    } finally {
      await new Promise((resolve) => fake.close(resolve));
    }
  });

  it('when the peer does not answer within the timeout', async () => {
    const silentPort = await freePort(['127.0.0.3'], { from: 18000, to: 18999 });
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(silentPort, '127.0.0.3', resolve));
    const quick = createHttpPeerTransport({ peerSecret: SECRET, timeoutMs: 150 });
    try {
      const started = performance.now();
      const error = await quick.send({ ...target, port: silentPort }, heartbeat(1)).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PeerUnreachableError);
      expect((error as Error).message).toContain('150 ms');
      expect(performance.now() - started).toBeLessThan(1500);
    } finally {
      quick.close();
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('when the path is cut: nothing is sent, and the receiver answers 503', async () => {
    const cutSender = createHttpPeerTransport({ peerSecret: SECRET, timeoutMs: 1000, isPathCut: () => true });
    await expect(cutSender.send(target, heartbeat(2000))).rejects.toBeInstanceOf(PeerUnreachableError);
    cutSender.close();
    cutPath = 'both';
    await expect(sender.send(target, heartbeat(2001))).rejects.toThrow(/503/);
    expect(receiver).not.toHaveBeenCalled();
  });

  it('cut one way: `in` refuses what arrives; `out` sends nothing and loses the answer to a message it processed', async () => {
    cutPath = 'in';
    await expect(sender.send(target, heartbeat(1, 9))).rejects.toThrow(/503/);
    expect(receiver).not.toHaveBeenCalled();

    cutPath = 'out';
    const dropped = receiverTransport.stats.answersDropped;
    await expect(sender.send(target, heartbeat(2, 9))).rejects.toBeInstanceOf(PeerUnreachableError);
    expect(receiver).toHaveBeenCalledOnce();
    // A message that needs a nonce: the nonce is answered, so the message arrives; its answer is what is lost.
    const joinMessage = { type: 'join', group: 'app.example.test', member: { nodeId: 'c', address: '127.0.0.4', port: 8080, scheme: 'http' } };
    await expect(sender.send(target, joinMessage as Extract<PeerMessage, { type: 'join' }>)).rejects.toBeInstanceOf(PeerUnreachableError);
    expect(receiver).toHaveBeenCalledTimes(2);
    expect(receiverTransport.stats.answersDropped).toBe(dropped + 2);

    // Seen from the sender: `out` sends nothing, `in` still sends and hears the answer.
    cutPath = 'none';
    const outSender = createHttpPeerTransport({ peerSecret: SECRET, timeoutMs: 1000, pathCut: () => 'out' });
    const inSender = createHttpPeerTransport({ peerSecret: SECRET, timeoutMs: 1000, pathCut: () => 'in' });
    try {
      await expect(outSender.send(target, heartbeat(3, 9))).rejects.toThrow(/cut/);
      expect(receiver).toHaveBeenCalledTimes(2);
      expect(await inSender.send(target, heartbeat(4, 9))).toMatchObject({ accepted: true });
    } finally {
      outSender.close();
      inSender.close();
    }
  });

  it('cut for some message types only: those are cut, the others pass both ways', async () => {
    const joinMessage = { type: 'join', group: 'app.example.test', member: { nodeId: 'd', address: '127.0.0.5', port: 8080, scheme: 'http' } } as Extract<PeerMessage, { type: 'join' }>;
    cutPath = { cut: 'out', messageTypes: ['join'] };
    expect(await sender.send(target, heartbeat(5, 9))).toMatchObject({ accepted: true });
    const dropped = receiverTransport.stats.answersDropped;
    await expect(sender.send(target, joinMessage)).rejects.toBeInstanceOf(PeerUnreachableError);
    expect(receiver).toHaveBeenCalledTimes(2);
    expect(receiverTransport.stats.answersDropped).toBe(dropped + 1);

    cutPath = { cut: 'in', messageTypes: ['join'] };
    await expect(sender.send(target, joinMessage)).rejects.toThrow(/503/);
    expect(receiver).toHaveBeenCalledTimes(2);
    expect(await sender.send(target, heartbeat(6, 9))).toMatchObject({ accepted: true });

    const joinCut = createHttpPeerTransport({ peerSecret: SECRET, timeoutMs: 1000, pathCut: () => ({ cut: 'both', messageTypes: ['join'] }) });
    try {
      await expect(joinCut.send(target, joinMessage)).rejects.toThrow(/cut/);
      cutPath = 'none';
      expect(await joinCut.send(target, heartbeat(7, 9))).toMatchObject({ accepted: true });
      expect(receiver).toHaveBeenCalledTimes(4);
    } finally {
      joinCut.close();
    }
  });
});

describe('building blocks', () => {
  it('the fault file of agctl start: absent = none; empty or both = both ways; in; out; limited to message types; anything else = both, reported', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-cut-'));
    const file = join(dir, 'peer-cut');
    const unknown: string[] = [];
    const cut = () => peerPathCutFromFile(file, (content) => unknown.push(content));
    try {
      expect(cut()).toBe('none');
      const seen = ['', 'both', ' IN\n', 'out', 'out handover', 'in heartbeat, step-down', 'cut', 'out handshake'].map((content) => (writeFileSync(file, content), cut()));
      expect(seen).toEqual(['both', 'both', 'in', 'out', { cut: 'out', messageTypes: ['handover'] }, { cut: 'in', messageTypes: ['heartbeat', 'step-down'] }, 'both', 'both']);
      expect(unknown).toEqual(['cut', 'out handshake']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('seal opens only with the same peer secret', () => {
    const sealed = seal(SECRET, 'tsig-secret');
    expect(sealed).not.toContain('tsig-secret');
    expect(openSealed(SECRET, sealed)).toBe('tsig-secret');
    expect(() => openSealed('another-secret-0123456', sealed)).toThrow(/could not be opened/);
  });

  it('nonces expire on the monotonic clock given', () => {
    let now = 0;
    const guard = new PeerReplayGuard({ now: () => now, nonceTtlMs: 100 });
    const late = guard.issueNonce();
    now = 100;
    expect(guard.consumeNonce(late)).toBe(false);
    const fresh = guard.issueNonce();
    now = 150;
    expect(guard.consumeNonce(fresh)).toBe(true);
    expect(guard.consumeNonce('never-issued')).toBe(false);
  });
});

describe('errors of the peer routes', () => {
  /** Sends a raw request to the receiver and returns the status and the parsed body. */
  async function raw(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}) {
    const response = await fetch(`http://127.0.0.3:${port}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('answer in the API’s shape {code, message, details, status}: an unknown peer route (404)', async () => {
    expect(await raw('POST', '/ag/peer/v1/unknown', '{}', { 'content-type': 'application/json' })).toEqual({
      status: 404,
      body: { code: 'NotFound', message: 'No peer route POST /ag/peer/v1/unknown.', details: {}, status: 404 },
    });
    expect(await raw('GET', PEER_MESSAGE_PATH)).toEqual({ status: 404, body: { code: 'NotFound', message: `No peer route GET ${PEER_MESSAGE_PATH}.`, details: {}, status: 404 } });
  });

  it('a body over the limit (413) and a body that is not declared JSON (415), counted as malformed', async () => {
    const before = receiverTransport.stats.refused.malformed ?? 0;
    const big = JSON.stringify({ v: 1, padding: 'x'.repeat(20_000) });
    expect(await raw('POST', PEER_MESSAGE_PATH, big, { 'content-type': 'application/json', [PEER_SIGNATURE_HEADER]: signPeerRequest(SECRET, big) })).toEqual({
      status: 413,
      body: { code: 'PayloadTooLarge', message: 'The request body is too large.', details: {}, status: 413 },
    });
    expect(await raw('POST', PEER_MESSAGE_PATH, 'hello', { 'content-type': 'text/plain' })).toEqual({
      status: 415,
      body: { code: 'UnsupportedMediaType', message: 'The request body must be JSON with Content-Type: application/json.', details: {}, status: 415 },
    });
    expect(receiverTransport.stats.refused.malformed).toBe(before + 2);
    expect(receiver).not.toHaveBeenCalled();
  });

  it('a refused message: the same shape, with the refusal’s reason in details', async () => {
    const body = JSON.stringify({ v: 1, message: heartbeat(900_000) });
    const refused = await post(PEER_MESSAGE_PATH, body, signPeerRequest('not-the-peer-secret-000', body));
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ code: 'AG_PEER_BAD_SIGNATURE', message: 'The message signature is missing or wrong.', details: { reason: 'signature' }, status: 401 });
  });
});
