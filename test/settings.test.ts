import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../src/api/errors.js';
import { dnsBudgetMs } from '../src/dns/settingsDnsAuthority.js';
import {
  DEFAULT_LEASE_FRACTION,
  HEARTBEATS_PER_LEASE,
  loadSettings,
  MAX_CLOCK_RATE_DRIFT,
  MAX_TIMER_SECONDS,
  NODE_TIMER_LIMIT_MS,
  redactSettings,
  GROUP_SETTING_FIELDS,
  groupChangeIssues,
  groupSettingsFingerprint,
  groupSettingsOf,
  isGroupSettingField,
} from '../src/node/settings.js';
import { mergeSettings } from '../src/node/settingsSync.js';
import { NETWORKED_TIMERS, startNetworkedGroup, type NetworkedGroup } from './support/networkedGroup.js';
import { waitFor } from '../src/cli/agctlProcess.js';

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

describe('dns_server', () => {
  it.each(['127.0.0.1:0', '127.0.0.1:65536', '127.0.0.1:99999', 'ns1.example.test:0', 'ns1.example.test:70000'])('refuses %s, naming the field and the port rule', (value) => {
    expect(() => loadSettings({ ...base, dns_server: value })).toThrow(/^Invalid settings: dns_server: must be host:port with a port from 1 to 65535/);
  });

  it.each(['127.0.0.1:1', '127.0.0.1:65535', 'ns1.example.test:53', 'localhost:5353', 'ns1.example.test.:53', '[::1]:5353'])('accepts %s', (value) => {
    expect(loadSettings({ ...base, dns_server: value }).dnsServer).toBe(value);
  });

  it.each([
    ['127.0.0.1', /must be host:port, e\.g\./],
    ['999.1.1.1:53', /the host must be an IPv4 address/],
    ['-bad-.example.test:53', /the host must be an IPv4 address, an IPv6 address in brackets or a host name/],
    ['a..b:53', /or a host name/],
    ['::1:53', /or a host name/],
    ['[not-v6]:53', /the host in brackets must be an IPv6 address/],
    ['127.0.0.1:53x', /with a port from 1 to 65535/],
  ])('refuses %s, saying why', (value, rule) => {
    expect(() => loadSettings({ ...base, dns_server: value })).toThrow(rule);
  });
});

