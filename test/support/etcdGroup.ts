/**
 * Two `agctl start` node processes (a on 127.0.0.2, b on 127.0.0.3; with `members`, c on 127.0.0.4 ...) with `coordination: etcd` on a real etcd cluster
 * (test/support/etcdCluster.ts, three members by default), optionally with the embedded DNS server and the TSIG key
 * too (the DNS mirror of the A record). The node configs and the group forming are processes.ts's
 * ({@link writeNodePair}, {@link formGroup}); this file adds the etcd side: the cluster and a reader of the group's
 * keys through the etcd3 client (independent of the node's own etcd client).
 */
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3, IOptions } from 'etcd3';
import { parseHeartbeatRecord } from '../../src/dns/heartbeatRecord.js';
import { DnsUpdateClient } from '../../src/dns/dnsUpdateClient.js';
import { RUN_ONCE_POLICY } from '../../src/etcd/runOncePolicy.js';
import { startEtcdCluster, type EtcdCluster } from './etcdCluster.js';
import { formGroup, startTestDns, writeNodePair, type DnsKind, type GroupRecordsNow, type TestDns, type TestNodePair, type TestTimers } from './processes.js';

/** The `etcd_prefix` of the test groups (not the default, so that the tests show the setting is used). */
export const TEST_ETCD_PREFIX = '/ag-test';

/**
 * Reads a group's two keys (`<prefix>/groups/<fqdn>/address` and `.../heartbeat`) with one linearizable range request
 * per member, sent to every member at once: the first answer counts (any member's linearizable answer is the
 * cluster's). Rejects when no member answers within the timeout (no quorum, all paused).
 *
 * @example
 * const keys = new EtcdGroupKeys(cluster.endpoints, '/ag-test', 'app.example.test');
 * (await keys.read(1000)).heartbeat?.holder // 'a'
 * keys.close();
 */
export class EtcdGroupKeys {
  readonly #clients: Etcd3[];
  readonly #dir: string;

  constructor(
    endpoints: readonly string[],
    readonly prefix: string,
    readonly groupFqdn: string,
  ) {
    const { Etcd3: Client } = createRequire(import.meta.url)('etcd3') as typeof import('etcd3');
    this.#clients = endpoints.map((endpoint) => new Client({ hosts: `http://${endpoint}`, dialTimeout: 1000, faultHandling: { global: RUN_ONCE_POLICY, host: () => RUN_ONCE_POLICY } }));
    this.#dir = `${prefix}/groups/${groupFqdn.toLowerCase().replace(/\.$/, '')}/`;
  }

  /** The key of the address (the A-record equivalent). */
  get addressKey(): string {
    return `${this.#dir}address`;
  }

  /** The key of the heartbeat (the TXT equivalent). */
  get heartbeatKey(): string {
    return `${this.#dir}heartbeat`;
  }

