import type { AvailabilityNode } from './createNode.js';
import { GroupOperationError } from '../api/errors.js';
import type { PrimaryLocator } from '../dns/primaryLocator.js';

/**
 * Joins the group `groupFqdn` as Secondary: finds the Primary through the group's A record (`locatePrimary`; with
 * coordination etcd, a locator over the group's address key: `authorityPrimaryLocator`),
 * then asks it over the signed peer channel (`node.joinGroup`), which brings the group's settings. The Primary is
 * expected on this node's own port and the given scheme (both nodes of a group use the same). Rejects with
 * `GroupOperationError` when the Primary cannot be found in DNS or refuses, `GroupFullError` when the group has
 * another Secondary; either way no setting changes.
 *
 * @example
 * await joinThroughDns(node, createPrimaryLocator('127.0.0.1:5353'), 'app.example.test', 'http');
 */
export async function joinThroughDns(node: AvailabilityNode, locatePrimary: PrimaryLocator, groupFqdn: string, scheme: 'http' | 'https'): Promise<void> {
  let address: string;
  try {
    address = await locatePrimary(groupFqdn);
  } catch (error) {
    const where = node.settings.coordination === 'etcd' ? 'in etcd' : 'in DNS';
    throw new GroupOperationError(`Could not find the Primary of ${groupFqdn} ${where}: ${(error as Error).message}`, { cause: error });
  }
  // The group name counts only if the join succeeds: a refused join changes no setting.
  await node.joinGroup({ address, port: node.settings.externalPort, scheme }, node.settings.groupFqdn === groupFqdn ? {} : { group_fqdn: groupFqdn });
}
