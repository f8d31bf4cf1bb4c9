import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareDelayKeys, DelayIndex, type DelayKey, SmallestKeys } from '../../../../broker/delay/delay-index.ts';

type Step = { kind: 'produce'; dues: number[] } | { kind: 'tick'; advanceMs: number; limit: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('produce' as const), dues: fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('tick' as const), advanceMs: fc.integer({ min: 0, max: 40 }), limit: fc.integer({ min: 1, max: 8 }) }),
);

/**
 * The scheduler's use of the index against a model: a "disk" holding every pending key, the
 * index bounded to a few entries, rebuilt from the disk when it runs dry up to its horizon, and
 * produce clamping due times to the last key taken (as `DelayedDelivery.route` does).
 */
function simulate(maxEntries: number, steps: readonly Step[]): { taken: DelayKey[]; produced: DelayKey[]; maxHeld: number; rebuilds: number } {
  const index = new DelayIndex(maxEntries);
  const disk = new Map<number, DelayKey>();
  const produced: DelayKey[] = [];
  const taken: DelayKey[] = [];
  let nowMs = 0;
  let nextOffset = 0;
  let frontierDueMs = -1;
  let maxHeld = 0;
  let rebuilds = 0;
  const takeDue = (limit: number): void => {
    for (;;) {
      if (index.needsRebuild) {
        const keep = new SmallestKeys(Math.max(1, Math.floor((maxEntries * 3) / 4)));
        for (const key of disk.values()) keep.offer(key);
        index.replace(keep.result());
        rebuilds++;
        continue;
      }
      const keys = index.takeDue(nowMs, limit);
      if (keys.length === 0) return;
      for (const key of keys) {
        expect(key.dueMs).toBeLessThanOrEqual(nowMs);
        disk.delete(key.offset);
        taken.push(key);
      }
      frontierDueMs = Math.max(frontierDueMs, keys.at(-1)!.dueMs);
    }
  };
  for (const s of steps) {
    if (s.kind === 'produce') {
      for (const due of s.dues) {
        const key = { dueMs: Math.max(nowMs + due, frontierDueMs), offset: nextOffset++ };
        disk.set(key.offset, key);
        produced.push(key);
        index.add(key);
        maxHeld = Math.max(maxHeld, index.size);
      }
    } else {
      nowMs += s.advanceMs;
      takeDue(s.limit);
    }
    expect(index.minPendingOffset()).toBeLessThanOrEqual(Math.min(...[...disk.keys()], Number.POSITIVE_INFINITY));
  }
  nowMs = Number.MAX_SAFE_INTEGER;
  takeDue(1000);
  return { taken, produced, maxHeld, rebuilds };
}

describe('DelayIndex', () => {
  it('hands out every key once, in (due, offset) order, never before due, however small the bound', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(step, { maxLength: 60 }), (maxEntries, steps) => {
        const { taken, produced, maxHeld } = simulate(maxEntries, steps);
        expect(taken.map((k) => k.offset).sort((a, b) => a - b)).toEqual(produced.map((k) => k.offset));
        for (let i = 1; i < taken.length; i++) expect(compareDelayKeys(taken[i - 1]!, taken[i]!)).toBeLessThan(0);
        expect(maxHeld).toBeLessThanOrEqual(maxEntries);
      }),
      { numRuns: 400 },
    );
  });

  it('keeps at most its bound in memory with 10,000 pending keys and reads the rest back in rebuilds', () => {
    const steps: Step[] = [{ kind: 'produce', dues: Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 5000) }];
    for (let t = 0; t < 200; t++) steps.push({ kind: 'tick', advanceMs: 30, limit: 500 });
    const { taken, produced, maxHeld, rebuilds } = simulate(1000, steps);
    expect(taken).toHaveLength(produced.length);
    expect(maxHeld).toBeLessThanOrEqual(1000);
    expect(rebuilds).toBeGreaterThan(5);
  });

  it('SmallestKeys keeps the smallest keys and names the horizon and the first offset left out', () => {
    const keep = new SmallestKeys(3);
    for (const [dueMs, offset] of [[50, 0], [10, 1], [30, 2], [10, 3], [40, 4]] as const) keep.offer({ dueMs, offset });
    const result = keep.result();
    expect([...result.keys].sort(compareDelayKeys)).toEqual([{ dueMs: 10, offset: 1 }, { dueMs: 10, offset: 3 }, { dueMs: 30, offset: 2 }]);
    expect(result.horizon).toEqual({ dueMs: 30, offset: 2 });
    expect(result.leftOutMinOffset).toBe(0);
  });
});

describe('DelayIndex.earliestDueBy', () => {
  it('gives the earliest wanted keys due by a time, at or below the horizon, as sorting them all would', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 60 }),
        fc.integer({ min: 0, max: 110 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 4 }),
        (maxEntries, dues, dueBy, limit, skipEvery) => {
          const fill = () => {
            const index = new DelayIndex(maxEntries);
            dues.forEach((dueMs, offset) => index.add({ dueMs, offset }));
            return index;
          };
          const wanted = (k: DelayKey) => k.offset % skipEvery !== 0;
          const query = fill();
          // Every key held at or below the horizon, taken from an identical index.
          const held = fill().takeDue(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
          const expected = held
            .filter((k) => k.dueMs <= dueBy && wanted(k))
            .sort(compareDelayKeys)
            .slice(0, limit);
          expect(query.earliestDueBy(dueBy, limit, wanted).sort(compareDelayKeys)).toEqual(expected);
        },
      ),
    );
  });
});
