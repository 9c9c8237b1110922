import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { SettingsError } from '../src/api/errors.js';
import { DEFAULT_LEASE_FRACTION, HEARTBEATS_PER_LEASE, loadSettings, MAX_CLOCK_RATE_DRIFT, redactSettings } from '../src/node/settings.js';

const SEED = 20261125;
const base = { node_id: 'node-a', external_ipv4_address: '127.0.0.2' };

/** Timers that keep rule 3 and rule 1 by construction. */
const validTimers = fc
  .record({
    absence: fc.double({ min: 0.05, max: 3600, noNaN: true }),
    leaseShare: fc.double({ min: 0.1, max: 0.9, noNaN: true }),
    heartbeatShare: fc.double({ min: 0.01, max: 1 / HEARTBEATS_PER_LEASE, noNaN: true }),
    checkShare: fc.double({ min: 0.01, max: 1, noNaN: true }),
  })
  .map(({ absence, leaseShare, heartbeatShare, checkShare }) => {
    const lease = absence * leaseShare;
    return {
      allowed_absence_interval: absence,
      lease_duration: lease,
      health_report_interval: lease * heartbeatShare,
      health_check_interval: absence * checkShare,
    };
  });

describe('settings', () => {
  it('has the product defaults: heartbeat 20 s, check 30 s, failover period 60 s, TTL 30 s', () => {
    const settings = loadSettings(base);
    expect(settings.timers).toEqual({ heartbeatIntervalMs: 20_000, checkIntervalMs: 30_000, absenceMs: 60_000, leaseMs: 45_000, leaseBoundMs: 45_000 * (1.01 / 0.99) });
    expect(settings.groupFqdnTtl).toBe(30);
    expect(settings.leaseDuration).toBe(60 * DEFAULT_LEASE_FRACTION);
    expect(settings.externalScheme).toBe('http');
  });

  test.prop([validTimers], { seed: SEED, numRuns: 300 })('accepts every timer set that keeps the lease rules, fractions included', (timers) => {
    const settings = loadSettings({ ...base, ...timers });
    expect(settings.timers.absenceMs).toBeCloseTo(timers.allowed_absence_interval * 1000);
    expect(settings.timers.leaseMs * (1 + MAX_CLOCK_RATE_DRIFT)).toBeLessThan(settings.timers.absenceMs * (1 - MAX_CLOCK_RATE_DRIFT));
    expect(settings.timers.heartbeatIntervalMs * HEARTBEATS_PER_LEASE).toBeLessThanOrEqual(settings.timers.leaseMs * (1 + 1e-12));
  });

  test.prop([validTimers, fc.double({ min: 1.0001, max: 100, noNaN: true })], { seed: SEED, numRuns: 300 })(
    'refuses a heartbeat that does not fit twice into the lease, naming the field and rule 3',
    (timers, factor) => {
      const heartbeat = (timers.lease_duration / HEARTBEATS_PER_LEASE) * factor;
      try {
        loadSettings({ ...base, ...timers, health_report_interval: heartbeat });
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(SettingsError);
        const issue = (error as SettingsError).issues.find((candidate) => candidate.field === 'health_report_interval');
        expect(issue?.rule).toMatch(/^rule 3: /);
      }
    },
  );

  test.prop([fc.dictionary(fc.constantFrom('external_port', 'health_report_interval', 'group_fqdn', 'tsig_secret', 'external_scheme', 'external_ipv4_address'), fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null)))], { seed: SEED, numRuns: 500 })(
    'either loads or names every bad field; it never throws anything but SettingsError',
    (overrides) => {
      try {
        loadSettings({ ...base, ...overrides });
      } catch (error) {
        expect(error).toBeInstanceOf(SettingsError);
        for (const issue of (error as SettingsError).issues) expect(Object.keys(overrides).concat(['allowed_absence_interval', 'lease_duration'])).toContain(issue.field.split('.')[0]);
        expect((error as SettingsError).message).toMatch(/^Invalid settings: /);
      }
    },
  );

  it('names the field and the rule of each bad value', () => {
    expect(() => loadSettings({ ...base, external_port: 70000 })).toThrow('Invalid settings: external_port: must be from 1 to 65535');
    expect(() => loadSettings({ ...base, external_scheme: 'ftp' })).toThrow(/external_scheme: must be "http" or "https"/);
    expect(() => loadSettings({ ...base, tsig_secret: 'not base64!' })).toThrow(/tsig_secret: must be base64/);
    expect(() => loadSettings({ ...base, group_fqdn: 'no spaces please' })).toThrow(/group_fqdn: must be a fully qualified domain name/);
    expect(() => loadSettings({ ...base, heartbeat: 3 })).toThrow(/heartbeat: is not a known setting/);
    expect(() => loadSettings({ ...base, tsig_name: 'bad name' })).toThrow(/tsig_name: must be a DNS name/);
    // TSIG key names are often one label, as in BIND's `key "ag-key" { ... }`.
    expect(loadSettings({ ...base, tsig_name: 'ag-key' }).tsigName).toBe('ag-key');
    expect(() => loadSettings({ external_ipv4_address: '127.0.0.2' })).toThrow(/node_id/);
  });

  it('never serves a secret', () => {
    const settings = loadSettings({ ...base, tsig_secret: 'c2VjcmV0', api_token: 'x'.repeat(20), peer_secret: 'y'.repeat(20) });
    const served = JSON.stringify(redactSettings(settings.record));
    expect(served).not.toContain('c2VjcmV0');
    expect(served).not.toContain('x'.repeat(20));
    expect(served).not.toContain('y'.repeat(20));
    expect(redactSettings(settings.record).tsig_secret).toBe('');
  });
});
