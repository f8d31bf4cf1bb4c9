import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canTransition, GROUP_STATES, GROUP_TRANSITIONS, GroupState, type GroupStateValue, parseGroupState, transition } from '../../../../broker/group/group-state.ts';

describe('group state machine', () => {
  it('follows the table for every sequence of attempted transitions and throws on any other', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...GROUP_STATES), { maxLength: 40 }), (targets) => {
        let state: GroupStateValue = GroupState.Empty;
        for (const to of targets) {
          if (GROUP_TRANSITIONS[state].includes(to)) {
            state = transition('g', state, to);
            expect(state).toBe(to);
          } else {
            expect(() => transition('g', state, to)).toThrow(/invariant: group "g" cannot go from/);
          }
        }
      }),
    );
  });

  it('matches Kafka’s classic group lifecycle', () => {
    expect(canTransition('Empty', 'PreparingRebalance')).toBe(true);
    expect(canTransition('Empty', 'Stable')).toBe(false);
    expect(canTransition('PreparingRebalance', 'CompletingRebalance')).toBe(true);
    expect(canTransition('PreparingRebalance', 'Empty')).toBe(true);
    expect(canTransition('CompletingRebalance', 'Stable')).toBe(true);
    expect(canTransition('Stable', 'CompletingRebalance')).toBe(false);
    expect(canTransition('Stable', 'PreparingRebalance')).toBe(true);
    for (const s of GROUP_STATES) expect(canTransition('Dead', s)).toBe(false);
    for (const s of GROUP_STATES.filter((x) => x !== 'Dead')) expect(canTransition(s, 'Dead')).toBe(true);
  });

  it('reaches every state from Empty', () => {
    const seen = new Set<GroupStateValue>([GroupState.Empty]);
    const queue: GroupStateValue[] = [GroupState.Empty];
    while (queue.length > 0) {
      for (const next of GROUP_TRANSITIONS[queue.shift()!]) {
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }
    expect([...seen].sort()).toEqual([...GROUP_STATES].sort());
  });

  it('parses state names case-insensitively', () => {
    expect(parseGroupState('stable')).toBe('Stable');
    expect(parseGroupState('COMPLETINGREBALANCE')).toBe('CompletingRebalance');
    expect(parseGroupState('Rebalancing')).toBeUndefined();
  });
});
