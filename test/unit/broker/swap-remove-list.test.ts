import fc from 'fast-check';
import { expect, it } from 'vitest';
import { SwapRemoveList } from '../../../broker/swap-remove-list.ts';

it('holds exactly the elements added and not removed, each knowing its position', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(30)), { maxLength: 200 }), (ops) => {
      const list = new SwapRemoveList<{ id: number; index: number }>();
      const pool = Array.from({ length: 31 }, (_, id) => ({ id, index: -1 }));
      const model = new Set<number>();
      for (const [add, id] of ops) {
        const item = pool[id]!;
        if (add && !model.has(id)) {
          list.add(item);
          model.add(id);
        } else if (!add) {
          expect(list.remove(item)).toBe(model.delete(id));
        }
        expect(list.length).toBe(model.size);
        expect(new Set(list.items.map((i) => i.id))).toEqual(model);
        list.items.forEach((i, position) => expect(i.index).toBe(position));
        for (const i of pool) if (!model.has(i.id)) expect(i.index).toBe(-1);
      }
    }),
  );
});
