/**
 * PLACEHOLDER (wiring worktree): the real `SettingsEtcdAuthority` is built in parallel and replaces this file when
 * merged. Only the signature below is relied on by the wiring (createNode, CoordinationAuthority).
 */
import type { GroupRecords } from '../../machines/nodeMachine.types.js';
import type { Logger } from '../api/logger.js';
import type { DnsAuthority, RecordsExpectation, RecordsReplacement, UpdateOptions } from '../dns/dnsAuthority.js';
import { DnsUnreachableError } from '../dns/errors.js';
import type { Settings } from '../node/settings.js';

/**
 * The etcd authority of a node, built from its settings (placeholder: every call rejects with `DnsUnreachableError`).
 *
 * @example
 * const etcd = new SettingsEtcdAuthority({ settings: () => node.settings, logger });
 */
export class SettingsEtcdAuthority implements DnsAuthority {
  constructor(options: { settings: () => Settings; logger: Logger }) {
    void options;
  }

  async read(_fqdn: string): Promise<GroupRecords> {
    throw new DnsUnreachableError('etcd authority not merged yet');
  }

  async compareAndSwap(_fqdn: string, _expectation: RecordsExpectation, _replacement: RecordsReplacement, _options: UpdateOptions): Promise<void> {
    throw new DnsUnreachableError('etcd authority not merged yet');
  }

  async close(): Promise<void> {}
}
