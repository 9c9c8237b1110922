/**
 * The default node for the module-level API: its error says how to get one (only setDefaultNode sets it), a node
 * set before it starts gives module-level subscribers the first NODE_ROLE_CHANGED (with `role`, the same value as
 * `new`), and two copies of the library in one process share one default node.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EventId, NodeRole } from '../src/api/constants.js';
import { getDefaultNode, getNodeState, requirePrimary, setDefaultNode, subscribe } from '../src/node/defaultNode.js';
import { NoDefaultNodeError } from '../src/api/errors.js';
import type { NodeRoleChanged } from '../src/api/events.js';
import { createNode, type AvailabilityNode } from '../src/node/createNode.js';
import { inMemoryPorts } from '../src/node/inMemoryPorts.js';

let node: AvailabilityNode | null = null;
afterEach(async () => {
  setDefaultNode(null);
  await node?.stop();
  node = null;
});

function newNode(): AvailabilityNode {
  node = createNode({ node_id: 'node-a', external_ipv4_address: '127.0.0.2', group_fqdn: 'app.example.test' }, inMemoryPorts());
  return node;
}

/** Resolves once `events` holds `count` events (delivery is by microtask), failing after 5 s. */
async function until(events: readonly unknown[], count: number): Promise<void> {
  const deadline = performance.now() + 5000;
  while (events.length < count) {
    if (performance.now() > deadline) throw new Error(`only ${events.length} of ${count} events arrived within 5 s`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('without a default node', () => {
  it('NoDefaultNodeError names setDefaultNode and agctl start --workflow, not createNode(...).start()', async () => {
    setDefaultNode(null);
    const error = (() => {
      try {
        getNodeState();
      } catch (thrown) {
        return thrown;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(NoDefaultNodeError);
    expect((error as NoDefaultNodeError).code).toBe('AG_NO_DEFAULT_NODE');
    expect((error as Error).message).toContain('setDefaultNode(node)');
    expect((error as Error).message).toContain('--workflow');
    expect((error as Error).message).not.toContain('.start() first');
    // Starting a node does not make it the default one.
    await newNode().start();
    expect(() => getNodeState()).toThrow(NoDefaultNodeError);
    await expect(requirePrimary(() => 1)).rejects.toBeInstanceOf(NoDefaultNodeError);
  });
});

describe('a default node set before it starts', () => {
  it('gives module-level subscribers every role from the first, with role equal to new', async () => {
    const events: NodeRoleChanged[] = [];
    const unsubscribe = subscribe(EventId.NODE_ROLE_CHANGED, (event) => void events.push(event));
    const created = newNode();
    setDefaultNode(created);
    await created.start();
    await created.createGroup();
    await until(events, 2);
    unsubscribe();
    expect(events.map(({ previous, new: now, role }) => ({ previous, new: now, role }))).toEqual([
      { previous: null, new: NodeRole.NOT_IN_GROUP, role: NodeRole.NOT_IN_GROUP },
      { previous: NodeRole.NOT_IN_GROUP, new: NodeRole.PRIMARY, role: NodeRole.PRIMARY },
    ]);
    expect(getNodeState().actingPrimary).toBe(true);
  });
});

describe('two copies of the library in one process', () => {
  it('share one default node and its subscriptions', async () => {
    // A second instance of the module, as a workflow that resolves another install of the package would load.
    const copy = (await import('../src/node/defaultNode.js?second-copy' as string)) as typeof import('../src/node/defaultNode.js');
    expect(copy.setDefaultNode).not.toBe(setDefaultNode);
    const events: NodeRoleChanged[] = [];
    const unsubscribe = copy.subscribe(EventId.NODE_ROLE_CHANGED, (event) => void events.push(event));
    const created = newNode();
    setDefaultNode(created);
    expect(copy.getDefaultNode()).toBe(created);
    expect(getDefaultNode()).toBe(created);
    await created.start();
    await until(events, 1);
    unsubscribe();
    expect(events[0]).toMatchObject({ previous: null, role: NodeRole.NOT_IN_GROUP });
    expect(copy.getNodeState().nodeRole).toBe(NodeRole.NOT_IN_GROUP);
  });
});
