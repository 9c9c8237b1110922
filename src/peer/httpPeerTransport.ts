/**
 * The real peer transport: signed JSON over HTTP or HTTPS. The send side is a keep-alive client; the receive side
 * is a fastify plugin that the node's one HTTP server registers next to the API.
 */
import { randomBytes } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../api/logger.js';
import {
  ApiError,
  PeerMessageMalformedError,
  PeerNotListeningError,
  PeerPathCutError,
  PeerReceiverFailedError,
  PeerRefusalError,
  PeerReplayError,
  PeerSignatureError,
  PeerUnreachableError,
  toApiError,
} from '../api/errors.js';
import { silentLogger } from '../api/logger.js';
import { PEER_MESSAGE_TYPES as MESSAGE_TYPES, peerEnvelopeSchema, type PeerEnvelope } from './peerMessageSchema.js';
import type { JoinReply, MemberAddress, PeerMessage, PeerReceiver, PeerReplyTo } from './peerMessages.js';
import { PeerReplayGuard } from './peerReplayGuard.js';
import { openSealed, seal } from './peerSeal.js';
import { PEER_SIGNATURE_HEADER, signPeerRequest, signPeerResponse, signaturesMatch, verifyPeerRequest } from './peerSignature.js';
import type { PeerTransport } from './peerTransport.js';

/** Where the peer routes live: an unknown path under it is answered 404 in the API's error shape. */
const PEER_PATH_PREFIX = '/ag/peer/v1';
/** Where peer messages are posted. */
export const PEER_MESSAGE_PATH = '/ag/peer/v1/message';
/** Where a sender asks for the single-use nonce that every message but a heartbeat carries. */
export const PEER_NONCE_PATH = '/ag/peer/v1/nonce';
/** Peer bodies are small; anything larger is refused before it is read. */
const PEER_BODY_LIMIT = 16 * 1024;

/** Options of {@link createHttpPeerTransport}. */
export interface HttpPeerTransportOptions {
  /** The group's shared `peer_secret`: every request and every answer is signed with it. */
  readonly peerSecret: string;
  /**
   * How long one exchange may take, in ms; read per send (a join changes the heartbeat interval). A function gets
   * the message: a handover's answer waits for the receiver's DNS update, so it may need longer than a heartbeat.
   */
  readonly timeoutMs: number | ((message: PeerMessage) => number);
  /** For `https` peers: extra trusted CA certificates (PEM), and whether to verify (default true). */
  readonly tls?: { readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>; readonly rejectUnauthorized?: boolean };
  readonly logger?: Logger;
  /** A fault switch for tests and drills: while it returns true, nothing is sent and nothing received (a `both` cut). */
  readonly isPathCut?: () => boolean;
  /**
   * The same fault switch with a direction, read at every send and every incoming request (it wins over
   * `isPathCut`); see {@link PeerPathCut}.
   */
  readonly pathCut?: () => PeerPathCut | PeerPathCutOf;
  /** The replay memory of the receive side (default: a fresh one). */
  readonly replayGuard?: PeerReplayGuard;
}

/**
 * Which way the peer path is cut (a fault switch for tests and drills), seen from this node:
 * - `none`: nothing is cut;
 * - `in`: this node receives nothing: every incoming peer request is refused with 503 before the node sees it;
 * - `out`: nothing this node says reaches the peer: its sends fail at once, and an incoming message is processed
 *   but its answer is lost (the connection is destroyed instead of answering). The nonce a sender fetches before
 *   a message is still answered, so that the message itself arrives: what is lost is the answer to it;
 * - `both`: `in` and `out` together: nothing is sent, every incoming request is refused with 503.
 */
export type PeerPathCut = 'none' | 'in' | 'out' | 'both';

/** Every peer message type, e.g. for a cut limited to some of them ({@link PeerPathCutOf}). */
export const PEER_MESSAGE_TYPES: readonly PeerMessage['type'][] = MESSAGE_TYPES;

/**
 * A cut that holds only for some message types; the others pass both ways, and so do nonce requests (their message
 * type is not known yet). `{ cut: 'out', messageTypes: ['handover'] }`: the handover's answer is lost, while the
 * heartbeats and the probe before it are answered.
 */
export interface PeerPathCutOf {
  readonly cut: PeerPathCut;
  readonly messageTypes: readonly PeerMessage['type'][];
}

/** A cut as the transport applies it: to every message (types null) or to the types listed. */
interface EffectiveCut {
  readonly cut: PeerPathCut;
  readonly types: ReadonlySet<string> | null;
}

function effectiveCut(value: PeerPathCut | PeerPathCutOf): EffectiveCut {
  return typeof value === 'string' ? { cut: value, types: null } : { cut: value.cut, types: new Set(value.messageTypes) };
}

