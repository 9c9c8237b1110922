/**
 * Our side of the keepalived bench: two `agctl start` nodes (a on 127.0.0.2, b on 127.0.0.3) over the embedded DNS
 * server (`agctl dns-server`), as test/support/processes.ts starts them, and one failover measured: kill -9 of the
 * Primary's process, then the time until DNS answers the Secondary's address, seen by a UDP query loop (every 2 ms)
 * against each server given (the authority, and a caching resolver in front of it). The killed node is restarted
 * and joins as Secondary for the next run; the roles are read from the nodes before every run.
 */
import type { DnsServerAddress } from '../../src/dns/dnsTransport.js';
import { startCluster, waitFor, type TestCluster, type TestNode, type TestTimers } from '../../test/support/processes.js';
import { pollDnsAddress } from './dnsAddressPoll.js';
import { measureFailover } from './measureFailover.js';

export { TakeoverBeforeKill } from './measureFailover.js';

/** Where the bench watches the group's A record: the authority itself, or a caching resolver (RD set). */
export interface DnsVantage {
  readonly server: DnsServerAddress;
  readonly recursion: boolean;
}

/** Milliseconds between the queries of the loop. */
export const QUERY_EVERY_MS = 2;

/**
 * A formed two-node group with the given timers and `group_fqdn_ttl`.
 *
 * @example
 * const group = await OurGroup.start({ heartbeat: 0.1, check: 0.1, absence: 0.3 }, 30);
 * const [failoverMs] = await group.failover(1000 + phaseMs, [group.authority]);
 * await group.stop();
 */
export class OurGroup {
  private constructor(
    readonly cluster: TestCluster,
    readonly timers: TestTimers,
  ) {}

  /** Forms the group; a formation that does not settle (on a loaded machine) is torn down and tried again, at most 3 times. */
  static async start(timers: TestTimers, groupFqdnTtl: number): Promise<OurGroup> {
    const settings = { group_fqdn_ttl: groupFqdnTtl };
    for (let attempt = 1; ; attempt++) {
      try {
        const cluster = await startCluster('embedded', timers, { form: true, nodeSettings: { a: settings, b: settings } });
        return new OurGroup(cluster, timers);
      } catch (error) {
        if (attempt === 3) throw error;
        console.log(`  (forming the group failed, tried again: ${(error as Error).message.split('\n')[0]})`);
      }
    }
  }

  /** The embedded DNS server, asked directly. */
  get authority(): DnsVantage {
    return { server: { host: this.cluster.dns.host, port: this.cluster.dns.port }, recursion: false };
  }

  /** The acting Primary and the Secondary receiving its direct heartbeats, once the group is in that shape. */
  async #roles(): Promise<{ primary: TestNode; secondary: TestNode }> {
    const { a, b } = this.cluster;
    return waitFor(
      'one acting Primary and a Secondary with direct heartbeats',
      async () => {
        const [stateA, stateB] = await Promise.all([a.state(), b.state()]);
        const watching = (state: Record<string, any> | null) => state?.node_role === 'secondary' && state.heartbeat_method === 'direct';
        if (stateA?.acting_primary === true && watching(stateB)) return { primary: a, secondary: b };
        if (stateB?.acting_primary === true && watching(stateA)) return { primary: b, secondary: a };
        return undefined;
      },
      30_000,
      20,
    );
  }

  /**
   * Waits until the group has an acting Primary and a Secondary with direct heartbeats, starts the query loops (a
   * client that keeps asking), waits `beforeKillMs`, kills the Primary, and resolves with the milliseconds from the
   * kill until each vantage answered the Secondary's address (in the order given). The killed node is then started
   * again. Rejects with {@link TakeoverBeforeKill} when DNS names the Secondary before the kill (nothing is killed).
   */
  async failover(beforeKillMs: number, vantages: readonly DnsVantage[]): Promise<number[]> {
    const { primary, secondary } = await this.#roles();
    return measureFailover(
      { killPrimary: () => primary.process!.kill('SIGKILL'), restartPrimary: () => primary.start(), secondary },
      beforeKillMs,
      (address, deadlineMs) => vantages.map((vantage) => pollDnsAddress({ ...vantage, fqdn: this.cluster.groupFqdn, expected: address, everyMs: QUERY_EVERY_MS, deadlineMs })),
    );
  }

  stop(): Promise<void> {
    return this.cluster.stop();
  }
}
