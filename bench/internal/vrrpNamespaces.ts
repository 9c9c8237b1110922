/**
 * Two network namespaces joined by a veth pair, for keepalived's two instances: `<prefix>a` and `<prefix>b`, with
 * 10.213.0.2/24 and 10.213.0.3/24 on their ends. Everything is created inside the namespaces (the veth ends are born
 * there), so no address or link of the host is touched; deleting the namespaces removes the pair. Any process still
 * running in them is killed by its id (`ip netns pids`) first.
 */
import { spawnSync } from 'node:child_process';

/** The fixed prefix of every namespace the bench creates; leftovers of a crashed run are found by it. */
export const NAMESPACE_PREFIX = 'ag-kb-';

/** One side of the pair. */
export interface VrrpSide {
  readonly namespace: string;
  readonly device: string;
  readonly address: string;
}

/** The two sides and the virtual address keepalived moves between them. */
export interface VrrpNamespaces {
  readonly a: VrrpSide;
  readonly b: VrrpSide;
  /** The VIP, without prefix length. */
  readonly vip: string;
  readonly prefixLength: number;
}

function ip(args: readonly string[]): string {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout;
}

/** The namespaces whose name starts with {@link NAMESPACE_PREFIX}. */
function ourNamespaces(): string[] {
  return ip(['netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0]!.trim())
    .filter((name) => name.startsWith(NAMESPACE_PREFIX));
}

/**
 * Kills every process in the bench's namespaces (by pid) and deletes them; synchronous, so that it can run in an
 * exit handler. Returns the names removed.
 *
 * @example
 * removeVrrpNamespaces(); // at start: leftovers of a crashed run; at exit: this run's
 */
export function removeVrrpNamespaces(): string[] {
  const removed: string[] = [];
  for (const namespace of ourNamespaces()) {
    const pids = spawnSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }).stdout.split('\n').map(Number).filter((pid) => Number.isInteger(pid) && pid > 0);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    spawnSync('ip', ['netns', 'del', namespace]);
    removed.push(namespace);
  }
  return removed;
}

/**
 * Creates the two namespaces and the veth pair between them, up and addressed.
 *
 * @example
 * const pair = createVrrpNamespaces();
 * try { ... } finally { removeVrrpNamespaces(); }
 */
export function createVrrpNamespaces(): VrrpNamespaces {
  const a: VrrpSide = { namespace: `${NAMESPACE_PREFIX}a`, device: 'agkb-a', address: '10.213.0.2' };
  const b: VrrpSide = { namespace: `${NAMESPACE_PREFIX}b`, device: 'agkb-b', address: '10.213.0.3' };
  ip(['netns', 'add', a.namespace]);
  ip(['netns', 'add', b.namespace]);
  ip(['link', 'add', a.device, 'netns', a.namespace, 'type', 'veth', 'peer', 'name', b.device, 'netns', b.namespace]);
  for (const side of [a, b]) {
    ip(['-n', side.namespace, 'addr', 'add', `${side.address}/24`, 'dev', side.device]);
    ip(['-n', side.namespace, 'link', 'set', 'lo', 'up']);
    ip(['-n', side.namespace, 'link', 'set', side.device, 'up']);
  }
  return { a, b, vip: '10.213.0.100', prefixLength: 24 };
}

/** Whether `address` is on `side`'s device now. */
export function hasAddress(side: VrrpSide, address: string): boolean {
  return ip(['-n', side.namespace, '-o', '-4', 'addr', 'show', 'dev', side.device]).includes(` ${address}/`);
}

/** Removes `address` from `side`'s device if it is there (a killed master leaves its VIP behind). */
export function dropAddress(side: VrrpSide, address: string, prefixLength: number): void {
  if (hasAddress(side, address)) ip(['-n', side.namespace, 'addr', 'del', `${address}/${prefixLength}`, 'dev', side.device]);
}
