/**
 * The process demo (`agctl demo`, `npm start`): a DNS server and two node processes on this machine, a real
 * crash of the Primary, the takeover seen over DNS, and the old Primary's return as Secondary.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHostPort } from '../dns/dnsTransport.js';
import { lookupAddress } from '../dns/primaryLocator.js';
import { AgctlProcess, freePort, waitFor } from './agctlProcess.js';
import { Timeline } from './timeline.js';

/** What the process demo is run with. */
export interface ProcessDemoOptions {
  readonly heartbeat: number;
  readonly check: number;
  readonly absence: number;
  /** Use this DNS server instead of starting the embedded one; then `tsig` and `groupFqdn` are required. */
  readonly dnsServer?: string;
  readonly tsig?: { readonly name: string; readonly secret: string; readonly algorithm: string };
  readonly groupFqdn?: string;
}

/** The figures the demo measured. */
export interface ProcessDemoResult {
  /** From kill -9 of the Primary to the FQDN answering the Secondary's address, ms. */
  readonly failoverMs: number;
  /** From restarting the old Primary to it running as Secondary with direct heartbeats, ms. */
  readonly rejoinMs: number;
}

const ADDRESS_A = '127.0.0.2';
const ADDRESS_B = '127.0.0.3';
const DEMO_ZONE = 'demo.test';

interface DemoNode {
  readonly id: string;
  readonly address: string;
  readonly configFile: string;
  process: AgctlProcess | null;
  lastStatus: string;
}

/**
 * Runs the demo and resolves with its figures; every child is stopped and the temp directory removed before it
 * settles, also when a step fails (it rejects with the step and the children's last log lines).
 *
 * @example
 * const { failoverMs } = await runProcessDemo({ heartbeat: 0.2, check: 0.3, absence: 0.6 });
 */
