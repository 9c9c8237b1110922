/**
 * `agctl failover`'s parts: the timeout derived from the group settings, and the progress lines read from the two
 * nodes' polled states.
 */
import { describe, expect, it } from 'vitest';
import { describeNode, FailoverProgress, viewOf, type FailoverNodeView } from '../src/cli/failoverProgress.js';
import { failoverTimeoutMs } from '../src/cli/failoverTimeout.js';

const view = (node_id: string, state: string, extra: Partial<FailoverNodeView> = {}): FailoverNodeView => ({
  node_id,
  node_role: state.startsWith('primary') ? 'primary' : 'secondary',
  acting_primary: false,
  epoch: 6,
  state,
  ...extra,
});

describe('failoverTimeoutMs', () => {
  it('failover period + check + 8 DNS budgets + 2 peer timeouts + 5 s', () => {
    // Defaults: DNS attempts of 2 s, two of them (a 4 s budget), peer timeout 5 s.
    expect(failoverTimeoutMs({})).toBe(60_000 + 30_000 + 8 * 4000 + 2 * 5000 + 5000);
    // Test timers: attempts of 150 ms (the floor), peer timeout 100 ms.
    expect(failoverTimeoutMs({ health_report_interval: 0.1, health_check_interval: 0.1, allowed_absence_interval: 0.5, dns_server: '127.0.0.1:53' })).toBe(500 + 100 + 8 * 300 + 2 * 100 + 5000);
  });

  it('a dns_server host name adds one lookup per request', () => {
    const byAddress = failoverTimeoutMs({ health_report_interval: 1, dns_server: '192.0.2.53:53' });
    const byName = failoverTimeoutMs({ health_report_interval: 1, dns_server: 'ns1.example.com:53' });
    expect(byName - byAddress).toBe(8 * 1000);
  });

  it('grows with the failover period, always more than period + check', () => {
    for (const absence of [1, 10, 60, 600]) {
      const settings = { health_report_interval: absence / 4, health_check_interval: absence / 2, allowed_absence_interval: absence };
      expect(failoverTimeoutMs(settings)).toBeGreaterThan((absence + absence / 2) * 1000);
    }
  });
});

describe('FailoverProgress', () => {
  it('a handover from the Primary: each step once, in order, ending with the new Primary acting', () => {
    const progress = new FailoverProgress(['a', 'b'], 6);
    const lines = [
      ...progress.observe(view('a', 'primary{authority.probingPeer,lease.valid}', { acting_primary: true })),
      ...progress.observe(view('b', 'secondary.probing')),
      ...progress.observe(view('a', 'primary{authority.probingPeer,lease.valid}', { acting_primary: true })),
      ...progress.observe(view('a', 'handingOver')),
      ...progress.observe(view('b', 'takingOver.updating')),
      ...progress.observe(view('b', 'primary{authority.acting,lease.valid}', { node_role: 'primary', acting_primary: true, epoch: 7 })),
      ...progress.observe(view('b', 'primary{authority.acting,lease.valid}', { node_role: 'primary', acting_primary: true, epoch: 7 })),
    ];
    expect(lines).toEqual([
      'a asks b whether it can take over now (b reads DNS)',
      'handover offered: a stepped down and offers b the Primary role',
      'peer accepted: b takes over with a DNS compare-and-swap',
      "DNS updated: the group's records name b (epoch 7)",
      'b is acting Primary (epoch 7)',
    ]);
    expect(progress.newPrimary?.node_id).toBe('b');
  });

  it('a failover asked on the Secondary: its request, then the handover', () => {
    const progress = new FailoverProgress(['b', 'a'], 6);
    const lines = [
      ...progress.observe(view('b', 'requestingStepDown.confirmingDns')),
      ...progress.observe(view('b', 'requestingStepDown.asking')),
      ...progress.observe(view('b', 'requestingStepDown.awaitingOffer')),
      ...progress.observe(view('a', 'handingOver')),
    ];
    expect(lines).toEqual(['b reads DNS before asking a to hand over', 'b asks a to hand over', 'a agreed to hand over; b waits for its offer', 'handover offered: a stepped down and offers b the Primary role']);
    expect(progress.started).toBe(true);
    expect(progress.newPrimary).toBeNull();
  });

  it('a forced takeover: DNS updated while the taker waits out the old lease, then acting', () => {
    const progress = new FailoverProgress(['b', 'a'], 6);
    expect(progress.observe(view('b', 'primary{authority.awaitingOldLeaseExpiry}', { node_role: 'secondary', epoch: 7 }))).toEqual([
      "DNS updated: the group's records name b (epoch 7)",
      "b waits until a's lease has certainly ended before it acts",
    ]);
    expect(progress.observe(view('b', 'primary{authority.acting}', { node_role: 'primary', acting_primary: true, epoch: 7 }))).toEqual(['b is acting Primary (epoch 7)']);
  });

  it('a poll that missed every step still tells "DNS updated" before the new Primary acts', () => {
    const progress = new FailoverProgress(['a', 'b'], 6);
    expect(progress.observe(view('a', 'secondary.watching', { epoch: 7 }))).toEqual([]);
    expect(progress.observe(view('b', 'primary{authority.acting}', { node_role: 'primary', acting_primary: true, epoch: 7 }))).toEqual([
      "DNS updated: the group's records name b (epoch 7)",
      'b is acting Primary (epoch 7)',
    ]);
  });

  it('nothing for states before the failover, and the old Primary still acting at the old epoch is no new Primary', () => {
    const progress = new FailoverProgress(['a', 'b'], 6);
    expect(progress.observe(view('a', 'primary{authority.acting}', { acting_primary: true }))).toEqual([]);
    expect(progress.observe(view('b', 'secondary.watching'))).toEqual([]);
    expect(progress.started).toBe(false);
    expect(progress.observe(view('a', 'reclaiming'))).toEqual(['a reclaims the Primary role: the handover did not complete']);
  });

  it('viewOf and describeNode', () => {
    expect(viewOf({ node_id: 'a', node_role: 'primary', acting_primary: true, epoch: 3, state: 'primary{}' })).not.toBeNull();
    expect(viewOf({ node_id: 'a' })).toBeNull();
    expect(viewOf('text')).toBeNull();
    expect(describeNode(view('a', 'primary{}', { acting_primary: true }))).toBe('a (acting Primary, epoch 6)');
    expect(describeNode(view('b', 'secondary.watching'))).toBe('b (Secondary, epoch 6)');
  });
});
