/**
 * The chart model is read from the machine definition: these tests pin what it must find in the node machine and
 * check the reader on a small machine with every kind of transition.
 */
import fc from 'fast-check';
import { assign, createMachine, setup, type AnyStateNode, type StateValue } from 'xstate';
import { describe, expect, it } from 'vitest';
import { nodeMachine } from '../machines/nodeMachine.js';
import { labelPath, stateLabel } from '../machines/stateLabel.js';
import { activeStateIds, activeStateIdsOfLabel, allStates, chartModel, eventLabel, stateDetails, transitionLabel } from '../src/inspect/chartModel.js';
import { parseStateLabel, StateLabelError } from '../src/inspect/parseStateLabel.js';

describe('chartModel(nodeMachine)', () => {
  const model = chartModel();

  it('has every state node of the machine, once, with its type', () => {
    const expected: string[] = [];
    const walk = (node: AnyStateNode): void => {
      expected.push(node.path.join('.'));
      Object.values(node.states).forEach(walk);
    };
    walk(nodeMachine.root);
    expect(allStates(model).map((state) => state.id)).toEqual(expected);
    expect(allStates(model).find((state) => state.id === 'member.primary')?.type).toBe('parallel');
    expect(allStates(model).find((state) => state.id === 'member.primary')?.children.map((child) => child.key)).toEqual(['authority', 'lease', 'pacing']);
    expect(allStates(model).find((state) => state.id === 'member.following.secondary')?.initial).toBe('member.following.secondary.watching');
  });

  it('has every transition of the machine: events, after delays by name, always, invoke done and error', () => {
    let count = 0;
    const walk = (node: AnyStateNode): void => {
      for (const definitions of node.transitions.values()) count += definitions.length;
      count += node.always?.length ?? 0;
      Object.values(node.states).forEach(walk);
    };
    walk(nodeMachine.root);
    expect(model.transitions).toHaveLength(count);
    const labels = model.transitions.map((t) => `${t.source} -> ${t.targets.join(',')}: ${transitionLabel(t)}`);
    expect(labels).toContain('member.following.secondary.watching -> member.following.secondary.checking: after standbyCheckInterval');
    expect(labels).toContain('member.following.secondary.checking -> member.following.takingOver: done: readGroupRecords [primaryIsAbsent]');
    expect(labels).toContain('member.following.takingOver.updating -> member.resolving: error: takeOverRecords [lostTheRace]');
    expect(labels).toContain('starting -> member.resolving: always [isInGroup]');
    expect(labels).toContain('member.primary.authority.acting -> member.primary.authority.probingPeer: FAILOVER_REQUESTED');
    expect(labels).toContain('member.primary.authority.probingPeer -> member.handingOver: done: probeHandover [peerIsReadyToTakeOver]');
    expect(labels).toContain(' -> notInGroup: LEAVE_GROUP');
    expect(labels).toContain('member.following.takingOver.updating -> member.primary.authority.awaitingOldLeaseExpiry: done: takeOverRecords [takeoverWasForced]');
    expect(labels).toContain('member.primary.lease.valid -> member.primary.lease.valid: DNS_HEARTBEAT_WRITTEN [confirmsNewerSend]');
    expect(model.transitions.find((t) => t.source === 'member.primary.lease.valid' && t.trigger.kind === 'event' && t.targets.includes('member.primary.lease.valid'))?.reenter).toBe(true);
  });

  it('shows entry actions without the timers XState adds for after delays', () => {
    expect(stateDetails(model, 'member.following.disconnected')).toEqual(['entry / assumeRole, noteDnsConnection']);
    // The heartbeat rule every following member shares is written once, on the parent.
    expect(stateDetails(model, 'member.following')).toEqual(['HEARTBEAT_RECEIVED [heartbeatIsProgress] / recordDirectHeartbeat']);
    expect(stateDetails(model, '')).toEqual([
      'SETTINGS_CHANGED / changeTimers',
      'TAKEOVER_ORDER_CHANGED / takeTakeoverOrder',
      'APPLICATION_HEALTH_CONFIGURED / configureApplicationHealth',
      'APPLICATION_HEALTH_CHECKED / recordApplicationHealth',
      'MAINTENANCE_REQUESTED / changeMaintenance',
      'FAILOVER_REQUESTED / beginFailoverRequest, settleFailover',
      'HANDOVER_PROBED / answerProbe',
      'HANDOVER_OFFERED / answerOffer',
    ]);
  });

  it('names runtime event types by delay and invoked actor', () => {
    expect(eventLabel(model, 'xstate.after.standbyCheckInterval.agNode.member.following.secondary.watching')).toBe('after standbyCheckInterval');
    expect(eventLabel(model, 'xstate.done.actor.0.agNode.member.resolving')).toBe('done: readGroupRecords');
    expect(eventLabel(model, 'xstate.error.actor.0.agNode.member.following.takingOver.updating')).toBe('error: takeOverRecords');
    expect(eventLabel(model, 'HEARTBEAT_RECEIVED')).toBe('HEARTBEAT_RECEIVED');
  });
});