/** Whether `cut` stops `side` (`in`: what this node receives; `out`: what it sends and answers) for a message of `type` (null: a nonce request). */
function cuts(cut: EffectiveCut, side: 'in' | 'out', type: string | null): boolean {
  if (cut.cut !== side && cut.cut !== 'both') return false;
  return cut.types === null || (type !== null && cut.types.has(type));
}

/** Counters of the transport since it was created. */
export interface HttpPeerTransportStats {
  sent: number;
  sendFailures: number;
  received: number;
  /** Refused incoming messages by reason: `signature`, `malformed`, `replay`, `group`, `not-listening`, `path-cut`. */
  refused: Record<string, number>;
  /** Incoming messages processed whose answer was dropped by an `out` cut. */
  answersDropped: number;
}

/** The HTTP peer transport: a {@link PeerTransport} plus the fastify plugin that receives. */
export interface HttpPeerTransport extends PeerTransport {
  /**
   * Registers `POST /ag/peer/v1/message` and `POST /ag/peer/v1/nonce`; register it without fastify-plugin (it scopes
   * its own body parser and error handling). Every refusal, and every other path under `/ag/peer/v1`, is answered in
   * the API's error shape `{code, message, details, status}`.
   */
  readonly plugin: FastifyPluginAsync;
  readonly stats: Readonly<HttpPeerTransportStats>;
  /** Closes idle keep-alive connections. */
  close(): void;
}

/**
 * Creates the HTTP peer transport. Guarantees: every message is signed (HMAC-SHA256 over the exact body with the
 * peer secret) and so is every answer (bound to its request); the receiver refuses bad signatures, malformed
 * messages and replays with an error status and a log line before the node sees them; the TSIG secret in a join
 * answer travels sealed; a send that gets no signed answer within the timeout rejects with `PeerUnreachableError`.
 *
 * @example
 * const peer = createHttpPeerTransport({ peerSecret, timeoutMs: 200 });
 * await app.register(peer.plugin);
 * const node = createNode(settings, { peer });
 */
export function createHttpPeerTransport(options: HttpPeerTransportOptions): HttpPeerTransport {
  return new HttpPeerTransportImpl(options);
}

class HttpPeerTransportImpl implements HttpPeerTransport {
  readonly stats: HttpPeerTransportStats = { sent: 0, sendFailures: 0, received: 0, refused: {}, answersDropped: 0 };
  readonly #secret: string;
  readonly #timeoutMs: (message: PeerMessage) => number;
  readonly #logger: Logger;
  readonly #pathCut: () => EffectiveCut;
  readonly #guard: PeerReplayGuard;
  readonly #httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 4 });
  readonly #httpsAgent: HttpsAgent;
  #receiver: PeerReceiver | null = null;

