import { EventId } from '../api/constants.js';
import { createNode, type AvailabilityNode } from '../node/createNode.js';
import { inMemoryPorts } from '../node/inMemoryPorts.js';
import { InMemoryDnsAuthority } from '../dns/inMemoryDnsAuthority.js';
import { InMemoryPeerNetwork } from '../peer/inMemoryPeerNetwork.js';
import { silentLogger } from '../api/logger.js';
import { CliUsageError, parseCli, runCli } from './cliConfig.js';
import type { CliCommand } from './command.js';
import { waitFor } from './agctlProcess.js';
import { MEMBER_LIMIT } from '../node/settings.js';
import { etcdMissingError } from './etcdCluster.js';
import { runProcessDemo } from './processDemo.js';
import { Timeline } from './timeline.js';

const HELP = `agctl demo: a group whose Primary fails, printed as a timeline (npm start)

Usage: agctl demo [--heartbeat <s>] [--check <s>] [--absence <s>]
                  [--dns-server <host:port> --tsig-name <name> --tsig-secret <base64> [--tsig-algorithm <alg>]
                   --group-fqdn <fqdn>]
       agctl demo --coordination etcd [--members <n>] [--heartbeat <s>] [--check <s>] [--absence <s>]
       agctl demo --in-memory [--heartbeat <s>] [--check <s>] [--absence <s>]

By default it starts the embedded DNS server (agctl dns-server) and two node processes (agctl start) on
127.0.0.2 and 127.0.0.3, forms the group (a creates it, b joins and gets the TSIG key from a), shows each node's
state as it changes, kills the Primary with SIGKILL, shows the Secondary take over and the group FQDN's answer
change (queried over DNS), restarts the old Primary and shows it come back as Secondary, then prints the
measured failover time. Everything runs in a temp directory that is removed at the end; every child process is
stopped, also on failure or Ctrl-C. No DNS server needs to be installed.

With --coordination etcd the group's authority is etcd instead of DNS: it starts a 3-member etcd cluster on
127.0.0.1 in the temp directory (etcd and etcdctl must be installed: apt-get install etcd-server etcd-client), and
--members node processes on 127.0.0.2, 127.0.0.3, ... configured with coordination etcd; a creates the group, the
others join; it kills a, shows which node took over (the group's address key in etcd names it) and the others
follow it, then restarts a as Secondary. No DNS server is used.

Options:
  --heartbeat <s>         heartbeat interval in seconds (default 0.2)
  --check <s>             standby check interval in seconds (default 0.3)
  --absence <s>           failover period in seconds (default 0.6)
  --dns-server <h:p>      use this RFC 2136 server (e.g. BIND) instead of the embedded one; needs the TSIG key
                          it accepts updates with, and a --group-fqdn in its zone
  --tsig-name <name>      with --dns-server: the TSIG key name
  --tsig-secret <base64>  with --dns-server: the TSIG key secret
  --tsig-algorithm <alg>  with --dns-server: the TSIG algorithm (default hmac-sha256)
  --group-fqdn <fqdn>     the group's name (default app.demo.test with the embedded server)
  --coordination <c>      the group authority: dns (default) or etcd (a local 3-member etcd cluster)
  --members <n>           with --coordination etcd: how many node processes form the group, 2 to 7
                          (default 2)
  --in-memory             run both nodes, the DNS authority and the network in this process instead
  -h, --help              show this help

Exit codes:
  0    the demo ran to its end
  1    a step failed (the message says which), or etcd is not installed (with --coordination etcd)
  2    usage error
  130  stopped by Ctrl-C

Examples:
  agctl demo
  agctl demo --heartbeat 0.1 --check 0.1 --absence 0.5
  agctl demo --coordination etcd --members 3
  agctl demo --in-memory
`;

