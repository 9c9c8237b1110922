import { describe, expect, it } from 'vitest';
import { NodeRole } from '../src/api/constants.js';
import { combinedAcknowledgement } from '../src/node/combinedAcknowledgement.js';
import type { HeartbeatAck } from '../machines/nodeMachine.types.js';

const ack = (nodeId: string, fields: Partial<HeartbeatAck> = {}): HeartbeatAck => ({ nodeId, role: NodeRole.SECONDARY, epoch: 3, accepted: true, ...fields });

describe('combinedAcknowledgement', () => {
  it('accepts only when every member answered and accepted', () => {
    expect(combinedAcknowledgement([ack('b'), ack('c')], true, 'b').accepted).toBe(true);
    expect(combinedAcknowledgement([ack('b'), ack('c', { accepted: false })], true, 'b').accepted).toBe(false);
    expect(combinedAcknowledgement([ack('b'), ack('c')], false, 'b').accepted).toBe(false);
  });

  it('carries the highest epoch any member knows (fencing) and the newest maintenance flag', () => {
    const combined = combinedAcknowledgement(
      [ack('b', { maintenance: { enabled: true, version: 2, by: 'b' } }), ack('c', { epoch: 5, accepted: false, maintenance: { enabled: false, version: 3, by: 'c' } })],
      true,
      'b',
    );
    expect(combined).toMatchObject({ nodeId: 'b', epoch: 5, accepted: false, maintenance: { enabled: false, version: 3, by: 'c' } });
  });

  it("gives the first member's node id, role and application health, or the first answer's when it did not answer", () => {
    expect(combinedAcknowledgement([ack('b', { applicationHealth: 'unhealthy' }), ack('c', { applicationHealth: 'healthy' })], true, 'c')).toMatchObject({ nodeId: 'c', applicationHealth: 'healthy' });
    expect(combinedAcknowledgement([ack('b', { applicationHealth: 'unhealthy' })], false, 'c')).toMatchObject({ nodeId: 'b', applicationHealth: 'unhealthy' });
  });
});
