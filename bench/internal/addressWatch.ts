/**
 * Watches a namespace for an address being added, through netlink (`ip -n <ns> monitor address`): the kernel
 * reports the addition as it happens, so the time seen is the time keepalived set the VIP plus a pipe read.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { VrrpSide } from './vrrpNamespaces.js';

/** A running watch: `added` resolves with `performance.now()` when the address appears. */
export interface AddressWatch {
  readonly added: Promise<number>;
  /** Stops the monitor (also done once `added` settles). */
  stop(): void;
}

/**
 * Starts `ip monitor` at once; it needs a few milliseconds to subscribe, so start it well before the event (the
 * bench starts it before its settle time).
 *
 * @example
 * const watch = watchAddressAdded(pair.b, pair.vip, 10_000);
 * const addedAt = await watch.added;
 */
export function watchAddressAdded(side: VrrpSide, address: string, deadlineMs: number): AddressWatch {
  const monitor = spawn('ip', ['-n', side.namespace, '-o', 'monitor', 'address', 'dev', side.device], { stdio: ['ignore', 'pipe', 'pipe'] });
  let deadline: NodeJS.Timeout | undefined;
  const stop = () => {
    clearTimeout(deadline);
    if (monitor.exitCode === null && monitor.signalCode === null) monitor.kill('SIGKILL');
  };
  const added = new Promise<number>((resolve, reject) => {
    createInterface({ input: monitor.stdout! }).on('line', (line) => {
      const at = performance.now();
      if (!line.startsWith('Deleted') && line.includes(` inet ${address}/`)) {
        stop();
        resolve(at);
      }
    });
    monitor.once('error', (error) => {
      stop();
      reject(error);
    });
    deadline = setTimeout(() => {
      stop();
      reject(new Error(`${address} did not appear on ${side.device} in ${side.namespace} within ${deadlineMs} ms.`));
    }, deadlineMs);
  });
  return { added, stop };
}
