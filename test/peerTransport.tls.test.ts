/**
 * The peer transport over HTTPS (external_scheme https): a signed heartbeat and a join travel over TLS to a peer
 * whose certificate the sender trusts, and a sender that does not trust it refuses to talk.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastify, type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PeerUnreachableError } from '../src/api/errors.js';
import { freePort } from '../src/cli/agctlProcess.js';
import { createHttpPeerTransport, type HttpPeerTransport } from '../src/peer/httpPeerTransport.js';
import type { MemberAddress, PeerMessage } from '../src/peer/peerMessages.js';

const SECRET = 'peer-secret-0123456789';
let dir: string;
let cert: string;
let app: FastifyInstance;
let receiverTransport: HttpPeerTransport;
let target: MemberAddress;
const received: PeerMessage[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ag-tls-'));
  // A self-signed certificate for both node addresses, as two nodes sharing one certificate would use.
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=availability-group-test',
    '-addext', 'subjectAltName=IP:127.0.0.2,IP:127.0.0.3',
  ], { stdio: 'ignore' });
  cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const port = await freePort(['127.0.0.3'], { from: 18000, to: 18999 });
  target = { nodeId: 'b', address: '127.0.0.3', port, scheme: 'https' };
  receiverTransport = createHttpPeerTransport({ peerSecret: SECRET, timeoutMs: 2000 });
  app = fastify({ https: { cert, key: readFileSync(join(dir, 'key.pem')) } });
  await app.register(receiverTransport.plugin);
  await app.listen({ host: '127.0.0.3', port });
  await receiverTransport.listen(target, (async (message: PeerMessage) => {
    received.push(message);
    return message.type === 'heartbeat'
      ? { nodeId: 'b', role: 'secondary', epoch: message.heartbeat.epoch, accepted: true }
      : { accepted: true, groupSettings: { group_fqdn: 'app.example.test' }, members: { primary: null, secondary: null } };
  }) as never);
});

afterAll(async () => {
  receiverTransport.close();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the peer transport over HTTPS', () => {
  it('delivers a signed heartbeat and a join to a peer whose certificate it trusts', async () => {
    const sender = createHttpPeerTransport({ peerSecret: SECRET, timeoutMs: 2000, tls: { ca: cert } });
    try {
      const ack = await sender.send(target, { type: 'heartbeat', group: 'app.example.test', heartbeat: { holder: 'a', epoch: 1, seq: 1, sentAt: Date.UTC(2026, 0, 1) } });
      expect(ack).toEqual({ nodeId: 'b', role: 'secondary', epoch: 1, accepted: true });
      const join = await sender.send(target, { type: 'join', group: 'app.example.test', member: { nodeId: 'a', address: '127.0.0.2', port: target.port, scheme: 'https' } });
      expect(join.accepted).toBe(true);
      expect(received.map((message) => message.type)).toEqual(['heartbeat', 'join']);
    } finally {
      sender.close();
    }
  });

  it('refuses a peer whose certificate it does not trust', async () => {
    const sender = createHttpPeerTransport({ peerSecret: SECRET, timeoutMs: 2000 });
    const before = received.length;
    try {
      await expect(
        sender.send(target, { type: 'heartbeat', group: 'app.example.test', heartbeat: { holder: 'a', epoch: 1, seq: 2, sentAt: Date.UTC(2026, 0, 1) } }),
      ).rejects.toBeInstanceOf(PeerUnreachableError);
      expect(received.length).toBe(before);
    } finally {
      sender.close();
    }
  });
});