/** `agctl demo`. */
export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'run a failover demo and print its timeline (the main job: npm start; also on etcd)',
  run: (argv) =>
    runCli('demo', async () => {
      const { values } = parseCli(argv, {
        'in-memory': { type: 'boolean', default: false },
        heartbeat: { type: 'string', default: '0.2' },
        check: { type: 'string', default: '0.3' },
        absence: { type: 'string', default: '0.6' },
        'dns-server': { type: 'string' },
        'tsig-name': { type: 'string' },
        'tsig-secret': { type: 'string' },
        'tsig-algorithm': { type: 'string', default: 'hmac-sha256' },
        'group-fqdn': { type: 'string' },
        coordination: { type: 'string', default: 'dns' },
        members: { type: 'string' },
      });
      if (values.help) {
        process.stdout.write(HELP);
        return 0;
      }
      const timers = { heartbeat: seconds('--heartbeat', values.heartbeat), check: seconds('--check', values.check), absence: seconds('--absence', values.absence) };
      const { coordination, members } = demoShape(values.coordination, values.members);
      if (coordination === 'etcd') {
        for (const flag of ['in-memory', 'dns-server', 'tsig-name', 'tsig-secret', 'group-fqdn'] as const) {
          if (values[flag] !== undefined && values[flag] !== false) throw new CliUsageError(`--${flag} does not go with --coordination etcd (the demo starts its own etcd cluster)`);
        }
        // Before anything starts: a missing etcd is a clear message, not a failed step.
        const missing = etcdMissingError();
        if (missing !== null) throw missing;
      }
      if (values['in-memory']) return runInMemoryDemo(timers);
      const dnsServer = values['dns-server'];
      if (dnsServer !== undefined) {
        for (const flag of ['tsig-name', 'tsig-secret', 'group-fqdn'] as const) {
          if (values[flag] === undefined) throw new CliUsageError(`--${flag} is required with --dns-server`);
        }
        if (!/^[^:]+:\d{1,5}$/.test(dnsServer)) throw new CliUsageError('--dns-server must be host:port');
      }
      const interrupt = new AbortController();
      const onSignal = () => interrupt.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await runProcessDemo(
          {
            ...timers,
            ...(dnsServer === undefined ? {} : { dnsServer, tsig: { name: values['tsig-name']!, secret: values['tsig-secret']!, algorithm: values['tsig-algorithm'] } }),
            ...(values['group-fqdn'] === undefined ? {} : { groupFqdn: values['group-fqdn'] }),
            coordination,
            members,
          },
          interrupt.signal,
        );
        return 0;
      } catch (error) {
        if (interrupt.signal.aborted) {
          process.stderr.write('agctl demo: interrupted; every child process was stopped.\n');
          return 130;
        }
        throw error;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    }),
};

/** The most node processes the demo starts (a to g). */
const MAX_DEMO_MEMBERS = 7;

/** `--coordination` and `--members`, checked: etcd takes 2 to {@link MAX_DEMO_MEMBERS}, dns only 2. */
function demoShape(coordinationFlag: string, membersFlag: string | undefined): { coordination: 'dns' | 'etcd'; members: number } {
  if (coordinationFlag !== 'dns' && coordinationFlag !== 'etcd') throw new CliUsageError(`--coordination must be dns or etcd, got ${JSON.stringify(coordinationFlag)}`);
  const coordination = coordinationFlag;
  if (membersFlag === undefined) return { coordination, members: 2 };
  const members = Number(membersFlag);
  if (!Number.isInteger(members) || members < 2 || members > MAX_DEMO_MEMBERS) throw new CliUsageError(`--members must be a whole number from 2 to ${MAX_DEMO_MEMBERS}, got ${membersFlag}`);
  if (coordination === 'dns' && members !== 2) throw new CliUsageError('--members above 2 needs --coordination etcd: a DNS group has two members');
  if (members > MEMBER_LIMIT.etcd) throw new CliUsageError(`--members ${members} is more than a group with coordination etcd takes (${MEMBER_LIMIT.etcd})`);
  return { coordination, members };
}

function seconds(flag: string, value: string): number {
  const parsed = Number(value);
  if (!(parsed > 0) || !Number.isFinite(parsed)) throw new CliUsageError(`${flag} must be a number of seconds above 0`);
  return parsed;
}

