import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommittedState } from '../../../../streams/state/committed-state.ts';

const key = fc.string({ unit: fc.constantFrom('a', 'b', '\u0000', '\u00ff'), maxLength: 3 });
const op = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key, value: fc.string({ maxLength: 2 }) }),
  fc.record({ kind: fc.constant('delete' as const), key }),
  fc.record({ kind: fc.constant('ordered' as const) }),
  fc.record({ kind: fc.constant('clone' as const) }),
);

describe('CommittedState', () => {
  it('keeps its tree equal to its map in byte order, catching up lazily or when the lag is full, and clones stay frozen', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 60 }), (lagMax, ops) => {
        const state = new CommittedState(lagMax);
        const model = new Map<string, string>();
        const clones: { tree: ReturnType<CommittedState['ordered']>; entries: [string, string][] }[] = [];
        const sorted = (): [string, string][] => [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        for (const o of ops) {
          if (o.kind === 'set') {
            state.set(o.key, o.value);
            model.set(o.key, o.value);
          } else if (o.kind === 'delete') {
            state.delete(o.key);
            model.delete(o.key);
          } else if (o.kind === 'ordered') {
            expect([...state.ordered().entries()]).toEqual(sorted());
          } else {
            clones.push({ tree: state.ordered().clone(), entries: sorted() });
          }
          expect(state.size).toBe(model.size);
          for (const k of model.keys()) expect(state.get(k)).toBe(model.get(k));
        }
        expect([...state.ordered().entries()]).toEqual(sorted());
        for (const clone of clones) expect([...clone.tree.entries()]).toEqual(clone.entries);
      }),
      { numRuns: 300 },
    );
  });
});
