import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AcknowledgeTypeValue } from '../../../../../sdk/protocol/acknowledge-type.ts';
import { PendingAcknowledgements } from '../../../../../sdk/client/share-consumer/share-acknowledgements.ts';

const ack = fc.record({ partition: fc.integer({ min: 0, max: 2 }), offset: fc.integer({ min: 0, max: 40 }), type: fc.constantFrom<AcknowledgeTypeValue>(1, 2, 3) });

describe('PendingAcknowledgements', () => {
  it('takes every offset once (the last type given wins) as maximal runs of consecutive offsets, one type for a uniform run', () => {
    fc.assert(
      fc.property(fc.array(ack, { maxLength: 60 }), fc.boolean(), (acks, ascending) => {
        const made = ascending ? [...acks].sort((a, b) => a.offset - b.offset) : acks;
        const pending = new PendingAcknowledgements();
        const model = new Map<number, Map<number, number>>();
        for (const a of made) {
          pending.add('t', a.partition, a.offset, a.type);
          if (!model.has(a.partition)) model.set(a.partition, new Map());
          model.get(a.partition)!.set(a.offset, a.type);
        }
        expect(pending.isEmpty).toBe(made.length === 0);
        const taken = pending.take();
        expect(pending.isEmpty).toBe(true);
        expect(taken.map((p) => p.partition).sort()).toEqual([...model.keys()].sort());
        for (const { partition, batches } of taken) {
          const expanded = new Map<number, number>();
          let previousLast = -2;
          for (const b of batches) {
            const first = b.firstOffset;
            const last = b.lastOffset;
            // Runs are maximal and ascending: the next starts past a gap.
            expect(first).toBeGreaterThan(previousLast + 1);
            previousLast = last;
            expect(b.acknowledgeTypes.length === 1 || b.acknowledgeTypes.length === last - first + 1).toBe(true);
            if (b.acknowledgeTypes.length > 1) expect(new Set(b.acknowledgeTypes).size).toBeGreaterThan(1);
            for (let o = first; o <= last; o++) expanded.set(o, b.acknowledgeTypes.length === 1 ? b.acknowledgeTypes[0]! : b.acknowledgeTypes[o - first]!);
          }
          expect([...expanded].sort((a, b) => a[0] - b[0])).toEqual([...model.get(partition)!].sort((a, b) => a[0] - b[0]));
        }
      }),
    );
  });
});
