/**
 * Maintenance mode (docs/design.md rule 9): the flag's order, its propagation by heartbeats and acknowledgements,
 * the suppressed takeover for absence, the prompt takeover after resume, persistence, and the API body. Two
 * in-memory nodes on one manual clock (test/support/twoNodes.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { changeMaintenance, isNewerMaintenance, maintenanceOnWire, NO_MAINTENANCE, type MaintenanceFlag } from '../machines/maintenance.js';
import { EventId, NodeRole } from '../src/api/constants.js';
import { MembershipError, PersistedStateError } from '../src/api/errors.js';
import { maintenanceRequestFrom } from '../src/http/apiBodies.js';
import { ApiError } from '../src/http/apiError.js';
import { parsePersistedNode } from '../src/node/nodeStore.js';
import { nodeMachine, type NodeMachine } from '../machines/nodeMachine.js';
import { healthyScenario, runSimulation, type BrokenVariant, type Scenario } from '../src/testing/index.js';
import { NodeEventLog } from '../src/http/inspector/nodeEventLog.js';
import { inspectorPageHtml } from '../src/http/inspector/inspectorPage.js';
import { INSPECTOR_SCRIPT } from '../src/http/inspector/inspectorScript.js';
import { main } from '../src/cli/main.js';
import { eventsOf, GROUP_TIMERS, TwoNodes } from './support/twoNodes.js';

const ABSENCE_MS = GROUP_TIMERS.allowed_absence_interval * 1000;
const CHECK_MS = GROUP_TIMERS.health_check_interval * 1000;
const HEARTBEAT_MS = GROUP_TIMERS.health_report_interval * 1000;

const groups: TwoNodes[] = [];
async function formedGroup(): Promise<TwoNodes> {
  const group = new TwoNodes();
  groups.push(group);
  await group.formGroup();
  return group;
}
afterEach(async () => {
  for (const group of groups.splice(0)) await group.stopAll();
});

describe('the maintenance flag', () => {
  const paused = (version: number, by: string): MaintenanceFlag => ({ enabled: true, version, by });
  const resumed = (version: number, by: string): MaintenanceFlag => ({ enabled: false, version, by });

  it('orders versions, then paused before resumed, then node ids: a total order', () => {
    expect(isNewerMaintenance(resumed(3, 'a'), paused(2, 'b'))).toBe(true);
    expect(isNewerMaintenance(paused(2, 'b'), resumed(3, 'a'))).toBe(false);
    expect(isNewerMaintenance(paused(2, 'a'), resumed(2, 'b'))).toBe(true);
    expect(isNewerMaintenance(resumed(2, 'b'), paused(2, 'a'))).toBe(false);
    expect(isNewerMaintenance(paused(2, 'b'), paused(2, 'a'))).toBe(true);
    expect(isNewerMaintenance(paused(2, 'a'), paused(2, 'a'))).toBe(false);
    expect(isNewerMaintenance(paused(1, 'a'), NO_MAINTENANCE)).toBe(true);
  });

  it('changes only when asked for the other value, one version up; is never sent before the first change', () => {
    expect(changeMaintenance(NO_MAINTENANCE, false, 'a')).toBe(NO_MAINTENANCE);
    const on = changeMaintenance(NO_MAINTENANCE, true, 'a');
    expect(on).toEqual(paused(1, 'a'));
    expect(changeMaintenance(on, true, 'b')).toBe(on);
    expect(changeMaintenance(on, false, 'b')).toEqual(resumed(2, 'b'));
    expect(maintenanceOnWire(NO_MAINTENANCE)).toEqual({});
    expect(maintenanceOnWire(on)).toEqual({ maintenance: on });
  });
});

describe('maintenance mode in a group', () => {
  it('a pause asked on the Secondary reaches the Primary with the next acknowledgement; both persist it', async () => {
    const group = await formedGroup();
    const flag = await group.b.node.setMaintenance(true);
    expect(flag).toEqual({ enabled: true, version: 1, by: 'b' });
    expect(group.b.node.getNodeState().maintenance).toBe(true);
    expect(group.a.node.getNodeState().maintenance).toBe(false);
    await group.clock.advanceUntil(() => group.a.node.getNodeState().maintenance, HEARTBEAT_MS * 2);
    for (const node of [group.a, group.b]) {
      expect(eventsOf(node.events, EventId.MAINTENANCE_CHANGED)).toEqual([expect.objectContaining({ enabled: true, by: 'b', epoch: 1 })]);
      expect((await node.store.load())?.membership.maintenance).toEqual({ enabled: true, version: 1, by: 'b' });
    }
    // Asking again changes nothing and announces nothing.
    expect(await group.a.node.setMaintenance(true)).toEqual({ enabled: true, version: 1, by: 'b' });
    expect(eventsOf(group.a.events, EventId.MAINTENANCE_CHANGED)).toHaveLength(1);
  });

  it('while paused the Secondary finds the Primary absent but does not take over; resume makes it take over at once', async () => {
    const group = await formedGroup();
    await group.a.node.setMaintenance(true);
    await group.clock.advanceUntil(() => group.b.node.getNodeState().maintenance, HEARTBEAT_MS * 2);
    await group.a.crash();
    await group.clock.advance(ABSENCE_MS * 4);
    const b = group.b.node.getNodeState();
    expect(b.nodeRole).toBe(NodeRole.SECONDARY);
    expect(eventsOf(group.b.events, EventId.TAKEOVER_STARTED)).toEqual([]);
    const suspected = eventsOf(group.b.events, EventId.PRIMARY_SUSPECTED);
    expect(suspected.some((event) => event.silentForMs >= event.absenceLimitMs)).toBe(true);
    expect(group.dns.records().address).toBe('127.0.0.2');

    // The flag survives a restart of the Secondary.
    await group.b.restart();
    expect(group.b.node.getNodeState().maintenance).toBe(true);
    await group.clock.advance(ABSENCE_MS * 2);
    expect(group.b.node.getNodeState().nodeRole).toBe(NodeRole.SECONDARY);

    // Resume: the standby check runs at once; the silence is long past the failover period, so b takes over now.
    await group.b.node.setMaintenance(false);
    const tookMs = await group.clock.advanceUntil(() => group.b.node.isActingPrimary(), CHECK_MS);
    expect(tookMs).toBeLessThan(CHECK_MS);
    expect(eventsOf(group.b.events, EventId.TAKEOVER_STARTED).at(-1)).toMatchObject({ mode: 'absence' });
    expect(group.dns.records().address).toBe('127.0.0.3');
  });

  it('manual failover still works while paused', async () => {
    const group = await formedGroup();
    await group.a.node.setMaintenance(true);
    await group.clock.advanceUntil(() => group.b.node.getNodeState().maintenance, HEARTBEAT_MS * 2);
    await group.a.node.failover();
    expect(group.b.node.isActingPrimary()).toBe(true);
    // The new Primary's heartbeats carry the flag: both stay paused.
    await group.clock.advance(HEARTBEAT_MS * 3);
    expect([group.a.node.getNodeState().maintenance, group.b.node.getNodeState().maintenance]).toEqual([true, true]);
  });

  it('changes made on both nodes while they cannot talk converge on the newest', async () => {
    const group = await formedGroup();
    group.cutDirectPath();
    await group.a.node.setMaintenance(true); // version 1 on a
    await group.b.node.setMaintenance(true); // version 1 on b
    await group.b.node.setMaintenance(false); // version 2 on b: the newest
    group.network.heal('a', 'b');
    group.network.heal('b', 'a');
    await group.clock.advanceUntil(() => !group.a.node.getNodeState().maintenance, HEARTBEAT_MS * 3);
    await group.clock.advance(HEARTBEAT_MS * 2);
    expect([group.a.node.getNodeState().maintenance, group.b.node.getNodeState().maintenance]).toEqual([false, false]);
  });

  it('leaving the group ends maintenance; a node outside a group refuses it', async () => {
    const group = await formedGroup();
    await group.b.node.setMaintenance(true);
    await group.b.node.leaveGroup();
    expect(group.b.node.getNodeState().maintenance).toBe(false);
    expect(eventsOf(group.b.events, EventId.MAINTENANCE_CHANGED).map((event) => event.enabled)).toEqual([true, false]);
    await expect(group.b.node.setMaintenance(true)).rejects.toBeInstanceOf(MembershipError);
  });
});

describe('maintenance shown to people', () => {
  it('the inspector log records a change of maintenance mode even when the state stays; the page has a badge the script toggles', async () => {
    const group = new TwoNodes();
    groups.push(group);
    await group.formGroup();
    const log = new NodeEventLog();
    log.follow(group.b.node);
    const before = log.entries().length;
    await group.b.node.setMaintenance(true);
    const entry = log.entries().at(-1)!;
    expect(log.entries().length).toBe(before + 1);
    expect([entry.from, entry.state, entry.event]).toEqual(['secondary.watching', 'secondary.watching', 'MAINTENANCE_REQUESTED']);
    const html = inspectorPageHtml({ mode: 'live', title: 'node b', svg: '<svg></svg>', base: '/ag/inspect' });
    expect(html).toMatch(/<span class="badge maintenance" id="maintenance-badge" hidden/);
    expect(INSPECTOR_SCRIPT).toContain("$('maintenance-badge').hidden = !(nodeState && nodeState.maintenance === true)");
  });

  it('agctl pause --help and agctl resume --help describe the commands and exit 0; agctl --help lists them', async () => {
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof process.stdout.write;
    try {
      expect(await main(['pause', '--help'])).toBe(0);
      expect(await main(['resume', '--help'])).toBe(0);
      expect(await main(['--help'])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    const [pause, resume, usage] = written;
    expect(pause).toContain('Usage: agctl pause [--config <file>');
    expect(pause).toContain("no node takes over for the Primary's absence");
    expect(resume).toContain('Usage: agctl resume [--config <file>');
    expect(resume).toContain('runs its');
    expect(usage).toMatch(/^  pause +pause the group's automatic takeover/m);
    expect(usage).toMatch(/^  resume +resume the group's automatic takeover/m);
  });
});

describe('maintenance on disk and on the wire', () => {
  const settings = { node_id: 'a', external_ipv4_address: '127.0.0.2' };
  const file = (membership: Record<string, unknown>) => JSON.stringify({ settings, membership: { inGroup: true, peer: null, epoch: 3, ...membership } });

  it('reads node.json files written before maintenance existed, and files with it', () => {
    expect(parsePersistedNode(file({}), 'node.json').membership.maintenance).toBeUndefined();
    expect(parsePersistedNode(file({ maintenance: { enabled: true, version: 2, by: 'b' } }), 'node.json').membership.maintenance).toEqual({ enabled: true, version: 2, by: 'b' });
  });

  it('refuses a malformed maintenance field, naming it', () => {
    expect(() => parsePersistedNode(file({ maintenance: { enabled: 'yes', version: 2, by: 'b' } }), 'node.json')).toThrow(PersistedStateError);
    expect(() => parsePersistedNode(file({ maintenance: { enabled: 'yes', version: 2, by: 'b' } }), 'node.json')).toThrow(/membership\.maintenance\.enabled: must be true or false/);
  });

  it('PUT /maintenance bodies: {"enabled": bool} only, else 400 naming the field and the rule', () => {
    expect(maintenanceRequestFrom({ enabled: true })).toBe(true);
    expect(maintenanceRequestFrom({ enabled: false })).toBe(false);
    const refused = (body: unknown) => {
      try {
        maintenanceRequestFrom(body);
      } catch (error) {
        expect(error).toBeInstanceOf(ApiError);
        return (error as ApiError).message;
      }
      throw new Error('not refused');
    };
    expect(refused({})).toMatch(/enabled: is required/);
    expect(refused({ enabled: 'true' })).toMatch(/enabled: must be true or false/);
    expect(refused({ enabled: true, force: 1 })).toMatch(/force: is not a known field/);
    expect(refused([true])).toMatch(/\(body\): must be a JSON object/);
  });
});

describe('maintenance in the simulator (fixed scenario)', () => {
  // a is Primary, b Secondary. An operator pauses on a at 10 s; a crashes for good at 20 s; b resumes at 40 s.
  const base = healthyScenario({ seed: 7, durationMs: 60_000, heartbeatS: 1 });
  const scenario: Scenario = {
    ...base,
    faults: [{ kind: 'crash', node: 'a', at: 20_000, restartAfter: null }],
    workload: [
      { kind: 'maintenance', node: 'a', at: 10_000, enabled: true },
      { kind: 'maintenance', node: 'b', at: 40_000, enabled: false },
    ],
  };
  const takeoversBy = (result: Awaited<ReturnType<typeof runSimulation>>) =>
    result.trace.entries.flatMap((entry) => (entry.kind === 'emitted' && entry.node === 'b' && entry.eventId === EventId.TAKEOVER_STARTED ? [entry.t] : []));

  it('holds every property: b does not take over while paused, and takes over within two DNS round trips of the resume', async () => {
    const result = await runSimulation(scenario);
    expect(result.violations).toEqual([]);
    expect(result.exercised).toEqual(expect.arrayContaining(['failoverHappens', 'noTakeoverWhilePaused']));
    const takeovers = takeoversBy(result);
    expect(takeovers).toHaveLength(1);
    expect(takeovers[0]).toBeGreaterThanOrEqual(40_000);
    expect(result.failoverTimes).toHaveLength(1);
    expect(20_000 + result.failoverTimes[0]!).toBeLessThanOrEqual(40_000 + 4 * base.network.dnsDelayMs[1] + 1);
  });

  it('failoverHappens catches a resume that waits for the next standby check instead of checking at once', async () => {
    const slowResume: BrokenVariant = {
      name: 'slowResume',
      breaks: 'rule 9: resuming does not run the standby check at once',
      expected: 'failoverHappens',
      machine: () => nodeMachine.provide({ guards: { resumesGroup: () => false } }) as NodeMachine,
    };
    const result = await runSimulation(scenario, { variant: slowResume });
    expect(result.violations.map((violation) => violation.property)).toContain('failoverHappens');
  });
});