describe('chartModel on a small machine', () => {
  it('reads numeric delays, inline guards and actions, parallel regions and targetless transitions', () => {
    const machine = setup({ guards: { ready: () => true } }).createMachine({
      id: 'm',
      initial: 'a',
      states: {
        a: { after: { 250: 'b' }, on: { GO: { target: 'b', guard: function isSunny() { return true; } } } },
        b: {
          type: 'parallel',
          states: { x: { initial: 'x1', states: { x1: { on: { NEXT: 'x2' } }, x2: {} } }, y: { initial: 'y1', states: { y1: {} } } },
          on: { TICK: { actions: assign({}) }, BACK: { target: 'a', guard: 'ready' } },
        },
      },
    });
    const model = chartModel(machine);
    const labels = model.transitions.map((t) => `${t.source} -> ${t.targets.join(',')}: ${transitionLabel(t)} / ${t.actions.join(',')}`);
    expect(labels).toEqual([
      'a -> b: GO [isSunny] / ',
      'a -> b: after 250 ms / ',
      'b -> : TICK / xstate.assign',
      'b -> a: BACK [ready] / ',
      'b.x.x1 -> b.x.x2: NEXT / ',
    ]);
    expect(allStates(model).map((s) => `${s.id}:${s.type}`)).toEqual([':compound', 'a:atomic', 'b:parallel', 'b.x:compound', 'b.x.x1:atomic', 'b.x.x2:atomic', 'b.y:compound', 'b.y.y1:atomic']);
  });

  it('works for a machine made without setup', () => {
    const model = chartModel(createMachine({ id: 'plain', initial: 'on', states: { on: { on: { T: 'off' } }, off: { on: { T: 'on' } } } }));
    expect(model.machineId).toBe('plain');
    expect(model.transitions.map(transitionLabel)).toEqual(['T', 'T']);
  });
});

describe('state labels and active state ids', () => {
  it('lists active states with their ancestors', () => {
    expect(activeStateIds({ primary: { authority: 'acting', lease: 'valid' } })).toEqual(['primary', 'primary.authority', 'primary.authority.acting', 'primary.lease', 'primary.lease.valid']);
    expect(activeStateIds('notInGroup')).toEqual(['notInGroup']);
  });

  it('parses every label stateLabel writes back into the same value (property, fixed seed)', () => {
    // Any state names but those of the parents that labels leave out (`member`, `following`: next test).
    const key = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,8}$/).filter((name) => labelPath(name) !== '');
    const { value } = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, key, fc.dictionary(key, tie('value'), { minKeys: 1, maxKeys: 3 })),
    }));
    fc.assert(
      fc.property(value, (v) => {
        expect(parseStateLabel(stateLabel(v as never))).toEqual(v);
      }),
      { seed: 20261125, numRuns: 500, verbose: true },
    );
  });

  it('leaves the grouping parents out of labels, and finds the chart states a label names', () => {
    const model = chartModel();
    expect(stateLabel({ member: { following: { secondary: 'watching' } } })).toBe('secondary.watching');
    expect(stateLabel({ member: { primary: { authority: 'acting', lease: 'valid', pacing: 'waiting' } } })).toBe('primary{authority.acting,lease.valid,pacing.waiting}');
    expect(stateLabel({ member: 'resolving' })).toBe('resolving');
    expect(activeStateIdsOfLabel(model, parseStateLabel('secondary.watching'))).toEqual(['member', 'member.following', 'member.following.secondary', 'member.following.secondary.watching']);
    // The parents a label leaves out are exactly the grouping ones, and no two states share a label.
    const states = allStates(model).filter((state) => state.id !== '');
    expect(states.filter((state) => labelPath(state.id) === '').map((state) => state.id)).toEqual(['member', 'member.following']);
    const paths = states.map((state) => labelPath(state.id)).filter((path) => path !== '');
    expect(new Set(paths).size).toBe(paths.length);
    // Every transition into them names a child, so the chart draws no initial dot for them.
    expect(model.transitions.filter((t) => t.targets.some((target) => labelPath(target) === ''))).toEqual([]);
    // Every atomic state's label leads back to it and all its ancestors.
    for (const state of states.filter((candidate) => candidate.children.length === 0)) {
      const keys = state.id.split('.');
      const value = keys.reduceRight<StateValue>((inner, key) => ({ [key]: inner }), keys.pop()!);
      const ancestors = state.id.split('.').map((_, index, all) => all.slice(0, index + 1).join('.'));
      expect(activeStateIdsOfLabel(model, parseStateLabel(stateLabel(value)))).toEqual(expect.arrayContaining(ancestors));
    }
  });

  it('refuses text stateLabel could not have written, saying where', () => {
    expect(() => parseStateLabel('primary{authority.acting')).toThrow(StateLabelError);
    expect(() => parseStateLabel('a..b')).toThrow(/position 2/);
    expect(() => parseStateLabel('')).toThrow(/state name is missing/);
  });
});
