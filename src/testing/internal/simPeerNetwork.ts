import { PeerUnreachableError } from '../../api/errors.js';
import type { MemberAddress, PeerMessage, PeerReceiver, PeerReplyTo } from '../../peer/peerMessages.js';
import type { PeerTransport } from '../../peer/peerTransport.js';
import { peerRequestTimeoutMs, type ScenarioNetwork, type SimNodeId } from '../scenario.js';
import type { FaultConditions } from './faultConditions.js';
import type { SimHost } from './simHost.js';
import type { SimKernel } from './kernel.js';

/**
 * A broken variant's change to one node's peer transport (see brokenVariants.ts): it wraps what the node sends and
 * receives. The real node uses none.
 */
export interface PeerVariantHook {
  transport(host: SimHost, transport: PeerTransport): PeerTransport;
}

interface Listener {
  readonly host: SimHost;
  readonly receiver: PeerReceiver;
}

/**
 * The simulated network between the nodes, one link per direction. Each message and each answer takes a random
 * delay (so messages reorder); partitions (also one-way), loss, duplication and slow links come from the fault
 * schedule. A message reaches a paused node when it resumes and never reaches a crashed one; a sender whose request
 * or answer is lost times out on its own clock (`peerRequestTimeoutMs`), not knowing whether the message arrived.
 */
export class SimPeerNetwork {
  readonly #kernel: SimKernel;
  readonly #network: ScenarioNetwork;
  readonly #faults: FaultConditions;
  readonly #hostsByEndpoint: ReadonlyMap<string, SimHost>;
  readonly #listeners = new Map<string, Listener>();
  #nextId = 1;

  constructor(kernel: SimKernel, network: ScenarioNetwork, faults: FaultConditions, hosts: readonly SimHost[], port: number) {
    this.#kernel = kernel;
    this.#network = network;
    this.#faults = faults;
    this.#hostsByEndpoint = new Map(hosts.map((host) => [`${host.address}:${port}`, host]));
  }

  /**
   * The peer transport of `host`'s current incarnation.
   *
   * @example
   * const node = createNode(settings, { peer: network.transport(host), clock: host.clock() });
   */
  transport(host: SimHost): PeerTransport {
    const incarnation = host.incarnation;
    return {
      send: <M extends PeerMessage>(to: MemberAddress, message: M) => this.#send<M>(host, incarnation, to, message),
      listen: async (self: MemberAddress, receiver: PeerReceiver) => {
        const key = `${self.address}:${self.port}`;
        const listener = { host, receiver };
        this.#listeners.set(key, listener);
        return async () => {
          if (this.#listeners.get(key) === listener) this.#listeners.delete(key);
        };
      },
    };
  }

  #delay(from: SimNodeId, to: SimNodeId): number {
    const [min, max] = this.#network.peerDelayMs;
    return this.#kernel.rng.between(min, max) + this.#faults.link(from, to, this.#kernel.now).extraMs;
  }

  /** Whether a message on `from -> to` leaving now is lost. */
  #lost(from: SimNodeId, to: SimNodeId): boolean {
    const link = this.#faults.link(from, to, this.#kernel.now);
    return link.blocked || this.#kernel.rng.chance(link.loss);
  }

  #send<M extends PeerMessage>(sender: SimHost, incarnation: number, to: MemberAddress, message: M): Promise<PeerReplyTo<M>> {
    const kernel = this.#kernel;
    const id = this.#nextId++;
    const target = this.#hostsByEndpoint.get(`${to.address}:${to.port}`);
    const clock = sender.clock();
    const from = sender.id;
    return new Promise<PeerReplyTo<M>>((resolve, reject) => {
      if (target === undefined) {
        reject(new PeerUnreachableError(`No simulated node listens at ${to.address}:${to.port}.`));
        return;
      }
      const entry = { kind: 'message' as const, id, from, to: target.id, type: message.type };
      let settled = false;
      const timeoutMs = peerRequestTimeoutMs(this.#network, message.type);
      const timer = clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        if (kernel.traceAll) kernel.trace({ ...entry, t: kernel.now, action: 'timeout' });
        reject(new PeerUnreachableError(`No answer from ${target.id} within ${timeoutMs} ms.`));
      }, timeoutMs);
      const answer = (finish: () => void) =>
        sender.deliver(incarnation, () => {
          if (settled) return;
          settled = true;
          clock.clearTimeout(timer);
          if (kernel.traceAll) kernel.trace({ ...entry, t: kernel.now, action: 'answer' });
          finish();
        });
      if (kernel.traceAll) kernel.trace({ ...entry, t: kernel.now, action: 'send' });
      if (this.#lost(from, target.id)) {
        if (kernel.traceAll) kernel.trace({ ...entry, t: kernel.now, action: 'drop' });
        return;
      }
      const copies = kernel.rng.chance(this.#faults.link(from, target.id, kernel.now).duplicate) ? 2 : 1;
      for (let copy = 0; copy < copies; copy += 1) {
        kernel.after(this.#delay(from, target.id), () => {
          const listener = this.#listeners.get(`${to.address}:${to.port}`);
          if (listener === undefined || listener.host !== target) {
            if (kernel.traceAll) kernel.trace({ ...entry, t: kernel.now, action: 'ignored', detail: 'nobody listening' });
            return;
          }
          if (kernel.traceAll) kernel.trace({ ...entry, t: kernel.now, action: copy === 0 ? 'deliver' : 'duplicate' });
          target.deliver(target.incarnation, () => void this.#receive(listener, message, entry, answer, resolve, reject));
        });
      }
    });
  }

  /** The receiver handles the message; its answer (or refusal) travels back over the reverse link. */
  async #receive<M extends PeerMessage>(
    listener: Listener,
    message: M,
    entry: { kind: 'message'; id: number; from: SimNodeId; to: SimNodeId; type: string },
    answer: (finish: () => void) => void,
    resolve: (reply: PeerReplyTo<M>) => void,
    reject: (error: unknown) => void,
  ): Promise<void> {
    const kernel = this.#kernel;
    let outcome: { ok: true; reply: PeerReplyTo<M> } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, reply: await listener.receiver(message) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const replyDetail = kernel.traceAll ? describeReply(outcome) : undefined;
    if (this.#lost(entry.to, entry.from)) {
      if (kernel.traceAll) kernel.trace({ ...entry, t: kernel.now, action: 'reply-drop', ...(replyDetail === undefined ? {} : { detail: replyDetail }) });
      return;
    }
    if (kernel.traceAll) kernel.trace({ ...entry, t: kernel.now, action: 'reply', ...(replyDetail === undefined ? {} : { detail: replyDetail }) });
    kernel.after(this.#delay(entry.to, entry.from), () =>
      answer(() => (outcome.ok ? resolve(outcome.reply) : reject(outcome.error))),
    );
  }
}

/** An answer in a few words for the trace; a join's group settings (which hold the TSIG secret) are never shown. */
function describeReply(outcome: { ok: true; reply: unknown } | { ok: false; error: unknown }): string {
  if (!outcome.ok) return `refused: ${(outcome.error as Error).message}`;
  const reply = outcome.reply as Record<string, unknown>;
  return Object.entries(reply)
    .filter(([key, value]) => key !== 'groupSettings' && key !== 'members' && typeof value !== 'object')
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(' ');
}
