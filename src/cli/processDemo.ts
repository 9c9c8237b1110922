/**
 * The process demo (`agctl demo`, `npm start`): a group authority and node processes on this machine, a real
 * crash of the Primary, the takeover seen at the authority, and the old Primary's return as Secondary. The authority
 * is DNS (the embedded server, or one given) with two nodes, or a local etcd cluster with 2 to 7 nodes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgctlProcess, freePort, waitFor } from './agctlProcess.js';
import { DEMO_ZONE, startDnsDemoAuthority, type DemoAuthority, type DnsDemoAuthorityOptions } from './demoAuthority.js';
import { followsPrimary, LocalNode, type LocalNodeState } from './localNode.js';
import { Timeline } from './timeline.js';

/** What the process demo is run with. */
export interface ProcessDemoOptions extends DnsDemoAuthorityOptions {
  readonly heartbeat: number;
  readonly check: number;
  readonly absence: number;
  /** The group authority: `dns` (default; `dnsServer`, `tsig` and `groupFqdn` apply) or `etcd` (a local etcd cluster). */
  readonly coordination?: 'dns' | 'etcd';
  /** How many nodes form the group: 2 (default), up to 7 with etcd. */
  readonly members?: number;
  /** The group's name (default app.demo.test); required with `dnsServer`. */
  readonly groupFqdn?: string;
}

/** The figures the demo measured. */
export interface ProcessDemoResult {
  /** From kill -9 of the Primary to the authority naming another node's address, ms. */
  readonly failoverMs: number;
  /** From restarting the old Primary to it running as Secondary with direct heartbeats, ms. */
  readonly rejoinMs: number;
  /** The node id of the node that took over. */
  readonly tookOver: string;
}

/** The node ids of the demo, in the order they start (a creates the group), and their loopback addresses. */
const NODE_IDS = ['a', 'b', 'c', 'd', 'e', 'f', 'g'] as const;
const addressOf = (index: number) => `127.0.0.${index + 2}`;
const COUNT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven'];

/**
 * Runs the demo and resolves with its figures; every child is stopped and the temp directory removed before it
 * settles, also when a step fails (it rejects with the step and the children's last log lines).
 *
 * @example
 * const { failoverMs } = await runProcessDemo({ heartbeat: 0.2, check: 0.3, absence: 0.6 });
 * const { tookOver } = await runProcessDemo({ heartbeat: 0.2, check: 0.3, absence: 0.6, coordination: 'etcd', members: 3 });
 */