  /** Both keys as one linearizable read, within `timeoutMs`. */
  async read(timeoutMs = 1000): Promise<GroupRecordsNow> {
    const deadline = Date.now() + timeoutMs;
    const values = await Promise.any(this.#clients.map((client) => client.getAll().prefix(this.#dir).options({ deadline }).strings()));
    const address = values[this.addressKey] ?? null;
    const txt = values[this.heartbeatKey] ?? null;
    return { address, txt, heartbeat: txt === null ? null : parseHeartbeatRecord(txt) };
  }

  /** The address key, or null when no member answered in time. */
  async address(timeoutMs = 200): Promise<string | null> {
    try {
      return (await this.read(timeoutMs)).address;
    } catch {
      return null;
    }
  }

  /**
   * The index (in endpoint order) of the member that leads now, as the first member to answer says; rejects when none
   * answers within `timeoutMs`.
   */
  async leader(timeoutMs = 1000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    const statuses = await Promise.allSettled(this.#clients.map((client) => client.maintenance.status({ deadline })));
    const ids = statuses.map((status) => (status.status === 'fulfilled' ? status.value.header.member_id : null));
    const leader = statuses.find((status) => status.status === 'fulfilled' && status.value.leader !== '0');
    if (leader === undefined || leader.status !== 'fulfilled') throw new Error(`no etcd member named a leader within ${timeoutMs} ms`);
    const index = ids.indexOf(leader.value.leader);
    if (index < 0) throw new Error(`the etcd leader ${leader.value.leader} did not answer within ${timeoutMs} ms`);
    return index;
  }

  close(): void {
    for (const client of this.#clients) client.close();
  }
}

/** Two nodes on etcd (and the etcd cluster), in a temp dir. */
export interface EtcdTestGroup extends TestNodePair {
  readonly dir: string;
  readonly etcd: EtcdCluster;
  /** The DNS server of the mirror, when asked for (`dns`); null otherwise (the nodes have no `dns_server`). */
  readonly dns: TestDns | null;
  readonly groupFqdn: string;
  readonly keys: EtcdGroupKeys;
  /** The group's keys now (linearizable; rejects when etcd has no quorum within 1 s). */
  records(): Promise<GroupRecordsNow>;
  /** The A record and TXT on the mirror's DNS server (throws without `dns`). */
  dnsRecords(): Promise<GroupRecordsNow>;
  /** Kills every node process and the etcd cluster (and the DNS server), and removes the temp dirs. */
  stop(): Promise<void>;
}

export interface EtcdGroupOptions {
  /** Start a with `--create-group`, then b with `--join`, and wait until b receives direct heartbeats. */
  readonly form?: boolean;
  /** etcd members (default 3). */
  readonly etcdMembers?: number;
  /** Node processes (default 2; up to 7): c, d ... on 127.0.0.4 ... join after b when forming. */
  readonly members?: number;
  /** Also run this DNS server and give a the TSIG key: the acting Primary keeps the A record on itself (the DNS mirror). */
  readonly dns?: DnsKind;
  readonly nodeEnv?: Record<string, string>;
  readonly nodeSettings?: Partial<Record<'a' | 'b', Record<string, unknown>>>;
}

/**
 * Starts an etcd cluster (three members) and writes two node configs with `coordination: etcd`, `etcd_endpoints`
 * every member and `etcd_prefix` {@link TEST_ETCD_PREFIX}; no `dns_server` unless `dns` is given. `form` forms the
 * group (b joins through the Primary its etcd keys name).
 *
 * @example
 * const group = await startEtcdGroup({ heartbeat: 0.1, check: 0.1, absence: 0.5 }, { form: true });
 * afterAll(() => group.stop());
 */
export async function startEtcdGroup(timers: TestTimers, options: EtcdGroupOptions = {}): Promise<EtcdTestGroup> {
  const dir = await mkdtemp(join(tmpdir(), 'ag-it-etcd-'));
  const etcd = await startEtcdCluster({ members: options.etcdMembers ?? 3 });
  let dns: TestDns | null = null;
  try {
    dns = options.dns === undefined ? null : await startTestDns(options.dns, dir);
  } catch (error) {
    await etcd.stop();
    throw error;
  }
  const groupFqdn = `app.${dns?.zone ?? 'example.test'}`;
  const mirror = dns === null ? {} : { dns_server: `${dns.host}:${dns.port}` };
  const key = dns === null ? {} : { tsig_name: dns.key.name, tsig_secret: dns.key.secret, tsig_algorithm: dns.key.algorithm };
  const pair = await writeNodePair(dir, timers, {
    common: { group_fqdn: groupFqdn, coordination: 'etcd', etcd_endpoints: etcd.endpoints, etcd_prefix: TEST_ETCD_PREFIX, ...mirror },
    nodeSettings: { a: { ...key, ...options.nodeSettings?.a }, b: { ...options.nodeSettings?.b } },
    ...(options.nodeEnv === undefined ? {} : { nodeEnv: options.nodeEnv }),
    ...(options.members === undefined ? {} : { members: options.members }),
  });
  const keys = new EtcdGroupKeys(etcd.endpoints, TEST_ETCD_PREFIX, groupFqdn);
  const reader = dns === null ? null : new DnsUpdateClient({ server: { host: dns.host, port: dns.port }, tsig: dns.key, timeoutMs: 500, retries: 2 });
  const group: EtcdTestGroup = {
    ...pair,
    dir,
    etcd,
    dns,
    groupFqdn,
    keys,
    records: () => keys.read(1000),
    async dnsRecords() {
      if (reader === null) throw new Error('this etcd group runs no DNS server (startEtcdGroup without dns)');
      const records = await reader.read(groupFqdn);
      return { ...records, heartbeat: records.txt === null ? null : parseHeartbeatRecord(records.txt) };
    },
    async stop() {
      keys.close();
      reader?.close();
      await Promise.all(pair.nodes.map((node) => node.process?.kill('SIGKILL')));
      await etcd.stop();
      await dns?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  if (options.form === true) {
    try {
      await formGroup(group);
    } catch (error) {
      await group.stop();
      throw error;
    }
  }
  return group;
}
