/**
 * Shared setup of the inspector tests: a two-node in-memory group on fast timers, listening in the port range the
 * project's tests use (19000-19999 on 127.0.0.1), and condition waits with deadlines.
 */
import fastify, { type FastifyInstance } from 'fastify';
import { waitFor as waitUntilTrue } from '../../src/cli/agctlProcess.js';
import { createNode, type AvailabilityNode } from '../../src/node/createNode.js';
import { InMemoryDnsAuthority } from '../../src/dns/inMemoryDnsAuthority.js';
import { InMemoryPeerNetwork } from '../../src/peer/inMemoryPeerNetwork.js';
import { silentLogger } from '../../src/api/logger.js';
import { NodeEventLog } from '../../src/http/inspector/nodeEventLog.js';

export const TEST_TOKEN = 'inspector-test-token-0123456789';

/** Timers that fail over in about half a second and still satisfy the settings rules. */
export const FAST_GROUP = {
  group_fqdn: 'app.inspect.test',
  health_report_interval: 0.1,
  health_check_interval: 0.15,
  allowed_absence_interval: 0.5,
} as const;

export interface TwoNodes {
  readonly a: AvailabilityNode;
  readonly b: AvailabilityNode;
  /** b's event log, wired as b's inspect port. */
  readonly log: NodeEventLog;
  /** a's event log, wired as a's inspect port (the group view replays both). */
  readonly logA: NodeEventLog;
  stop(): Promise<void>;
}

/** Timers that fail over in about three seconds: a Secondary that must stay one on a loaded machine. */
export const STEADY_GROUP = {
  group_fqdn: 'app.inspect.test',
  health_report_interval: 0.3,
  health_check_interval: 0.5,
  allowed_absence_interval: 3,
} as const;

/** a creates the group (with `group`'s timers, default {@link FAST_GROUP}), b joins it; b's transitions go to `log`. */
export async function startTwoNodes(group: typeof FAST_GROUP | typeof STEADY_GROUP = FAST_GROUP): Promise<TwoNodes> {
  const dns = new InMemoryDnsAuthority();
  const network = new InMemoryPeerNetwork();
  const log = new NodeEventLog();
  const logA = new NodeEventLog();
  const a = createNode({ node_id: 'a', external_ipv4_address: '127.0.0.2', ...group }, { dns, peer: network.transport(), logger: silentLogger(), inspect: logA.inspect });
  const b = createNode({ node_id: 'b', external_ipv4_address: '127.0.0.3' }, { dns, peer: network.transport(), logger: silentLogger(), inspect: log.inspect });
  await a.start();
  await b.start();
  await a.createGroup();
  await b.joinGroup({ address: '127.0.0.2' });
  return {
    a,
    b,
    log,
    logA,
    async stop() {
      await b.stop({ handOver: false });
      await a.stop({ handOver: false });
    },
  };
}

/** Listens on the first free port from `first` on (within 19000-19999); returns the base URL. */
export async function listenInTestRange(app: FastifyInstance, first: number): Promise<string> {
  for (let port = first; port < Math.min(first + 50, 20000); port += 1) {
    try {
      await app.listen({ host: '127.0.0.1', port });
      return `http://127.0.0.1:${port}`;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
    }
  }
  throw new Error(`no free port from ${first}`);
}

/** A fastify app with nothing registered yet and no request logging. */
export function testApp(): FastifyInstance {
  return fastify({ logger: false });
}

/** Polls `condition` every 10 ms until it holds; throws naming `what` after `deadlineMs` (the shared helper of the CLI). */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, deadlineMs = 10_000): Promise<void> {
  await waitUntilTrue(what, condition, deadlineMs);
}
