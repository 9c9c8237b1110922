/**
 * The etcd authority of the process demo (`agctl demo --coordination etcd`): a fresh 3-member etcd cluster on
 * 127.0.0.1 (etcdCluster.ts), the nodes configured with `coordination: "etcd"` and its endpoints, and the group's
 * address key read linearizably, as the nodes read it.
 */
import { DEFAULT_ETCD_PREFIX } from '../node/settings.js';
import { EtcdAuthority } from '../etcd/etcdAuthority.js';
import type { DemoAuthority, DemoAuthorityContext } from './demoAuthority.js';
import { startEtcdCluster, type EtcdCluster } from './etcdCluster.js';

/** The etcd cluster's size in the demo: the smallest that survives the loss of a member. */
export const DEMO_ETCD_MEMBERS = 3;

/** The etcd authority: its cluster too (the bench reads the members' endpoints). */
export interface EtcdDemoAuthority extends DemoAuthority {
  readonly kind: 'etcd';
  readonly cluster: EtcdCluster;
}

/**
 * Starts the etcd cluster (throws `ProgramMissingError` when etcd is not installed) and resolves once all its
 * members answer linearizable reads.
 *
 * @example
 * const etcd = await startEtcdDemoAuthority({ dir, timeline, groupFqdn: 'app.demo.test', spawn });
 * timeline.add('demo', etcd.describe(await etcd.address()));
 */
export async function startEtcdDemoAuthority(context: DemoAuthorityContext): Promise<EtcdDemoAuthority> {
  const { timeline, groupFqdn } = context;
  timeline.add('demo', `starting a ${DEMO_ETCD_MEMBERS}-member etcd cluster on 127.0.0.1 (its data and logs in a temp dir)`);
  const cluster = await startEtcdCluster({ members: DEMO_ETCD_MEMBERS });
  timeline.add('demo', `etcd cluster healthy: members ${cluster.members.map((member) => `${member.name} ${member.endpoint} (pid ${member.pid})`).join(', ')}`);
  const prefix = DEFAULT_ETCD_PREFIX;
  const key = `${prefix}/groups/${groupFqdn.toLowerCase().replace(/\.$/, '')}/address`;
  const client = new EtcdAuthority({ endpoints: cluster.endpoints, prefix, timeoutMs: 2000 });
  let closed = false;
  return {
    kind: 'etcd',
    cluster,
    client,
    label: 'etcd',
    nodeSettings: { coordination: 'etcd', etcd_endpoints: cluster.endpoints, etcd_prefix: prefix },
    creatorSettings: {},
    takeoverWrite: 'one etcd transaction: compare the heartbeat key, write the address and heartbeat keys',
    address: () => client.read(groupFqdn).then((records) => records.address, () => null),
    describe: (address) => `etcd: ${key} = ${address ?? '(none)'}`,
    describeFailover: (address, who, ms) => `etcd: ${key} = ${address}: ${who} took over ${ms.toFixed(0)} ms after the kill`,
    describeStill: (address) => `etcd still names ${address ?? '(none)'}`,
    summarizeFailover: (ms, who, address) => `Failover: ${ms.toFixed(0)} ms from kill -9 of the Primary to etcd naming ${who} (${address}): ${who} took over as Primary`,
    stopsWith: 'the etcd cluster',
    close: async () => {
      if (closed) return;
      closed = true;
      await client.close();
      await cluster.stop();
    },
  };
}
