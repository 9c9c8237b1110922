/**
 * The simulator itself: runs are functions of their scenario, the ports behave as documented (delays, held work
 * during a pause, dropped work after a crash, DNS answers lost after the update applied), the trace keeps secrets
 * out, and the command line replays a seed.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { SettingsError } from '../src/api/errors.js';
import { loadSettings } from '../src/node/settings.js';
import {
  SCENARIO_SHAPES,
  checkScenario,
  groupSettingsArbitrary,
  healthyScenario,
  runSimulation,
  scenarioArbitrary,
  settingsInputArbitrary,
  type Scenario,
} from '../src/testing/index.js';
import { readReplayTrace } from '../src/http/inspector/replayTrace.js';
import { runSimCommand } from '../src/testing/cli/simCommand.js';
import { SIM_TSIG_SECRET } from '../src/testing/simulation.js';

const healthy = healthyScenario({ seed: 5, durationMs: 30_000, heartbeatS: 1 });

describe('the simulator', () => {
  it('keeps a healthy group as it is: a Primary, a Secondary, heartbeats both ways, no takeover', async () => {
    const result = await runSimulation(healthy);
    expect(result.violations).toEqual([]);
    const entries = result.trace.entries;
    expect(entries.filter((entry) => entry.kind === 'message' && entry.type === 'heartbeat' && entry.action === 'deliver').length).toBeGreaterThan(25);
    expect(entries.some((entry) => entry.kind === 'emitted' && entry.eventId === 'TAKEOVER_STARTED')).toBe(false);
    const last = (node: 'a' | 'b') => entries.filter((entry) => entry.kind === 'transition' && entry.node === node).at(-1);
    expect(last('a')).toMatchObject({ role: 'primary', epoch: 1 });
    expect(last('b')).toMatchObject({ role: 'secondary', epoch: 1 });
  });

  it('is a function of its scenario: the same scenario gives the same trace (determinism)', async () => {
    const scenario: Scenario = {
      ...healthy,
      faults: [
        { kind: 'lossy', from: 'a', to: 'b', at: 5_000, duration: 10_000, loss: 0.5, duplicate: 0.3 },
        { kind: 'crash', node: 'a', at: 16_000, restartAfter: 2_000 },
      ],
    };
    const first = JSON.stringify((await runSimulation(scenario)).trace);
    const second = JSON.stringify((await runSimulation(scenario)).trace);
    expect(second).toBe(first);
    const otherSeed = JSON.stringify((await runSimulation({ ...scenario, seed: scenario.seed + 1 })).trace);
    expect(otherSeed).not.toBe(first);
  });

  it('fails over after a crash within the bound, and the restarted node comes back as Secondary', async () => {
    const result = await runSimulation({ ...healthy, faults: [{ kind: 'crash', node: 'a', at: 10_000, restartAfter: 8_000 }] });
    expect(result.violations).toEqual([]);
    expect(result.failoverTimes).toHaveLength(1);
    // Failover period 3 s + one check 1.5 s + DNS round trips, from the last heartbeat (at most 1 s before the crash).
    expect(result.failoverTimes[0]!).toBeLessThan(3_000 + 1_500 + 200);
    const restarted = result.trace.entries.filter((entry) => entry.kind === 'transition' && entry.node === 'a' && entry.incarnation === 2).at(-1);
    expect(restarted).toMatchObject({ role: 'secondary', epoch: 2 });
  });

  it('holds a paused Primary: it resumes with its lease gone and steps down without acting', async () => {
    const result = await runSimulation({ ...healthy, faults: [{ kind: 'pause', node: 'a', at: 10_000, duration: 6_000 }] });
    expect(result.violations).toEqual([]);
    const lost = result.trace.entries.find((entry) => entry.kind === 'emitted' && entry.node === 'a' && entry.eventId === 'LEASE_LOST');
    // Nothing of a's runs while paused: its lease loss is noticed at the instant it resumes.
    expect(lost?.t).toBe(16_000);
    expect(result.trace.entries.some((entry) => entry.kind === 'emitted' && entry.node === 'b' && entry.eventId === 'TAKEOVER_STARTED')).toBe(true);
  });

  it('runs a resumed node\'s overdue timers first, in the resume\'s own happening, before held messages', async () => {
    const result = await runSimulation({ ...healthy, faults: [{ kind: 'pause', node: 'a', at: 10_000, duration: 6_000 }] });
    const atResume = result.trace.entries.filter((entry) => entry.t === 16_000);
    const steppedDown = atResume.findIndex((entry) => entry.kind === 'transition' && entry.node === 'a' && entry.role === 'secondary');
    const firstHeld = atResume.findIndex((entry) => entry.kind === 'transition' && entry.node === 'a' && entry.event === 'HEARTBEAT_RECEIVED');
    expect(steppedDown).toBeGreaterThan(-1);
    // b's heartbeats, delivered while a was paused, reach a only after a's timers showed it its lease is gone.
    expect(firstHeld).toBeGreaterThan(steppedDown);
    // The lease ran out during the pause, without a transition: the trace says so at that instant.
    const ranOut = result.trace.entries.find((entry) => entry.kind === 'acting' && entry.node === 'a');
    expect(ranOut).toMatchObject({ cause: 'lease-ran-out', acting: false });
    expect(ranOut!.t).toBeGreaterThan(10_000);
    expect(ranOut!.t).toBeLessThan(16_000);
  });

  it('traces the acting flag and lease end, the Secondary\'s progress, read answers, and a crash as not acting', async () => {
    const result = await runSimulation({ ...healthy, faults: [{ kind: 'crash', node: 'a', at: 10_000, restartAfter: 8_000 }] });
    const entries = result.trace.entries;
    expect(result.trace.version).toBe(2);
    const acting = entries.find((entry) => entry.kind === 'transition' && entry.node === 'a' && entry.acting);
    expect(acting).toBeDefined();
    if (acting?.kind === 'transition') expect(acting.leaseUntil!).toBeGreaterThan(acting.t);
    // The Secondary's seen (epoch, seq) rises with the heartbeats.
    const progress = entries.filter((entry) => entry.kind === 'progress' && entry.node === 'b' && entry.t < 10_000);
    expect(progress.length).toBeGreaterThan(5);
    expect(progress.at(-1)).toMatchObject({ epoch: 1, via: 'direct' });
    // A read's answer carries the records the node learns.
    const answer = entries.find((entry) => entry.kind === 'dns' && entry.op === 'read' && entry.action === 'answer');
    expect(answer?.kind === 'dns' && answer.records?.txt).toMatch(/^ag1 node=a epoch=1 /);
    // After its crash, nothing shows a as acting until its next incarnation says so.
    const crash = entries.findIndex((entry) => entry.kind === 'fault' && entry.action === 'start');
    expect(entries.slice(crash).find((entry) => 'node' in entry && entry.node === 'a' && (entry.kind === 'acting' || entry.kind === 'transition'))).toMatchObject({
      kind: 'acting',
      cause: 'crash',
      acting: false,
    });
    const restart = entries.findIndex((entry) => entry.kind === 'fault' && entry.action === 'end');
    expect(entries.slice(crash, restart).some((entry) => entry.kind === 'transition' && entry.node === 'a')).toBe(false);
  });

  it('applies an update whose answer is lost: the node times out, DNS holds the write', async () => {
    // Find a heartbeat write of a's after 5 s, then cut a's DNS path while the server's answer is on its way back.
    const plain = await runSimulation(healthy);
    const write = plain.trace.entries.find((entry) => entry.kind === 'dns' && entry.node === 'a' && entry.op === 'update' && entry.action === 'served' && entry.t > 5_000)!;
    const answered = plain.trace.entries.find((entry) => entry.kind === 'dns' && entry.action === 'answer' && entry.id === (write.kind === 'dns' ? write.id : -1))!;
    const cutAt = (write.t + answered.t) / 2;
    const result = await runSimulation({ ...healthy, faults: [{ kind: 'dnsCut', node: 'a', at: cutAt, duration: 2_000 }] });
    expect(result.violations).toEqual([]);
    const lost = result.trace.entries.filter((entry) => entry.kind === 'dns' && entry.action === 'answer-lost');
    const served = new Set(result.trace.entries.filter((entry) => entry.kind === 'dns' && entry.action === 'served').map((entry) => (entry.kind === 'dns' ? entry.id : -1)));
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.every((entry) => entry.kind === 'dns' && served.has(entry.id))).toBe(true);
  });

  it('writes traces the inspector replays: transitions as steps, the crash as a note', async () => {
    const result = await runSimulation({ ...healthy, faults: [{ kind: 'crash', node: 'a', at: 10_000, restartAfter: 3_000 }] });
    const replay = readReplayTrace(JSON.stringify(result.trace));
    expect(replay.nodes).toEqual(['a', 'b']);
    expect(replay.steps).toHaveLength(result.trace.entries.filter((entry) => entry.kind === 'transition').length);
    expect(replay.notes.some((note) => note.kind === 'fault' && note.text.includes('crash a'))).toBe(true);
  });

  it('never puts a secret into the trace', async () => {
    const result = await runSimulation({ ...healthy, faults: [{ kind: 'crash', node: 'a', at: 10_000, restartAfter: 3_000 }] });
    expect(JSON.stringify(result.trace)).not.toContain(SIM_TSIG_SECRET);
    expect(result.timeline()).not.toContain(SIM_TSIG_SECRET);
  });
});

describe('scenarios of N members', () => {
  it('refuse what the simulator cannot run, naming the field and the rule', async () => {
    const issues = (scenario: Scenario) => {
      try {
        checkScenario(scenario);
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(SettingsError);
        return (error as SettingsError).issues.map((issue) => `${issue.field}: ${issue.rule}`);
      }
    };
    expect(issues(healthy)).toEqual([]);
    expect(issues({ ...healthy, members: 8 })).toEqual(['members: must be a whole number from 2 to 7, not 8']);
    expect(issues({ ...healthy, members: 1 })).toEqual(['members: must be a whole number from 2 to 7, not 1']);
    expect(issues({ ...healthy, members: 3 })).toEqual(['clocks.c: is required: the scenario has 3 members (a, b, c)']);
    expect(issues({ ...healthy, faults: [{ kind: 'crash', node: 'c', at: 1_000, restartAfter: null }] })).toEqual([
      'faults[0].node: must name one of the scenario\'s nodes (a, b), not "c"',
    ]);
    expect(issues({ ...healthy, workload: [{ kind: 'failover', node: 'd', at: 1_000 }] })).toEqual(['workload[0].node: must name one of the scenario\'s nodes (a, b), not "d"']);
    await expect(runSimulation({ ...healthy, members: 9 })).rejects.toThrow('members: must be a whole number from 2 to 7, not 9');
  });

  it('draw two-member scenarios exactly as before groups could have more (fixed seed, same JSON)', () => {
    const digest = (name: keyof typeof SCENARIO_SHAPES) =>
      createHash('sha256').update(JSON.stringify(fc.sample(scenarioArbitrary(SCENARIO_SHAPES[name]), { seed: 11, numRuns: 30 }))).digest('hex').slice(0, 16);
    expect(digest('mixed')).toBe('4e63ca64d72479e0');
    expect(digest('heavy')).toBe('c3f5c7e7a58c0bde');
    expect(digest('maintenance')).toBe('1bd5b7b98187b652');
    expect(healthyScenario({ seed: 1, durationMs: 1_000 })).not.toHaveProperty('members');
  });

  it('draw faults, operator actions and clocks for every node of the group, and only those', () => {
    const scenarios = fc.sample(scenarioArbitrary({ ...SCENARIO_SHAPES.heavy, maintenance: true, maxOps: 5, members: 4 }), { seed: 12, numRuns: 60 });
    const named = new Set<string>();
    for (const scenario of scenarios) {
      expect(scenario.members).toBe(4);
      expect(Object.keys(scenario.clocks)).toEqual(['a', 'b', 'c', 'd']);
      expect(() => checkScenario(scenario)).not.toThrow();
      for (const fault of scenario.faults) for (const id of 'node' in fault ? [fault.node] : 'from' in fault ? [fault.from, fault.to] : []) named.add(id);
      for (const op of scenario.workload) if ('node' in op) named.add(op.node);
    }
    expect([...named].sort()).toEqual(['a', 'b', 'c', 'd']);
    // With more than two, some partitions cut one node off from all the others at once.
    const isolations = scenarios.flatMap((scenario) => scenario.faults).filter((fault, index, all) => fault.kind === 'partition' && all.filter((other) => other.kind === 'partition' && other.at === fault.at && other.from === fault.from).length === 3);
    expect(isolations.length).toBeGreaterThan(0);
  });

  it('run three members as a group: a creates it, b and c join, one Primary and two Secondaries', async () => {
    const result = await runSimulation(healthyScenario({ seed: 5, durationMs: 15_000, members: 3 }));
    expect(result.violations).toEqual([]);
    expect(result.trace.nodes).toEqual({ a: { address: '127.0.0.2' }, b: { address: '127.0.0.3' }, c: { address: '127.0.0.4' } });
    const joins = result.trace.entries.filter((entry) => entry.kind === 'workload' && entry.action === 'start + join group' && entry.outcome === 'done');
    expect(joins.map((entry) => ('node' in entry ? entry.node : null))).toEqual(['b', 'c']);
    const last = (node: 'a' | 'b' | 'c') => result.trace.entries.filter((entry) => entry.kind === 'transition' && entry.node === node).at(-1);
    expect(last('a')).toMatchObject({ role: 'primary', epoch: 1 });
    expect(last('b')).toMatchObject({ role: 'secondary', epoch: 1 });
    expect(last('c')).toMatchObject({ role: 'secondary', epoch: 1 });
    // The Primary's heartbeat fans out to both Secondaries.
    const delivered = (to: string) => result.trace.entries.filter((entry) => entry.kind === 'message' && entry.type === 'heartbeat' && entry.to === to && entry.action === 'deliver').length;
    expect(delivered('b')).toBeGreaterThan(10);
    expect(delivered('c')).toBeGreaterThan(10);
  });
});

describe('the arbitraries', () => {
  it('draw settings that loadSettings accepts', () => {
    fc.assert(
      fc.property(settingsInputArbitrary(), (input) => {
        loadSettings(input);
      }),
      { seed: 7, numRuns: 500 },
    );
    fc.assert(
      fc.property(groupSettingsArbitrary({ minAbsenceMs: 3, maxAbsenceMs: 8 }), (group) => {
        loadSettings({ node_id: 'a', external_ipv4_address: '127.0.0.2', ...group });
      }),
      { seed: 8, numRuns: 200 },
    );
  });
});

describe('npm run sim', () => {
  async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
    try {
      return { code: await runSimCommand(argv), out, err };
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
  }

  it('replays a seed and prints the verdict and a summary first, the timeline only on request; the same seed prints the same', async () => {
    const first = await run(['--seed', '3', '--faults', 'heavy', '--duration', '20']);
    expect(first.code, first.out + first.err).toBe(0);
    expect(first.out.split('\n')[0]).toBe('Verdict: every property held.');
    expect(first.out).toMatch(/Takeovers \(\d+\)/);
    expect(first.out).toMatch(/Role changes of a \(\d+\)/);
    expect(first.out).toMatch(/Epochs in DNS: 1 a/);
    expect(first.out).not.toContain('workload start + create group');
    expect((await run(['--seed', '3', '--faults', 'heavy', '--duration', '20'])).out).toBe(first.out);
    const withTimeline = await run(['--seed', '3', '--faults', 'heavy', '--duration', '20', '--timeline']);
    expect(withTimeline.out.startsWith(first.out.split('(--timeline')[0]!)).toBe(true);
    expect(withTimeline.out).toMatch(/FAULT start|workload start \+ create group/);
  });

  it('runs a group of --members nodes, and refuses a count out of range or beside --scenario', async () => {
    const three = await run(['--seed', '3', '--members', '3', '--duration', '20']);
    expect(three.code, three.out + three.err).toBe(0);
    expect(three.out).toMatch(/^Members: 3 \(a, b, c; a created the group, the others joined in turn\), coordination etcd$/m);
    expect(three.out).toMatch(/Role changes of c \(\d+\)/);
    expect(three.out).toContain('"members":3');
    for (const bad of ['1', '8', '2.5', 'x']) {
      const refused = await run(['--seed', '3', '--members', bad]);
      expect(refused.code, bad).toBe(2);
      expect(refused.err).toContain(`sim: --members must be a whole number from 2 to 7, not "${bad}"`);
    }
    expect((await run(['--scenario', 'x.json', '--members', '3'])).err).toContain('--members does not go with --scenario');
    expect((await run(['--help'])).out).toContain('--members <n>');
  });

  it('refuses bad options with a usage error', async () => {
    expect((await run(['--seed', 'x'])).code).toBe(2);
    expect((await run(['--seed', '1', '--shape', 'nope'])).err).toContain('unknown shape "nope"');
    expect((await run(['--bogus'])).code).toBe(2);
    expect((await run(['--help'])).out).toContain('--variant <name>');
    expect((await run(['--help'])).out).toContain('--timeline');
  });

  it('exits 1 and names the property when a broken variant fails', async () => {
    const result = await run(['--seed', '1', '--variant', 'eventsAfterTheFact', '--duration', '20']);
    expect(result.code).toBe(1);
    expect(result.out.split('\n')[0]).toMatch(/^Verdict: VIOLATION eventsTellTruth at /);
  });

  it('replays a fast-check case by seed and path: the verdict first', async () => {
    const result = await run(['--shape', 'handovers', '--seed', '1', '--path', '0', '--variant', 'lateRoleAnnouncement']);
    expect(result.code, result.out + result.err).toBe(1);
    expect(result.out.split('\n')[0]).toMatch(/^Verdict: VIOLATION oneAnnouncedPrimary at /);
    expect(result.out).toContain('broken variant lateRoleAnnouncement');
  });
});