describe('etcd settings', () => {
  const etcd = { ...base, coordination: 'etcd', etcd_endpoints: ['127.0.0.1:2379'] };
  const refusal = (input: Record<string, unknown>) => {
    try {
      loadSettings(input);
    } catch (error) {
      expect(error).toBeInstanceOf(SettingsError);
      return (error as SettingsError).issues;
    }
    throw new Error('expected a refusal');
  };

  it('defaults to coordination dns, prefix /availability-group, no endpoints, no TLS files and no credentials', () => {
    const settings = loadSettings(base);
    expect(settings.coordination).toBe('dns');
    expect(settings.etcdPrefix).toBe('/availability-group');
    expect([settings.etcdEndpoints, settings.etcdCaFile, settings.etcdCertFile, settings.etcdKeyFile, settings.etcdUsername, settings.etcdPasswordFile]).toEqual([
      undefined, undefined, undefined, undefined, undefined, undefined,
    ]);
  });

  it('loads every etcd setting in camelCase', () => {
    const settings = loadSettings({
      ...etcd,
      etcd_endpoints: ['https://10.0.0.5:2379', 'http://[::1]:2379', 'etcd1.example.test:2379'],
      etcd_prefix: '/ag/prod',
      etcd_ca_file: '/etc/ag/etcd-ca.pem',
      etcd_cert_file: '/etc/ag/etcd.pem',
      etcd_key_file: '/etc/ag/etcd-key.pem',
      etcd_username: 'ag',
      etcd_password_file: '/etc/ag/etcd-password',
    });
    expect(settings).toMatchObject({
      coordination: 'etcd',
      etcdEndpoints: ['https://10.0.0.5:2379', 'http://[::1]:2379', 'etcd1.example.test:2379'],
      etcdPrefix: '/ag/prod',
      etcdCaFile: '/etc/ag/etcd-ca.pem',
      etcdCertFile: '/etc/ag/etcd.pem',
      etcdKeyFile: '/etc/ag/etcd-key.pem',
      etcdUsername: 'ag',
      etcdPasswordFile: '/etc/ag/etcd-password',
    });
  });

  it('does not require dns_server or the TSIG key with coordination etcd', () => {
    expect(loadSettings(etcd).dnsServer).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['an unknown coordination', { coordination: 'zookeeper' }, 'coordination', /^must be one of dns, etcd$/],
    ['etcd without endpoints', { etcd_endpoints: undefined }, 'etcd_endpoints', /^is required when coordination is etcd/],
    ['no endpoint', { etcd_endpoints: [] }, 'etcd_endpoints', /^must name at least one etcd endpoint$/],
    ['8 endpoints', { etcd_endpoints: Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 1}:2379`) }, 'etcd_endpoints', /^must name at most 7 etcd endpoints$/],
    ['endpoints as a string', { etcd_endpoints: '127.0.0.1:2379' }, 'etcd_endpoints', /^must be an array of host:port strings/],
    ['an endpoint without a port', { etcd_endpoints: ['127.0.0.1'] }, 'etcd_endpoints.0', /^must be \[http:\/\/ or https:\/\/\]host:port, e\.g\. /],
    ['port 0', { etcd_endpoints: ['127.0.0.1:0'] }, 'etcd_endpoints.0', /with a port from 1 to 65535/],
    ['port 65536', { etcd_endpoints: ['https://127.0.0.1:65536'] }, 'etcd_endpoints.0', /with a port from 1 to 65535/],
    ['a bad IPv4 host', { etcd_endpoints: ['127.0.0.1:2379', '999.0.0.1:2379'] }, 'etcd_endpoints.1', /the host must be an IPv4 address/],
    ['a bad IPv6 host', { etcd_endpoints: ['[nope]:2379'] }, 'etcd_endpoints.0', /the host in brackets must be an IPv6 address/],
    ['a path', { etcd_endpoints: ['https://10.0.0.5:2379/'] }, 'etcd_endpoints.0', /with no path/],
    ['another scheme', { etcd_endpoints: ['unix://10.0.0.5:2379'] }, 'etcd_endpoints.0', /host:port/],
    ['a prefix without /', { etcd_prefix: 'ag' }, 'etcd_prefix', /^must start with "\/"/],
    ['a prefix ending in /', { etcd_prefix: '/ag/' }, 'etcd_prefix', /^must not end with "\/"$/],
    ['the prefix /', { etcd_prefix: '/' }, 'etcd_prefix', /^must name a key prefix below "\/"/],
    ['a prefix with a space', { etcd_prefix: '/a g' }, 'etcd_prefix', /^must be printable ASCII without spaces$/],
    ['a prefix of 201 characters', { etcd_prefix: `/${'a'.repeat(200)}` }, 'etcd_prefix', /^must be at most 200 characters$/],
    ['an empty CA path', { etcd_ca_file: '' }, 'etcd_ca_file', /^must be the path of a PEM file$/],
    ['a certificate without its key', { etcd_cert_file: '/etc/ag/etcd.pem' }, 'etcd_key_file', /^etcd_cert_file and etcd_key_file go together/],
    ['a key without its certificate', { etcd_key_file: '/etc/ag/etcd-key.pem' }, 'etcd_cert_file', /^etcd_cert_file and etcd_key_file go together/],
    ['a user without a password file', { etcd_username: 'ag' }, 'etcd_password_file', /^etcd_username and etcd_password_file go together/],
    ['a password file without a user', { etcd_password_file: '/etc/ag/pw' }, 'etcd_username', /^etcd_username and etcd_password_file go together/],
    ['an empty user', { etcd_username: '', etcd_password_file: '/etc/ag/pw' }, 'etcd_username', /^must not be empty$/],
    ['an inline password', { etcd_password: 'hunter2hunter2' }, 'etcd_password', /^is not a known setting$/],
  ])('refuses %s, naming the field and the rule', (_what, changes, field, rule) => {
    const issues = refusal({ ...etcd, ...changes });
    expect(issues.map((issue) => issue.field)).toContain(field);
    expect(issues.find((issue) => issue.field === field)?.rule).toMatch(rule);
  });

  it('accepts a CA file alone (server TLS without a client certificate)', () => {
    expect(loadSettings({ ...etcd, etcd_ca_file: '/etc/ag/etcd-ca.pem' }).etcdCaFile).toBe('/etc/ag/etcd-ca.pem');
  });

  it('makes coordination, etcd_endpoints and etcd_prefix group settings; the TLS files and credentials node settings', () => {
    for (const field of ['coordination', 'etcd_endpoints', 'etcd_prefix']) expect(isGroupSettingField(field), field).toBe(true);
    for (const field of ['etcd_ca_file', 'etcd_cert_file', 'etcd_key_file', 'etcd_username', 'etcd_password_file']) expect(isGroupSettingField(field), field).toBe(false);
    const own = loadSettings({ ...etcd, etcd_ca_file: '/mine/ca.pem', etcd_username: 'mine', etcd_password_file: '/mine/pw' });
    const primary = loadSettings({ ...etcd, node_id: 'p', etcd_endpoints: ['10.0.0.5:2379'], etcd_prefix: '/p', etcd_ca_file: '/theirs/ca.pem', etcd_username: 'theirs', etcd_password_file: '/theirs/pw' });
    const merged = mergeSettings(primary.record, GROUP_SETTING_FIELDS, own.record);
    expect(merged).toMatchObject({ etcdEndpoints: ['10.0.0.5:2379'], etcdPrefix: '/p', etcdCaFile: '/mine/ca.pem', etcdUsername: 'mine', etcdPasswordFile: '/mine/pw' });
    expect(groupSettingsFingerprint(primary.record)).not.toBe(groupSettingsFingerprint(own.record));
    expect(groupSettingsOf(primary.record)).not.toHaveProperty('etcd_password_file');
  });

  it('refuses changing coordination or etcd_prefix while the group runs; etcd_endpoints may change', () => {
    const current = loadSettings(etcd);
    expect(groupChangeIssues(current, loadSettings({ ...etcd, coordination: 'dns' })).map((issue) => issue.field)).toEqual(['coordination']);
    expect(groupChangeIssues(current, loadSettings({ ...etcd, etcd_prefix: '/other' })).map((issue) => issue.field)).toEqual(['etcd_prefix']);
    expect(groupChangeIssues(current, loadSettings({ ...etcd, etcd_endpoints: ['127.0.0.1:2379', '127.0.0.2:2379'] }))).toEqual([]);
  });
});

describe('timer bounds', () => {
  const timerFields = ['health_report_interval', 'health_check_interval', 'allowed_absence_interval', 'lease_duration'] as const;

  it.each(timerFields)('refuses %s above 86400 s (1 day), naming the field and the rule', (field) => {
    try {
      loadSettings({ ...base, [field]: 86_400.5 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SettingsError);
      expect((error as SettingsError).issues).toContainEqual({ field, rule: `must be at most ${MAX_TIMER_SECONDS} seconds (1 day)` });
    }
  });

  it('accepts the longest timers the rules allow: a failover period of 1 day', () => {
    const settings = loadSettings({ ...base, allowed_absence_interval: 86_400, health_check_interval: 86_400, health_report_interval: 3600 });
    expect(settings.timers.absenceMs).toBe(86_400_000);
  });

  test.prop(
    [fc.record({ health_report_interval: fc.double({ min: 0.001, max: 1e12, noNaN: true }), health_check_interval: fc.double({ min: 0.001, max: 1e12, noNaN: true }), allowed_absence_interval: fc.double({ min: 0.001, max: 1e12, noNaN: true }), lease_duration: fc.option(fc.double({ min: 0.001, max: 1e12, noNaN: true }), { nil: undefined }) })],
    { seed: SEED, numRuns: 2000 },
  )('every timer a node derives from accepted settings stays under Node’s timer limit (2^31 − 1 ms)', (timers) => {
    const input = { ...base, dns_server: 'ns1.example.test:53', ...timers };
    if (input.lease_duration === undefined) delete (input as Record<string, unknown>).lease_duration;
    let settings;
    try {
      settings = loadSettings(input);
    } catch (error) {
      expect(error).toBeInstanceOf(SettingsError);
      return;
    }
    for (const ms of Object.values(settings.timers)) expect(ms).toBeLessThanOrEqual(MAX_TIMER_SECONDS * 1000);
    expect(dnsBudgetMs(settings)).toBeLessThan(NODE_TIMER_LIMIT_MS);
  });

  it('refuses group_fqdn_ttl above 2^31 − 1 s with a message naming the rule', () => {
    expect(() => loadSettings({ ...base, group_fqdn_ttl: 2 ** 31 })).toThrow('group_fqdn_ttl: must be at most 2147483647 seconds (RFC 2181)');
  });
});

describe('secret files in loadSettings', () => {
  it('names a <secret>_file that reached loadSettings unread, saying who reads it', () => {
    expect(() => loadSettings({ ...base, tsig_secret_file: '/etc/agnode/tsig' })).toThrow(/tsig_secret_file: is read from its file by a config loader/);
    expect(() => loadSettings({ ...base, typo_one: 1, typo_two: 2 })).toThrow(/typo_one: is not a known setting; typo_two: is not a known setting/);
  });
});

describe('PUT /group on a running Primary', () => {
  let net: NetworkedGroup;
  beforeAll(async () => {
    net = await startNetworkedGroup(['a', 'b']);
    expect((await net.api('a', 'POST', '/group', net.createBody)).status).toBe(201);
    expect((await net.api('b', 'PUT', '/group/members', {})).status).toBe(200);
    // The Secondary persists the Primary's epoch when its first heartbeat arrives, after the join answered; the
    // test below compares node.json byte for byte, so it starts once that write is done.
    const storedEpoch = async (id: string) => JSON.parse(await readFile(join(net.dataDir(id), 'node.json'), 'utf8')).membership.epoch as number;
    await waitFor('b to persist the Primary\'s epoch', async () => (await storedEpoch('a')) >= 1 && (await storedEpoch('b')) === (await storedEpoch('a')), 20 * NETWORKED_TIMERS.health_report_interval * 1000);
  }, 60_000);
  afterAll(async () => {
    await net?.stop();
  });

  it('refuses timers above 1 day with 400 naming each field, and pushes nothing to the Secondary', async () => {
    const before = { a: net.running('a').node.settings.record, b: net.running('b').node.settings.record };
    const stored = await readFile(join(net.dataDir('b'), 'node.json'), 'utf8');
    // Within rule 3 across the change (the lease stays short), but a standby check every 3 years.
    const refused = await net.api('a', 'PUT', '/group', { lease_duration: 2, allowed_absence_interval: 1e8, health_check_interval: 1e8 });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('BadRequest');
    expect(refused.body.details.fields).toEqual({
      allowed_absence_interval: `must be at most ${MAX_TIMER_SECONDS} seconds (1 day)`,
      health_check_interval: `must be at most ${MAX_TIMER_SECONDS} seconds (1 day)`,
    });
    expect(net.running('a').node.settings.record).toBe(before.a);
    expect(net.running('b').node.settings.record).toBe(before.b);
    expect(await readFile(join(net.dataDir('b'), 'node.json'), 'utf8')).toBe(stored);
  });

  it('refuses a dns_server port out of range with 400 naming the field and the rule', async () => {
    const refused = await net.api('a', 'PUT', '/group', { dns_server: '127.0.0.1:0' });
    expect(refused.status).toBe(400);
    expect(refused.body.details.fields.dns_server).toMatch(/port from 1 to 65535/);
  });

  it('refuses a <secret>_file: the API cannot make a node read a file', async () => {
    const refused = await net.api('a', 'PUT', '/group', { tsig_secret_file: '/etc/shadow' });
    expect(refused.status).toBe(400);
    expect(refused.body.details.fields).toEqual({ tsig_secret_file: 'cannot be set through the API (it belongs in the config file)' });
  });
});
