/**
 * A formed two-node group for the etcd bench, on any authority the demo starts (src/cli/demoAuthority.ts: the
 * embedded DNS server, or a local etcd cluster): a on 127.0.0.2 creates the group, b on 127.0.0.3 joins, both
 * `agctl start` processes with the given timers; each failover kills the Primary (kill -9), measures through
 * measureFailover.ts, and restarts the killed node as Secondary. Two pairs can run side by side (each on its own
 * port).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgctlProcess, freePort, waitFor } from '../../src/cli/agctlProcess.js';
import type { DemoAuthority } from '../../src/cli/demoAuthority.js';
import { followsPrimary, LocalNode } from '../../src/cli/localNode.js';
import { measureFailover, type AuthorityWatch } from './measureFailover.js';

/** Timers of the group, seconds. */
export interface PairTimers {
  readonly heartbeat: number;
  readonly check: number;
  readonly absence: number;
}

/**
 * @example
 * const pair = await LocalPair.start(authority, 'app.demo.test', { heartbeat: 0.1, check: 0.1, absence: 0.5 });
 * const [ms] = await pair.failover(1000 + phaseMs, (address, deadlineMs) => [watchOf(address, deadlineMs)]);
 * await pair.stop();
 */
export class LocalPair {
  readonly #children: AgctlProcess[] = [];

  private constructor(
    readonly dir: string,
    readonly a: LocalNode,
    readonly b: LocalNode,
  ) {}

  /** Writes the configs, starts a with `--create-group` and b with `--join`, and waits until b receives direct heartbeats. */
  static async start(authority: DemoAuthority, groupFqdn: string, timers: PairTimers): Promise<LocalPair> {
    const dir = await mkdtemp(join(tmpdir(), 'ag-bench-pair-'));
    const port = await freePort(['127.0.0.2', '127.0.0.3']);
    const token = randomBytes(18).toString('base64url');
    const settings = {
      group_fqdn: groupFqdn,
      ...authority.nodeSettings,
      peer_secret: randomBytes(18).toString('base64url'),
      health_report_interval: timers.heartbeat,
      health_check_interval: timers.check,
      allowed_absence_interval: timers.absence,
    };
    const a = await LocalNode.create({ id: 'a', address: '127.0.0.2', port, dir, token, settings: { ...settings, ...authority.creatorSettings } });
    const b = await LocalNode.create({ id: 'b', address: '127.0.0.3', port, dir, token, settings });
    const pair = new LocalPair(dir, a, b);
    try {
      await pair.#start(a, ['--create-group']);
      await waitFor('a to act as Primary', async () => (await a.state())?.acting_primary === true, 30_000, 20);
      await pair.#start(b, ['--join']);
      await waitFor('b to receive direct heartbeats', async () => followsPrimary(await b.state()), 30_000, 20);
    } catch (error) {
      await pair.stop();
      throw error;
    }
    return pair;
  }

  #start(node: LocalNode, flags: readonly string[]): Promise<AgctlProcess> {
    return node.start(flags, (name, args) => {
      const child = AgctlProcess.spawn(name, args);
      this.#children.push(child);
      return child;
    });
  }

  /** The acting Primary and the Secondary receiving its direct heartbeats, once the group is in that shape. */
  roles(): Promise<{ primary: LocalNode; secondary: LocalNode }> {
    const { a, b } = this;
    return waitFor(
      'one acting Primary and a Secondary with direct heartbeats',
      async () => {
        const [stateA, stateB] = await Promise.all([a.state(), b.state()]);
        if (stateA?.acting_primary === true && followsPrimary(stateB)) return { primary: a, secondary: b };
        if (stateB?.acting_primary === true && followsPrimary(stateA)) return { primary: b, secondary: a };
        return undefined;
      },
      30_000,
      20,
    );
  }

  /** One failover ({@link measureFailover}): the roles are read from the nodes first. */
  async failover(beforeKillMs: number, watch: (address: string, deadlineMs: number) => AuthorityWatch[]): Promise<number[]> {
    const { primary, secondary } = await this.roles();
    return measureFailover({ killPrimary: () => primary.process!.kill('SIGKILL'), restartPrimary: () => this.#start(primary, []), secondary }, beforeKillMs, watch);
  }

  /** Kills both nodes and removes the temp dir. */
  async stop(): Promise<void> {
    await Promise.all(this.#children.map((child) => child.kill('SIGKILL')));
    await rm(this.dir, { recursive: true, force: true });
  }
}
