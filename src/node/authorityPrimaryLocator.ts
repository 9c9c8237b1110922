import type { DnsAuthority } from '../dns/dnsAuthority.js';
import type { PrimaryLocator } from '../dns/primaryLocator.js';

/**
 * A {@link PrimaryLocator} over the group authority itself: the Primary is the address the authority holds for the
 * group (with etcd, the key `<etcd_prefix>/groups/<fqdn>/address`). A node that joins an etcd group finds its
 * Primary this way, as a DNS group's node reads the A record. Rejects with the authority's error when it cannot be
 * read, and with an Error when the group has no address (not created, or dissolved).
 *
 * @example
 * await joinThroughDns(node, authorityPrimaryLocator(authority), 'app.example.test', 'http');
 */
export function authorityPrimaryLocator(authority: DnsAuthority): PrimaryLocator {
  return async (groupFqdn) => {
    const { address } = await authority.read(groupFqdn);
    if (address === null) throw new Error(`the group authority holds no address for ${groupFqdn}: is the group created?`);
    return address;
  };
}
