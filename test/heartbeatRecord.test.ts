import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { formatHeartbeatRecord, parseHeartbeatRecord } from '../src/dns/heartbeatRecord.js';
import type { Heartbeat } from '../machines/heartbeat.js';

const SEED = 20261125;
const nodeId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/);
const heartbeat: fc.Arbitrary<Heartbeat> = fc.record({
  holder: nodeId,
  epoch: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  seq: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  sentAt: fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }),
});

describe('the heartbeat TXT record format', () => {
  test.prop([heartbeat], { seed: SEED, numRuns: 500 })('round-trips every valid heartbeat', (value) => {
    expect(parseHeartbeatRecord(formatHeartbeatRecord(value))).toEqual(value);
  });

  test.prop([heartbeat, fc.integer({ min: 0, max: 200 }), fc.string({ minLength: 1, maxLength: 3 })], { seed: SEED, numRuns: 500 })(
    'rejects a valid record with anything inserted, unless the insertion happens to keep it canonical',
    (value, position, junk) => {
      const text = formatHeartbeatRecord(value);
      const at = position % (text.length + 1);
      const mutated = text.slice(0, at) + junk + text.slice(at);
      const parsed = parseHeartbeatRecord(mutated);
      // Whatever parses must write back to exactly the same string: there is one spelling per heartbeat.
      if (parsed !== null) expect(formatHeartbeatRecord(parsed)).toBe(mutated);
    },
  );

  test.prop([fc.string({ maxLength: 120 })], { seed: SEED, numRuns: 1000 })('never throws and accepts only canonical text', (text) => {
    const parsed = parseHeartbeatRecord(text);
    if (parsed !== null) expect(formatHeartbeatRecord(parsed)).toBe(text);
  });

  it.each([
    ['empty', ''],
    ['wrong version', 'ag2 node=a epoch=1 seq=0 sent=2026-01-01T00:00:00.000Z'],
    ['epoch 0', 'ag1 node=a epoch=0 seq=0 sent=2026-01-01T00:00:00.000Z'],
    ['leading zero', 'ag1 node=a epoch=01 seq=0 sent=2026-01-01T00:00:00.000Z'],
    ['beyond 2^53', 'ag1 node=a epoch=9007199254740993 seq=0 sent=2026-01-01T00:00:00.000Z'],
    ['no milliseconds', 'ag1 node=a epoch=1 seq=0 sent=2026-01-01T00:00:00Z'],
    ['impossible date', 'ag1 node=a epoch=1 seq=0 sent=2026-02-30T00:00:00.000Z'],
    ['double space', 'ag1  node=a epoch=1 seq=0 sent=2026-01-01T00:00:00.000Z'],
    ['trailing space', 'ag1 node=a epoch=1 seq=0 sent=2026-01-01T00:00:00.000Z '],
    ['bad node id', 'ag1 node=-a epoch=1 seq=0 sent=2026-01-01T00:00:00.000Z'],
    ['fields reordered', 'ag1 epoch=1 node=a seq=0 sent=2026-01-01T00:00:00.000Z'],
  ])('rejects %s', (_, text) => {
    expect(parseHeartbeatRecord(text)).toBeNull();
  });

  it('refuses to write what it could not read back', () => {
    expect(() => formatHeartbeatRecord({ holder: 'a b', epoch: 1, seq: 0, sentAt: 0 })).toThrow(RangeError);
    expect(() => formatHeartbeatRecord({ holder: 'a', epoch: 0, seq: 0, sentAt: 0 })).toThrow(RangeError);
    expect(() => formatHeartbeatRecord({ holder: 'a', epoch: 1, seq: -1, sentAt: 0 })).toThrow(RangeError);
    expect(() => formatHeartbeatRecord({ holder: 'a', epoch: 1, seq: 0, sentAt: 0.5 })).toThrow(RangeError);
  });
});
