/**
 * A read loop against a group authority (etcd, through the client a node uses): reads the group's records again
 * every few milliseconds (the next read starts once the previous answered, and no sooner than `everyMs` after it
 * started) and reports the moment the first answer naming the expected address arrives. The DNS counterpart, a UDP
 * query loop, is dnsAddressPoll.ts.
 */
import type { GroupAuthority } from '../../src/coordination/groupAuthority.js';
import type { AuthorityWatch } from './measureFailover.js';
import { sleep } from './sleep.js';

export interface AuthorityAddressPollOptions {
  readonly authority: GroupAuthority;
  readonly fqdn: string;
  /** The address awaited. */
  readonly expected: string;
  /** Milliseconds from the start of one read to the start of the next (at least). */
  readonly everyMs: number;
  /** Rejects when no answer names `expected` within this many milliseconds. */
  readonly deadlineMs: number;
}

/**
 * Starts reading at once; a failed read (no quorum for a moment) is tried again.
 *
 * @example
 * const poll = pollAuthorityAddress({ authority: etcd, fqdn: 'app.demo.test', expected: '127.0.0.3', everyMs: 2, deadlineMs: 20_000 });
 * const seenAt = await poll.seen;
 */
export function pollAuthorityAddress(options: AuthorityAddressPollOptions): AuthorityWatch {
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  const seen = (async () => {
    const deadline = performance.now() + options.deadlineMs;
    let lastError: unknown = null;
    while (!stopped) {
      const started = performance.now();
      if (started >= deadline) break;
      try {
        const { address } = await options.authority.read(options.fqdn);
        const at = performance.now();
        if (address === options.expected) {
          stopped = true;
          return at;
        }
      } catch (error) {
        lastError = error;
      }
      await sleep(Math.max(0, started + options.everyMs - performance.now()));
    }
    const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
    throw new Error(stopped ? 'the read loop was stopped' : `the authority did not name ${options.expected} for ${options.fqdn} within ${options.deadlineMs} ms${why}.`);
  })();
  return { seen, stop };
}
