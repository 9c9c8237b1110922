/**
 * Whether the keepalived half of the keepalived bench can run here: root (to create network namespaces), the `ip`
 * tool with `ip netns`, and keepalived itself. The reason names what is missing and how to get it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The path of `keepalived`, or null. `AG_KEEPALIVED` names another binary (or a missing one). */
export function findKeepalived(): string | null {
  const configured = process.env.AG_KEEPALIVED;
  if (configured !== undefined) return existsSync(configured) ? configured : null;
  for (const candidate of ['/usr/sbin/keepalived', '/usr/local/sbin/keepalived']) if (existsSync(candidate)) return candidate;
  const which = spawnSync('sh', ['-c', 'command -v keepalived'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  return which.status === 0 && found !== '' ? found : null;
}

/**
 * Null when the bench can run, else why not.
 *
 * @example
 * const reason = keepalivedUnavailableReason();
 * if (reason !== null) console.log(`skipped: ${reason}`);
 */
export function keepalivedUnavailableReason(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root (run as root, e.g. in a container)';
  const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (netns.error !== undefined || netns.status !== 0) return `\`ip netns\` does not work here (${netns.error?.message ?? netns.stderr.trim()}): apt-get install iproute2`;
  if (findKeepalived() === null) return 'keepalived is not installed: apt-get install -y --no-install-recommends keepalived';
  return null;
}
