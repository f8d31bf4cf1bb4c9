import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DelayIndex, type DelayKey, SmallestKeys } from '../../../../broker/delay/delay-index.ts';

function compareDelayKeys(a: DelayKey, b: DelayKey): number {
  return a.dueMs - b.dueMs || a.offset - b.offset;
}

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
        for (const key of disk.values()) keep.offer(key.dueMs, key.offset);
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
    for (const [dueMs, offset] of [[50, 0], [10, 1], [30, 2], [10, 3], [40, 4]] as const) keep.offer(dueMs, offset);
    const result = keep.result();
    expect(result.horizon).toEqual({ dueMs: 30, offset: 2 });
    expect(result.leftOutMinOffset).toBe(0);
    const index = new DelayIndex(3);
    index.replace(result);
    expect(index.takeThrough({ dueMs: 100, offset: 100 })).toEqual([{ dueMs: 10, offset: 1 }, { dueMs: 10, offset: 3 }, { dueMs: 30, offset: 2 }]);
    expect(index.minPendingOffset()).toBe(0);
  });
});

type ReadAheadStep = { kind: 'add'; dues: number[] } | { kind: 'take'; nowMs: number; limit: number } | { kind: 'readAhead'; dueBy: number; limit: number; unsynced: number };

const readAheadStep: fc.Arbitrary<ReadAheadStep> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), dues: fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 10 }) }),
  fc.record({ kind: fc.constant('take' as const), nowMs: fc.integer({ min: 0, max: 110 }), limit: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('readAhead' as const), dueBy: fc.integer({ min: 0, max: 110 }), limit: fc.integer({ min: 1, max: 12 }), unsynced: fc.integer({ min: 0, max: 5 }) }),
);

describe('DelayIndex.takeUnreadDueBy', () => {
  it('hands each held key to the read-ahead once, earliest first, never one taken, stopping at the due bound and the first unsynced offset', () => {
    fc.assert(
      fc.property(fc.array(readAheadStep, { maxLength: 40 }), (steps) => {
        const index = new DelayIndex(10_000);
        // The model: pending keys, and those already handed to the read-ahead.
        const pending: DelayKey[] = [];
        const handed = new Set<number>();
        let nextOffset = 0;
        let lastTaken: DelayKey | undefined;
        for (const s of steps) {
          if (s.kind === 'add') {
            for (const due of s.dues) {
              // As `route` clamps: never below the last key taken.
              const key = { dueMs: Math.max(due, lastTaken?.dueMs ?? 0), offset: nextOffset++ };
              index.add(key);
              pending.push(key);
            }
          } else if (s.kind === 'take') {
            const taken = index.takeDue(s.nowMs, s.limit);
            pending.sort(compareDelayKeys);
            expect(taken).toEqual(pending.filter((k) => k.dueMs <= s.nowMs).slice(0, s.limit));
            pending.splice(0, taken.length);
            if (taken.length > 0) lastTaken = taken[taken.length - 1];
          } else {
            const readableBelow = nextOffset - s.unsynced;
            const expected: DelayKey[] = [];
            for (const key of [...pending].sort(compareDelayKeys)) {
              if (handed.has(key.offset)) continue;
              if (expected.length === s.limit || key.dueMs > s.dueBy || key.offset >= readableBelow) break;
              expected.push(key);
            }
            expect(index.takeUnreadDueBy(s.dueBy, s.limit, readableBelow)).toEqual(expected);
            for (const key of expected) handed.add(key.offset);
          }
        }
      }),
    );
  });

  it('stops at the horizon, and hands out every kept key again after a rebuild replaces them', () => {
    const index = new DelayIndex(2);
    for (const [dueMs, offset] of [[10, 0], [20, 1], [5, 2]] as const) index.add({ dueMs, offset });
    // Full at the third key: the horizon drops just below it (5@1), and 5@2 waits on disk. The
    // keys held lie above the horizon, so the read-ahead gets none of them.
    expect(index.horizon).toEqual({ dueMs: 5, offset: 1 });
    expect(index.takeUnreadDueBy(100, 10, 3)).toEqual([]);
    const keep = new SmallestKeys(2);
    for (const [dueMs, offset] of [[10, 0], [20, 1], [5, 2]] as const) keep.offer(dueMs, offset);
    index.replace(keep.result());
    expect(index.takeUnreadDueBy(100, 10, 3)).toEqual([{ dueMs: 5, offset: 2 }, { dueMs: 10, offset: 0 }]);
  });
});
