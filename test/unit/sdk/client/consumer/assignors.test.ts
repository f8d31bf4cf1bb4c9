import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MemberSubscription } from '../../../../../sdk/client/consumer/assignors/assignor.ts';
import { cooperativeStickyAssignor } from '../../../../../sdk/client/consumer/assignors/cooperative-sticky.ts';
import { rangeAssignor } from '../../../../../sdk/client/consumer/assignors/range.ts';
import { roundRobinAssignor } from '../../../../../sdk/client/consumer/assignors/round-robin.ts';
import type { TopicPartition } from '../../../../../sdk/client/consumer/consumer-types.ts';

const member = (memberId: string, topics: string[], owned: TopicPartition[] = [], generationId = -1): MemberSubscription => ({
  memberId,
  groupInstanceId: null,
  topics,
  ownedPartitions: owned,
  generationId,
  userData: null,
});
const names = (tps: TopicPartition[] | undefined) => (tps ?? []).map((tp) => `${tp.topic}-${tp.partition}`).sort();

describe('range', () => {
  it('gives each subscriber a contiguous range per topic, the first ones one extra', () => {
    const result = rangeAssignor.assign([member('c', ['t']), member('a', ['t']), member('b', ['t'])], new Map([['t', 7]]));
    expect(names(result.get('a'))).toEqual(['t-0', 't-1', 't-2']);
    expect(names(result.get('b'))).toEqual(['t-3', 't-4']);
    expect(names(result.get('c'))).toEqual(['t-5', 't-6']);
  });
});

describe('round-robin', () => {
  it('deals partitions in (topic, partition) order to subscribers in member order', () => {
    const result = roundRobinAssignor.assign([member('a', ['t', 'u']), member('b', ['t'])], new Map([['t', 3], ['u', 2]]));
    expect(names(result.get('a'))).toEqual(['t-0', 't-2', 'u-0', 'u-1']);
    expect(names(result.get('b'))).toEqual(['t-1']);
  });
});

describe('cooperative-sticky', () => {
  it('keeps owned partitions and withholds a moving partition until its owner revoked it', () => {
    const owned = (ps: number[]) => ps.map((partition) => ({ topic: 't', partition }));
    const first = cooperativeStickyAssignor.assign(
      [member('a', ['t'], owned([0, 1]), 3), member('b', ['t'], owned([2, 3]), 3), member('c', ['t'], owned([4, 5]), 3), member('d', ['t'])],
      new Map([['t', 6]]),
    );
    const moved = ['a', 'b', 'c'].flatMap((id, i) => owned([2 * i, 2 * i + 1]).map((tp) => `t-${tp.partition}`).filter((p) => !names(first.get(id)).includes(p)));
    expect(moved).toHaveLength(1);
    expect(names(first.get('d'))).toEqual([]);
    const afterRevoke = ['a', 'b', 'c'].map((id) => member(id, ['t'], first.get(id), 4));
    const second = cooperativeStickyAssignor.assign([...afterRevoke, member('d', ['t'], [], 4)], new Map([['t', 6]]));
    expect(names(second.get('d'))).toEqual(moved);
    for (const id of ['a', 'b', 'c']) expect(names(second.get(id))).toEqual(names(first.get(id)));
  });

  it('property: every partition is assigned at most once, only to subscribers, never away from its claimed owner in one round, and a second round completes a balanced assignment', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 30 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 30 }),
        (memberCount, partitions, previousOwners) => {
          const ids = Array.from({ length: memberCount }, (_, i) => `m${i}`);
          const counts = new Map([['t', partitions]]);
          const members = ids.map((id, i) =>
            member(id, ['t'], previousOwners.flatMap((o, p) => (o === i && p < partitions ? [{ topic: 't', partition: p }] : [])), 1),
          );
          const round1 = cooperativeStickyAssignor.assign(members, counts);
          const all1 = ids.flatMap((id) => names(round1.get(id)));
          expect(new Set(all1).size).toBe(all1.length);
          for (const m of members) for (const tp of m.ownedPartitions) for (const other of ids) if (other !== m.memberId) expect(names(round1.get(other))).not.toContain(`t-${tp.partition}`);
          const round2 = cooperativeStickyAssignor.assign(ids.map((id) => member(id, ['t'], round1.get(id), 2)), counts);
          const all2 = ids.flatMap((id) => names(round2.get(id)));
          expect(new Set(all2).size).toBe(partitions);
          expect(all2).toHaveLength(partitions);
          const loads = ids.map((id) => round2.get(id)!.length);
          expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});