export async function runProcessDemo(options: ProcessDemoOptions, signal?: AbortSignal): Promise<ProcessDemoResult> {
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
  try {
    const token = randomBytes(24).toString('base64url');
    const tsig = options.tsig ?? { name: `ag-key.${DEMO_ZONE}`, algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };
    const groupFqdn = options.groupFqdn ?? `app.${DEMO_ZONE}`;
    let dnsServer = options.dnsServer;
    console.log(`Availability group demo: two node processes on ${ADDRESS_A} and ${ADDRESS_B}`);
    console.log(`  heartbeat ${options.heartbeat} s, standby check ${options.check} s, failover period ${options.absence} s; group ${groupFqdn}; data in ${dir}\n`);
    if (dnsServer === undefined) {
      const port = await freePort(['127.0.0.1']);
      dnsServer = `127.0.0.1:${port}`;
      timeline.add('demo', `starting the embedded DNS server on ${dnsServer} (zone ${DEMO_ZONE}, TSIG key ${tsig.name})`);
      const dns = spawn('dns', ['dns-server', '--zone', DEMO_ZONE, '--listen', dnsServer, '--tsig-name', tsig.name, '--tsig-secret', tsig.secret, '--tsig-algorithm', tsig.algorithm, '--data', join(dir, 'zone.json')]);
      await dns.waitForLog((line) => line.msg === 'DNS server listening', 15_000);
    } else {
      timeline.add('demo', `using the DNS server at ${dnsServer}`);
    }
    const server = parseHostPort(dnsServer);
    const nodePort = await freePort([ADDRESS_A, ADDRESS_B]);
    const common = {
      external_port: nodePort,
      group_fqdn: groupFqdn,
      dns_server: dnsServer,
      api_token: token,
      peer_secret: randomBytes(24).toString('base64url'),
      health_report_interval: options.heartbeat,
      health_check_interval: options.check,
      allowed_absence_interval: options.absence,
    };
    const a: DemoNode = { id: 'a', address: ADDRESS_A, configFile: join(dir, 'a.json'), process: null, lastStatus: '' };
    const b: DemoNode = { id: 'b', address: ADDRESS_B, configFile: join(dir, 'b.json'), process: null, lastStatus: '' };
    // Only a knows the TSIG key: b gets it from a over the signed peer channel when it joins.
    await writeConfig(a, { ...common, tsig_name: tsig.name, tsig_secret: tsig.secret, tsig_algorithm: tsig.algorithm, data_dir: join(dir, 'a') });
    await writeConfig(b, { ...common, data_dir: join(dir, 'b') });
    const startNode = async (node: DemoNode, flags: readonly string[]) => {
      timeline.add('demo', `starting node ${node.id} on ${node.address}:${nodePort}${flags.length > 0 ? ` with ${flags.join(' ')}` : ''}`);
      node.process = spawn(node.id, ['start', '--config', node.configFile, ...flags]);
      node.process.onLog((line) => {
        // The story ends at the shutdown: a stopping Primary's handover attempt is not part of it.
        if (!stopPolling.signal.aborted) narrate(timeline, node.id, line);
      });
      await node.process.waitForLog((line) => line.msg === 'node listening', 20_000);
    };
    void pollStatus([a, b], nodePort, token, timeline, stopPolling.signal);

    await startNode(a, ['--create-group']);
    await waitFor('a to act as Primary', () => stateOf(a, nodePort, token).then((state) => state?.acting_primary === true), 15_000);
    timeline.add('demo', `DNS: ${groupFqdn} A ${await lookupAddress(server, groupFqdn)}`);
    await startNode(b, ['--join']);
    await waitFor('b to receive direct heartbeats', () => stateOf(b, nodePort, token).then((state) => state?.node_role === 'secondary' && state.heartbeat_method === 'direct'), 15_000);
    await sleepFor(Math.max(1000, options.heartbeat * 5000), signal);

    const victim = a.process!;
    timeline.add('demo', `kill -9 node a (pid ${victim.pid}), the Primary`);
    const killedAt = performance.now();
    await victim.kill('SIGKILL');
    const newAddress = await waitFor('the FQDN to answer b', () => lookupAddress(server, groupFqdn, 200).then((address) => (address === ADDRESS_B ? address : undefined), () => undefined), options.absence * 1000 * 4 + 10_000, 5);
    const failoverMs = performance.now() - killedAt;
    timeline.add('demo', `DNS: ${groupFqdn} A ${newAddress}: the answer changed ${failoverMs.toFixed(0)} ms after the kill`);

    const restartedAt = performance.now();
    await startNode(a, []);
    await waitFor('a to come back as Secondary', () => stateOf(a, nodePort, token).then((state) => state?.node_role === 'secondary' && state.heartbeat_method === 'direct' && state.epoch >= 2), 20_000);
    const rejoinMs = performance.now() - restartedAt;
    timeline.add('demo', `a is back as Secondary, receiving b's heartbeats (${rejoinMs.toFixed(0)} ms after its restart); DNS still answers ${await lookupAddress(server, groupFqdn)}`);
    stopPolling.abort();

    timeline.add('demo', 'stopping the nodes (SIGTERM) and the DNS server');
    for (const child of [...children].reverse()) await child.kill('SIGTERM');
    console.log(`\nFailover: ${failoverMs.toFixed(0)} ms from kill -9 of the Primary to ${groupFqdn} answering the Secondary's address`);
    console.log(`          (failover period ${options.absence * 1000} ms, standby check ${options.check * 1000} ms, heartbeat ${options.heartbeat * 1000} ms).`);
    console.log(`Rejoin:   ${rejoinMs.toFixed(0)} ms from restarting the old Primary to it running as Secondary; no automatic failback.`);
    return { failoverMs, rejoinMs };
  } catch (error) {
    const logs = children.map((child) => `--- ${child.name} (pid ${child.pid}) ---\n${child.describe(8)}`).join('\n');
    throw new Error(`${(error as Error).message}\n${logs}`);
  } finally {
    stopPolling.abort();
    await Promise.all(children.map((child) => child.kill('SIGKILL')));
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeConfig(node: DemoNode, settings: Record<string, unknown>): Promise<void> {
  await writeFile(node.configFile, JSON.stringify({ node_id: node.id, external_ipv4_address: node.address, ...settings }, null, 2), { mode: 0o600 });
}

interface StateAnswer {
  node_role: string;
  node_dns_connection_state: string;
  heartbeat_method: string | null;
  epoch: number;
  acting_primary: boolean;
  state: string;
}

async function stateOf(node: DemoNode, port: number, token: string): Promise<StateAnswer | null> {
  if (node.process === null || node.process.exitCode !== undefined) return null;
  try {
    const response = await fetch(`http://${node.address}:${port}/ag/api/v1/state`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(500) });
    return response.ok ? ((await response.json()) as StateAnswer) : null;
  } catch {
    return null;
  }
}

/** The live view: one status line per node whenever what it reports changes. */
async function pollStatus(nodes: readonly DemoNode[], port: number, token: string, timeline: Timeline, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    for (const node of nodes) {
      const state = await stateOf(node, port, token);
      const status =
        state === null
          ? node.process === null ? '' : node.process.exitCode !== undefined ? 'down' : 'starting'
          : `${state.node_role}${state.acting_primary ? ' (acting)' : ''}, epoch ${state.epoch}, DNS ${state.node_dns_connection_state}, heartbeat ${state.heartbeat_method ?? '-'}, state ${state.state.split(/[.{]/)[0]}`;
      if (status !== '' && status !== node.lastStatus && !signal.aborted) {
        node.lastStatus = status;
        timeline.add(node.id, `status: ${status}`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Tells the story from a node's own log: the events its subscribers get. */
function narrate(timeline: Timeline, who: string, line: Record<string, unknown>): void {
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
      timeline.add(who, `event TAKEOVER_STARTED (${String(event.mode)}) for epoch ${String(event.epoch)}: compare-and-swap update of A and TXT`);
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