export async function runProcessDemo(options: ProcessDemoOptions, signal?: AbortSignal): Promise<ProcessDemoResult> {
  const coordination = options.coordination ?? 'dns';
  const count = options.members ?? 2;
  if (!Number.isInteger(count) || count < 2 || count > (coordination === 'etcd' ? NODE_IDS.length : 2)) {
    throw new RangeError(`members must be 2${coordination === 'etcd' ? ` to ${NODE_IDS.length}` : ' with coordination dns'}, got ${count}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'ag-demo-'));
  const timeline = new Timeline();
  const children: AgctlProcess[] = [];
  const spawn = (name: string, args: readonly string[]) => {
    if (signal?.aborted) throw new Error('interrupted');
    const child = AgctlProcess.spawn(name, args);
    children.push(child);
    return child;
  };
  const stopPolling = new AbortController();
  let authority: DemoAuthority | null = null;
  try {
    const token = randomBytes(24).toString('base64url');
    const groupFqdn = options.groupFqdn ?? `app.${DEMO_ZONE}`;
    const addresses = NODE_IDS.slice(0, count).map((_id, index) => addressOf(index));
    const listed = `${addresses.slice(0, -1).join(', ')} and ${addresses.at(-1)!}`;
    console.log(
      coordination === 'etcd'
        ? `Availability group demo (coordination etcd): ${COUNT_WORDS[count]} node processes on ${listed} over a local etcd cluster`
        : `Availability group demo: two node processes on ${listed}`,
    );
    console.log(`  heartbeat ${options.heartbeat} s, standby check ${options.check} s, failover period ${options.absence} s; group ${groupFqdn}; data in ${dir}\n`);
    const context = { dir, timeline, groupFqdn, spawn };
    if (coordination === 'etcd') {
      // Loaded only here: the etcd client (gRPC) is not part of the DNS demo.
      const { startEtcdDemoAuthority } = await import('./etcdDemoAuthority.js');
      authority = await startEtcdDemoAuthority(context);
    } else {
      authority = await startDnsDemoAuthority(options, context);
    }
    const nodePort = await freePort(addresses);
    const common = {
      group_fqdn: groupFqdn,
      ...authority.nodeSettings,
      peer_secret: randomBytes(24).toString('base64url'),
      health_report_interval: options.heartbeat,
      health_check_interval: options.check,
      allowed_absence_interval: options.absence,
    };
    // Only the first node knows what the creator alone needs (the TSIG key): the others get it from it over the
    // signed peer channel when they join.
    const nodes: LocalNode[] = [];
    for (const [index, address] of addresses.entries()) {
      nodes.push(await LocalNode.create({ id: NODE_IDS[index]!, address, port: nodePort, dir, token, settings: { ...common, ...(index === 0 ? authority.creatorSettings : {}) } }));
    }
    const startNode = async (node: LocalNode, flags: readonly string[]) => {
      timeline.add('demo', `starting node ${node.id} on ${node.address}:${nodePort}${flags.length > 0 ? ` with ${flags.join(' ')}` : ''}`);
      await node.start(flags, (name, args) => {
        const child = spawn(name, args);
        child.onLog((line) => {
          // The story ends at the shutdown: a stopping Primary's handover attempt is not part of it.
          if (!stopPolling.signal.aborted) narrate(timeline, node.id, line, authority!.takeoverWrite);
        });
        return child;
      });
    };
    void pollStatus(nodes, authority.label, timeline, stopPolling.signal);

    const [first, ...joiners] = nodes as [LocalNode, ...LocalNode[]];
    await startNode(first, ['--create-group']);
    await waitFor(`${first.id} to act as Primary`, () => first.state().then((state) => state?.acting_primary === true), 15_000);
    timeline.add('demo', authority.describe(await authority.address()));
    for (const node of joiners) {
      await startNode(node, ['--join']);
      await waitFor(`${node.id} to receive direct heartbeats`, () => node.state().then((state) => followsPrimary(state)), 15_000);
    }
    await sleepFor(Math.max(1000, options.heartbeat * 5000), signal);

    // The node acting as Primary now (a, unless a stalled machine made another take over already).
    const primary = await waitFor('one node to act as Primary', async () => {
      const states = await Promise.all(nodes.map((node) => node.state()));
      return nodes.find((_node, index) => states[index]?.acting_primary === true);
    }, 15_000);
    const others = nodes.filter((node) => node !== primary);
    const victim = primary.process!;
    timeline.add('demo', `kill -9 node ${primary.id} (pid ${victim.pid}), the Primary`);
    const killedAt = performance.now();
    await victim.kill('SIGKILL');
    const successor = await waitFor(
      `the ${authority.label} authority to name another node`,
      async () => {
        const address = await authority!.address();
        return others.find((node) => node.address === address);
      },
      options.absence * 1000 * 4 + 10_000,
      5,
    );
    const failoverMs = performance.now() - killedAt;
    timeline.add('demo', authority.describeFailover(successor.address, successor.id, failoverMs));
    // The epoch of the takeover: every other node follows the new Primary once it has that epoch or a later one.
    const newEpoch = await waitFor(`${successor.id} to act as Primary`, () => successor.state().then((state) => (state?.acting_primary === true ? state.epoch : undefined)), 20_000);
    const followers = others.filter((node) => node !== successor);
    for (const node of followers) {
      await waitFor(`${node.id} to follow ${successor.id}`, () => node.state().then((state) => followsPrimary(state, newEpoch)), 20_000);
    }
    if (followers.length > 0) timeline.add('demo', `${followers.map((node) => node.id).join(', ')} ${followers.length === 1 ? 'follows' : 'follow'} ${successor.id}: Secondary, receiving its direct heartbeats`);

    const restartedAt = performance.now();
    await startNode(primary, []);
    await waitFor(`${primary.id} to come back as Secondary`, () => primary.state().then((state) => followsPrimary(state, newEpoch)), 20_000);
    const rejoinMs = performance.now() - restartedAt;
    timeline.add('demo', `${primary.id} is back as Secondary, receiving ${successor.id}'s heartbeats (${rejoinMs.toFixed(0)} ms after its restart); ${authority.describeStill(await authority.address())}`);
    stopPolling.abort();

    timeline.add('demo', `stopping the nodes (SIGTERM) and ${authority.stopsWith}`);
    for (const child of [...children].reverse()) await child.kill('SIGTERM');
    await authority.close();
    console.log(`\n${authority.summarizeFailover(failoverMs, successor.id, successor.address)}`);
    console.log(`          (failover period ${options.absence * 1000} ms, standby check ${options.check * 1000} ms, heartbeat ${options.heartbeat * 1000} ms).`);
    if (followers.length > 0) console.log(`Followers: ${followers.map((node) => node.id).join(', ')} ${followers.length === 1 ? 'follows' : 'follow'} ${successor.id} as Secondary.`);
    console.log(`Rejoin:   ${rejoinMs.toFixed(0)} ms from restarting the old Primary to it running as Secondary; no automatic failback.`);
    return { failoverMs, rejoinMs, tookOver: successor.id };
  } catch (error) {
    const logs = children.map((child) => `--- ${child.name} (pid ${child.pid}) ---\n${child.describe(8)}`).join('\n');
    if (logs === '') throw error;
    throw new Error(`${(error as Error).message}\n${logs}`);
  } finally {
    stopPolling.abort();
    await Promise.all(children.map((child) => child.kill('SIGKILL')));
    await authority?.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/** The live view: one status line per node whenever what it reports changes. */
async function pollStatus(nodes: readonly LocalNode[], authorityLabel: string, timeline: Timeline, signal: AbortSignal): Promise<void> {
  const lastStatus = new Map<LocalNode, string>();
  while (!signal.aborted) {
    for (const node of nodes) {
      const state: LocalNodeState | null = await node.state();
      const status =
        state === null
          ? node.process === null ? '' : node.process.exitCode !== undefined ? 'down' : 'starting'
          : `${state.node_role}${state.acting_primary ? ' (acting)' : ''}, epoch ${state.epoch}, ${authorityLabel} ${state.node_dns_connection_state}, heartbeat ${state.heartbeat_method ?? '-'}, state ${state.state.split(/[.{]/)[0]}`;
      if (status !== '' && status !== (lastStatus.get(node) ?? '') && !signal.aborted) {
        lastStatus.set(node, status);
        timeline.add(node.id, `status: ${status}`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Tells the story from a node's own log: the events its subscribers get. */
function narrate(timeline: Timeline, who: string, line: Record<string, unknown>, takeoverWrite: string): void {
  const event = line.event as Record<string, unknown> | undefined;
  if (event === undefined || typeof event.eventId !== 'string') return;
  switch (event.eventId) {
    case 'NODE_ROLE_CHANGED':
      timeline.add(who, `event NODE_ROLE_CHANGED ${String(event.previous ?? '(none)')} -> ${String(event.new)} (epoch ${String(event.epoch)}, ${String(event.reason)})`);
      break;
    case 'PRIMARY_SUSPECTED':
      timeline.add(who, `event PRIMARY_SUSPECTED: no heartbeat for ${Number(event.silentForMs).toFixed(0)} ms of ${String(event.absenceLimitMs)} ms`);
      break;
    case 'TAKEOVER_STARTED':
      timeline.add(who, `event TAKEOVER_STARTED (${String(event.mode)}) for epoch ${String(event.epoch)}: ${takeoverWrite}`);
      break;
    case 'TAKEOVER_ABANDONED':
    case 'LEASE_LOST':
      timeline.add(who, `event ${event.eventId}: ${String(event.reason)}`);
      break;
  }
}

async function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
  if (signal?.aborted) throw new Error('interrupted');
}
