/**
 * keepalived's side of the keepalived bench: two instances (VRRPv3, one `vrrp_instance`, master priority 150 and
 * backup priority 100, keepalived's default) in the two namespaces, and one failover measured: kill -9 of the
 * master's whole process group (parent and VRRP child at once, so that it sends no priority-0 advert as a clean stop
 * would), then the time until the VIP is added on the backup, seen through netlink.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../../src/cli/agctlProcess.js';
import { watchAddressAdded } from './addressWatch.js';
import { sleep } from './sleep.js';
import { dropAddress, hasAddress, type VrrpNamespaces, type VrrpSide } from './vrrpNamespaces.js';

/** The priorities: the backup's sets keepalived's skew time, (256 - priority) / 256 × advert_int. */
export const MASTER_PRIORITY = 150;
export const BACKUP_PRIORITY = 100;

function config(side: VrrpSide, state: 'MASTER' | 'BACKUP', priority: number, advertInt: number, pair: VrrpNamespaces): string {
  return `global_defs {
  router_id ag_kb_${side.device.slice(-1)}
  vrrp_version 3
  vrrp_garp_master_delay 0
  vrrp_garp_master_repeat 1
  script_user root
  enable_script_security
}
vrrp_instance VI_AG_BENCH {
  state ${state}
  interface ${side.device}
  virtual_router_id 51
  priority ${priority}
  advert_int ${advertInt}
  virtual_ipaddress {
    ${pair.vip}/${pair.prefixLength}
  }
}
`;
}

/**
 * keepalived on both sides of `pair`, restarted for every measured failover.
 *
 * @example
 * const keepalived = new KeepalivedPair(findKeepalived()!, pair, dir);
 * const failoverMs = await keepalived.failover(0.1, 1000 + phaseMs);
 */
export class KeepalivedPair {
  readonly #running = new Set<ChildProcess>();

  constructor(
    readonly binary: string,
    readonly pair: VrrpNamespaces,
    readonly dir: string,
  ) {}

  #start(side: VrrpSide, state: 'MASTER' | 'BACKUP', priority: number, advertInt: number): ChildProcess {
    const name = side.device;
    const file = join(this.dir, `${name}.conf`);
    writeFileSync(file, config(side, state, priority, advertInt, this.pair));
    const log = openSync(join(this.dir, `${name}.log`), 'a');
    // `ip netns exec` execs keepalived in the same pid; detached makes it a process group leader, and its VRRP child
    // joins that group.
    const args = ['netns', 'exec', side.namespace, this.binary, '--dont-fork', '--vrrp', '--log-console', '--no-syslog', '--dont-respawn', '-f', file, '-p', join(this.dir, `${name}.pid`), '-r', join(this.dir, `${name}.vrrp.pid`)];
    const child = spawn('ip', args, { detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    this.#running.add(child);
    child.once('exit', () => this.#running.delete(child));
    return child;
  }

  #killGroup(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is gone already; its exit is on the way
    }
    return exited;
  }

  /**
   * Starts the master on a and the backup on b at `advertInt` seconds, waits `beforeKillMs` once the master holds
   * the VIP, kills the master, and resolves with the milliseconds until the VIP is on b. Both are stopped after.
   */
  async failover(advertInt: number, beforeKillMs: number): Promise<number> {
    const { a, b, vip, prefixLength } = this.pair;
    const master = this.#start(a, 'MASTER', MASTER_PRIORITY, advertInt);
    let backup: ChildProcess | null = null;
    try {
      await waitFor(`the VIP on ${a.namespace}`, () => hasAddress(a, vip), 10_000, 10);
      backup = this.#start(b, 'BACKUP', BACKUP_PRIORITY, advertInt);
      const watch = watchAddressAdded(b, vip, 10_000 + beforeKillMs);
      try {
        await sleep(beforeKillMs);
        if (hasAddress(b, vip)) throw new Error(`The backup in ${b.namespace} holds the VIP before the kill: see ${this.dir}.`);
        const killedAt = performance.now();
        process.kill(-master.pid!, 'SIGKILL');
        return (await watch.added) - killedAt;
      } finally {
        watch.stop();
      }
    } finally {
      await this.#killGroup(master);
      if (backup !== null) await this.#killGroup(backup);
      dropAddress(a, vip, prefixLength);
      dropAddress(b, vip, prefixLength);
    }
  }

  /** Kills whatever still runs (synchronously: usable in an exit handler). */
  stopNow(): void {
    for (const child of this.#running) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
