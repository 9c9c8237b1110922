/**
 * The embedded server's replay memory on its own: a request is fresh once, a copy is a replay whatever its header
 * says, and memory stays bounded (by time and by count) without ever letting an evicted request through again.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TsigRecord } from '../src/dns/tsig.js';
import { TsigReplayGuard } from '../src/dns/tsigReplayGuard.js';

const NOW = 1_800_000_000;

/** A verified request's TSIG record, as far as the guard reads it. */
function request(timeSigned = NOW, fudge = 300): TsigRecord {
  return { keyName: 'k.', algorithm: 'hmac-sha256', timeSigned, fudge, mac: randomBytes(32), originalId: 1, error: 0, otherData: Buffer.alloc(0) };
}

describe('TsigReplayGuard', () => {
  it('says fresh once, then replayed, per key', () => {
    const guard = new TsigReplayGuard();
    const record = request();
    expect(guard.check('k.', record, NOW)).toBe('fresh');
    expect(guard.check('k.', record, NOW + 1)).toBe('replayed');
    expect(guard.check('k.', { ...record, originalId: 2 }, NOW + 1)).toBe('replayed');
    // The same MAC under another key is another request (it cannot verify under both, but the guard does not care).
    expect(guard.check('other.', record, NOW + 1)).toBe('fresh');
  });

  it('forgets a request once its time signed plus fudge has passed, and refuses it as too old if it comes back', () => {
    const guard = new TsigReplayGuard();
    const old = request(NOW, 300);
    expect(guard.check('k.', old, NOW)).toBe('fresh');
    expect(guard.check('k.', request(NOW + 250), NOW + 250)).toBe('fresh');
    expect(guard.size).toBe(2);
    // At NOW + 300 the first request still passes the time check: it is still remembered.
    expect(guard.check('k.', old, NOW + 300)).toBe('replayed');
    // Past it, it is evicted; the server's time check answers BADTIME first, and if the clock stepped back the
    // floor still refuses it.
    expect(guard.check('k.', request(NOW + 301), NOW + 301)).toBe('fresh');
    expect(guard.size).toBe(2);
    expect(guard.check('k.', old, NOW + 10)).toBe('too-old');
  });

  it('holds at most `capacity` requests; a request evicted early is refused, later ones pass', () => {
    const guard = new TsigReplayGuard({ capacity: 100 });
    const records = Array.from({ length: 1000 }, (_, i) => request(NOW + Math.floor(i / 10)));
    for (const [i, record] of records.entries()) {
      expect(guard.check('k.', record, NOW + Math.floor(i / 10))).toBe('fresh');
      expect(guard.size).toBeLessThanOrEqual(100);
    }
    // Every request is refused the second time, remembered or evicted.
    for (const record of records) expect(guard.check('k.', record, NOW + 100)).not.toBe('fresh');
    // A request signed now still passes: only clocks lagging the evicted ones are refused under such a flood.
    expect(guard.check('k.', request(NOW + 100), NOW + 100)).toBe('fresh');
  });

  it('keeps memory bounded over a long run of ordinary traffic', () => {
    const guard = new TsigReplayGuard({ capacity: 10_000 });
    // One update per second for a day: at most fudge + 1 of them are remembered at any time.
    let largest = 0;
    let refused = 0;
    for (let t = 0; t < 86_400; t++) {
      if (guard.check('k.', request(NOW + t), NOW + t) !== 'fresh') refused += 1;
      largest = Math.max(largest, guard.size);
    }
    expect(refused).toBe(0);
    expect(largest).toBe(301);
  });

  it('refuses a capacity below 1', () => {
    expect(() => new TsigReplayGuard({ capacity: 0 })).toThrow(RangeError);
  });
});