/**
 * The in-memory demo: two nodes in this process over an in-memory DNS authority and network, on the real clock.
 */
export async function runInMemoryDemo(timers: { heartbeat: number; check: number; absence: number }): Promise<number> {
  const timeline = new Timeline();
  const dns = new InMemoryDnsAuthority();
  const network = new InMemoryPeerNetwork();
  const fqdn = 'app.demo.test';
  const group = {
    group_fqdn: fqdn,
    health_report_interval: timers.heartbeat,
    health_check_interval: timers.check,
    allowed_absence_interval: timers.absence,
  };
  console.log(`Availability group demo (in memory): heartbeat ${timers.heartbeat} s, check ${timers.check} s, failover period ${timers.absence} s\n`);
  let heartbeatsReceived = 0;
  const a = createNode({ node_id: 'a', external_ipv4_address: '127.0.0.2', ...group }, { ...inMemoryPorts({ network, dns }), logger: silentLogger() });
  const b = createNode(
    { node_id: 'b', external_ipv4_address: '127.0.0.3' },
    {
      ...inMemoryPorts({ network, dns }),
      logger: silentLogger(),
      inspect: (event) => {
        if (event.type === '@xstate.event' && event.event.type === 'HEARTBEAT_RECEIVED') heartbeatsReceived += 1;
      },
    },
  );
  for (const node of [a, b]) watch(node, timeline);
  await a.start();
  await b.start();
  timeline.add('demo', 'a creates the group');
  await a.createGroup();
  timeline.add('demo', `DNS: ${describeRecords(dns.peek(fqdn))}`);
  timeline.add('demo', 'b joins the group');
  await b.joinGroup({ address: '127.0.0.2' });
  await waitFor('five direct heartbeats', () => heartbeatsReceived >= 5, 10_000, 5);
  timeline.add('b', `received ${heartbeatsReceived} direct heartbeats; newest sent at ${b.getNodeState().lastHeartbeatTime}`);
  const crashedAt = timeline.now();
  timeline.add('demo', 'a crashes (stopped without handing over)');
  await a.stop({ handOver: false });
  await waitFor('b to act as Primary', () => b.isActingPrimary(), timers.absence * 1000 * 4 + 5_000, 5);
  const failoverMs = timeline.now() - crashedAt;
  timeline.add('demo', `DNS: ${describeRecords(dns.peek(fqdn))}`);
  await new Promise((resolve) => setTimeout(resolve, 10));
  await b.stop({ handOver: false });
  console.log(`\nFailover took ${failoverMs.toFixed(0)} ms from the crash (failover period ${timers.absence * 1000} ms).`);
  return 0;
}

function watch(node: AvailabilityNode, timeline: Timeline): void {
  node.subscribe(EventId.NODE_ROLE_CHANGED, (event) =>
    timeline.add(node.nodeId, `subscriber told: NODE_ROLE_CHANGED ${event.previous ?? '(none)'} -> ${event.new} (epoch ${event.epoch}, ${event.reason})`),
  );
  node.subscribe(EventId.PRIMARY_SUSPECTED, (event) =>
    timeline.add(node.nodeId, `primary suspected: silent for ${event.silentForMs.toFixed(0)} ms of ${event.absenceLimitMs} ms`),
  );
  node.subscribe(EventId.TAKEOVER_STARTED, (event) => timeline.add(node.nodeId, `takeover started (${event.mode}) for epoch ${event.epoch}`));
  node.subscribe(EventId.TAKEOVER_ABANDONED, (event) => timeline.add(node.nodeId, `takeover abandoned: ${event.reason}`));
  node.subscribe(EventId.LEASE_LOST, (event) => timeline.add(node.nodeId, `lease lost: ${event.reason}`));
  node.subscribe(EventId.DNS_CONNECTION_STATE_CHANGED, (event) => timeline.add(node.nodeId, `DNS connection ${event.previous} -> ${event.new}`));
}

function describeRecords(records: { address: string | null; txt: string | null }): string {
  return `A ${records.address ?? '(none)'}, TXT "${records.txt ?? ''}"`;
}