  constructor(options: HttpPeerTransportOptions) {
    this.#secret = options.peerSecret;
    const timeout = options.timeoutMs;
    this.#timeoutMs = typeof timeout === 'number' ? () => timeout : timeout;
    this.#logger = options.logger ?? silentLogger();
    const isPathCut = options.isPathCut;
    const pathCut = options.pathCut ?? (isPathCut === undefined ? () => 'none' : () => (isPathCut() ? 'both' : 'none'));
    this.#pathCut = () => effectiveCut(pathCut());
    this.#guard = options.replayGuard ?? new PeerReplayGuard();
    const ca = options.tls?.ca;
    this.#httpsAgent = new HttpsAgent({
      keepAlive: true,
      maxSockets: 4,
      rejectUnauthorized: options.tls?.rejectUnauthorized ?? true,
      ...(ca === undefined ? {} : { ca: (Array.isArray(ca) ? [...ca] : [ca]) as (string | Buffer)[] }),
    });
  }

  readonly plugin: FastifyPluginAsync = async (app) => {
    // Encapsulated: the signature covers the exact bytes, so this scope keeps the body as a Buffer.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: PEER_BODY_LIMIT }, (_request, body, done) => done(null, body));
    app.post(PEER_NONCE_PATH, (request, reply) => this.#answer(request, reply, async () => ({ nonce: this.#guard.issueNonce() })));
    app.post(PEER_MESSAGE_PATH, (request, reply) => this.#answer(request, reply, (envelope) => this.#receive(envelope)));
    // What fastify refuses before a handler runs (a body over the limit, not JSON) answers in the API's error shape.
    app.setErrorHandler((error, request, reply) => {
      const refusal = toApiError(error);
      if (refusal.status < 500) {
        this.stats.refused.malformed = (this.stats.refused.malformed ?? 0) + 1;
        this.#logger.warn({ status: refusal.status, code: refusal.code, remote: request.ip, reason: 'malformed' }, `peer message refused: ${refusal.message}`);
      } else {
        this.#logger.error({ err: error, remote: request.ip }, 'peer request failed');
      }
      void reply.code(refusal.status).send(refusal.body());
    });
    // So does a path under /ag/peer/v1 that is not a peer route.
    await app.register(
      async (scope) => {
        scope.setNotFoundHandler(async (request, reply) => {
          const notFound = new ApiError(404, 'NotFound', `No peer route ${request.method} ${request.url.split('?')[0]}.`);
          return reply.code(404).send(notFound.body());
        });
      },
      { prefix: PEER_PATH_PREFIX },
    );
  };

  async listen(self: MemberAddress, receiver: PeerReceiver): Promise<() => Promise<void>> {
    this.#receiver = receiver;
    this.#logger.debug({ self }, 'peer transport receiving');
    return async () => {
      if (this.#receiver === receiver) this.#receiver = null;
    };
  }

  async send<M extends PeerMessage>(to: MemberAddress, message: M): Promise<PeerReplyTo<M>> {
    const cut = this.#pathCut();
    if (cuts(cut, 'out', message.type)) {
      this.stats.sendFailures += 1;
      throw new PeerUnreachableError(`The peer path is cut (fault switch, ${cut.cut}): ${message.type} to ${to.nodeId} not sent.`);
    }
    try {
      const nonce = message.type === 'heartbeat' ? undefined : ((await this.#exchange(to, PEER_NONCE_PATH, { v: 1, challenge: randomBytes(9).toString('base64url') }, message)) as { nonce?: unknown }).nonce;
      const wire = message.type === 'group-settings' || message.type === 'group-settings-change' ? { ...message, groupSettings: this.#sealSettings(message.groupSettings) } : message;
      const answer = (await this.#exchange(to, PEER_MESSAGE_PATH, { v: 1, message: wire, ...(typeof nonce === 'string' ? { nonce } : {}) }, message)) as { reply?: unknown };
      if (typeof answer.reply !== 'object' || answer.reply === null) throw new PeerUnreachableError(`The peer ${to.nodeId} answered without a reply.`);
      this.stats.sent += 1;
      return (message.type === 'join' ? this.#openJoinReply(answer.reply as JoinReply) : answer.reply) as PeerReplyTo<M>;
    } catch (error) {
      this.stats.sendFailures += 1;
      throw error;
    }
  }

  close(): void {
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }

  /**
   * Verifies and parses a request, runs `handle`, and answers with a signed body; refusals are logged. Under an `out`
   * cut a message is handled but its answer is dropped: the connection is destroyed instead.
   */
  async #answer(request: FastifyRequest, reply: FastifyReply, handle: (envelope: PeerEnvelope) => Promise<unknown>): Promise<void> {
    const signature = headerOf(request, PEER_SIGNATURE_HEADER);
    const isNonce = request.url.startsWith(PEER_NONCE_PATH);
    const refuseCut = (cut: EffectiveCut) => new PeerPathCutError(cut.cut);
    try {
      const cut = this.#pathCut();
      if (cut.types === null && cuts(cut, 'in', null)) throw refuseCut(cut);
      if (this.#receiver === null) throw new PeerNotListeningError();
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      if (!verifyPeerRequest(this.#secret, body, signature)) {
        throw new PeerSignatureError();
      }
      const envelope = isNonce ? ({ v: 1 } as PeerEnvelope) : parseEnvelope(body);
      const type = isNonce ? null : envelope.message.type;
      if (cuts(cut, 'in', type)) throw refuseCut(cut);
      const result = await handle(envelope);
      if (!isNonce && cuts(this.#pathCut(), 'out', type)) {
        this.stats.answersDropped += 1;
        this.#logger.warn({ remote: request.ip, type }, 'peer answer dropped: the peer path is cut (fault switch, out)');
        reply.hijack();
        request.raw.socket.destroy();
        return;
      }
      const text = JSON.stringify(result);
      reply.header(PEER_SIGNATURE_HEADER, signPeerResponse(this.#secret, signature ?? '', text)).type('application/json').send(text);
    } catch (error) {
      const refusal = toRefusal(error);
      this.stats.refused[refusal.reason] = (this.stats.refused[refusal.reason] ?? 0) + 1;
      this.#logger.warn({ status: refusal.statusCode, code: refusal.code, remote: request.ip, reason: refusal.reason }, `peer message refused: ${refusal.message}`);
      reply.code(refusal.statusCode).send({ code: refusal.code, message: refusal.message, details: refusal.httpDetails(), status: refusal.statusCode });
    }
  }

  async #receive(envelope: PeerEnvelope): Promise<{ reply: unknown }> {
    const { message } = envelope;
    const receiver = this.#receiver;
    if (receiver === null) throw new PeerNotListeningError();
    if (message.type === 'heartbeat') {
      if (this.#guard.isReplayedHeartbeat(message.heartbeat)) {
        const { epoch, seq } = message.heartbeat;
        throw new PeerReplayError(`Heartbeat (epoch ${epoch}, seq ${seq}) is not newer than one already accepted.`);
      }
    } else if (!this.#guard.consumeNonce(envelope.nonce)) {
      throw new PeerReplayError(`The ${message.type} message does not carry a fresh nonce issued by this node.`);
    }
    const opened = message.type === 'group-settings' || message.type === 'group-settings-change' ? { ...message, groupSettings: this.#openSettings(message.groupSettings) } : message;
    const answer = await receiver(opened);
    this.stats.received += 1;
    if (message.type === 'heartbeat') this.#guard.recordHeartbeat(message.heartbeat);
    return { reply: message.type === 'join' ? this.#sealJoinReply(answer as JoinReply) : answer };
  }

  #sealJoinReply(reply: JoinReply): JoinReply {
    return reply.groupSettings === undefined ? reply : { ...reply, groupSettings: this.#sealSettings(reply.groupSettings) };
  }

  #openJoinReply(reply: JoinReply): JoinReply {
    return reply.groupSettings === undefined ? reply : { ...reply, groupSettings: this.#openSettings(reply.groupSettings) };
  }

  /** Group settings travel with their TSIG secret sealed with the peer secret: signed is not secret. */
  #sealSettings(settings: Record<string, unknown>): Record<string, unknown> {
    const secret = settings.tsig_secret;
    return typeof secret === 'string' ? { ...settings, tsig_secret: seal(this.#secret, secret) } : settings;
  }

  #openSettings(settings: Record<string, unknown>): Record<string, unknown> {
    const sealed = settings.tsig_secret;
    return typeof sealed === 'string' ? { ...settings, tsig_secret: openSealed(this.#secret, sealed) } : settings;
  }

  /** One signed POST; resolves with the parsed answer once its signature checks out. */
  #exchange(to: MemberAddress, path: string, payload: object, message: PeerMessage): Promise<unknown> {
    const body = JSON.stringify(payload);
    const signature = signPeerRequest(this.#secret, body);
    const timeoutMs = this.#timeoutMs(message);
    const where = `${to.nodeId} at ${to.scheme}://${to.address}:${to.port}`;
    return new Promise((resolve, reject) => {
      const request = (to.scheme === 'https' ? httpsRequest : httpRequest)(
        {
          host: to.address,
          port: to.port,
          path,
          method: 'POST',
          agent: to.scheme === 'https' ? this.#httpsAgent : this.#httpAgent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), [PEER_SIGNATURE_HEADER]: signature },
        },
        (response) => {
          readBody(response).then((text) => {
            clearTimeout(timer);
            if (response.statusCode !== 200) {
              reject(new PeerUnreachableError(`The peer ${where} refused the message (${response.statusCode}): ${errorMessageOf(text)}`));
            } else if (!signaturesMatch(signPeerResponse(this.#secret, signature, text), headerValue(response.headers[PEER_SIGNATURE_HEADER]))) {
              reject(new PeerUnreachableError(`The answer from ${where} is not signed with the peer secret.`));
            } else {
              resolve(JSON.parse(text));
            }
          }, fail);
        },
      );
      const fail = (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof PeerUnreachableError ? error : new PeerUnreachableError(`The peer ${where} is unreachable: ${(error as Error).message}`, { cause: error }));
      };
      const timer = setTimeout(() => request.destroy(new PeerUnreachableError(`The peer ${where} did not answer within ${timeoutMs} ms.`)), timeoutMs);
      request.on('error', fail);
      request.end(body);
    });
  }
}

function parseEnvelope(body: Buffer): PeerEnvelope {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new PeerMessageMalformedError('The message is not JSON.');
  }
  const parsed = peerEnvelopeSchema().safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PeerMessageMalformedError(`The message is malformed at ${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}.`);
  }
  return parsed.data as PeerEnvelope;
}

/** A refusal as thrown (the catalogue's peer refusals carry their status and reason), or a failure of the receiver. */
function toRefusal(error: unknown): PeerRefusalError {
  return error instanceof PeerRefusalError ? error : new PeerReceiverFailedError(error);
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

function errorMessageOf(text: string): string {
  try {
    const body = JSON.parse(text) as { code?: string; message?: string };
    return `${body.code ?? 'error'}: ${body.message ?? ''}`;
  } catch {
    return text.slice(0, 200);
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  return headerValue(request.headers[name]);
}
