import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../sdk/protocol/error-codes.ts';
import { type BatchSpan, DEAD_LETTER_OWNER, SharePartition, type SharePartitionLimits } from '../../../../broker/share/share-partition.ts';
import { AcknowledgeType } from '../../../../sdk/protocol/acknowledge-type.ts';
import { canTransition, RecordState, transition } from '../../../../broker/share/share-record-state.ts';

const limits: SharePartitionLimits = { deliveryCountLimit: 3, partitionMaxRecordLocks: 8, recordLockDurationMs: 100 };

/** A log of `count` offsets in batches of `size`, every `controlEvery`-th batch a control batch. */
function logBatches(count: number, size: number, controlEvery = 0): BatchSpan[] {
  const batches: BatchSpan[] = [];
  for (let base = 0, i = 1; base < count; base += size, i++) {
    batches.push({ baseOffset: base, lastOffset: Math.min(base + size, count) - 1, isControl: controlEvery > 0 && i % controlEvery === 0 });
  }
  return batches;
}

function readFrom(batches: readonly BatchSpan[], offset: number): BatchSpan[] {
  return batches.filter((b) => b.lastOffset >= offset);
}

function acquireOnce(partition: SharePartition, member: string, batches: readonly BatchSpan[], hw: number, nowMs: number, max = 100) {
  const from = partition.nextAcquirableOffset(hw);
  return from === undefined ? [] : partition.acquire(member, readFrom(batches, from), nowMs, max);
}

describe('share record state table', () => {
  it('allows only the KIP-932 transitions and asserts on the rest', () => {
    expect(canTransition('AVAILABLE', 'ACQUIRED')).toBe(true);
    expect(canTransition('ACQUIRED', 'ACKNOWLEDGED')).toBe(true);
    expect(canTransition('ACKNOWLEDGED', 'ACQUIRED')).toBe(false);
    expect(canTransition('ARCHIVED', 'AVAILABLE')).toBe(false);
    expect(canTransition('AVAILABLE', 'ACKNOWLEDGED')).toBe(false);
    expect(() => transition({ offset: 7, state: RecordState.ACKNOWLEDGED }, RecordState.AVAILABLE)).toThrow(/offset 7 cannot move from ACKNOWLEDGED to AVAILABLE/);
  });
});

describe('SharePartition', () => {
  it('acquires up to the record-lock bound, then only after the start offset moves', () => {
    const batches = logBatches(20, 5);
    const partition = SharePartition.create(0, limits);
    expect(acquireOnce(partition, 'a', batches, 20, 0)).toEqual([{ firstOffset: 0, lastOffset: 7, deliveryCount: 1 }]);
    expect(partition.nextAcquirableOffset(20)).toBeUndefined();
    expect(partition.acknowledge('a', [{ firstOffset: 0, lastOffset: 2, acknowledgeTypes: [AcknowledgeType.ACCEPT] }])).toEqual({ errorCode: 0, deadLetters: [] });
    expect(partition.startOffset).toBe(3);
    expect(acquireOnce(partition, 'b', batches, 20, 0)).toEqual([{ firstOffset: 8, lastOffset: 10, deliveryCount: 1 }]);
    partition.assertInvariants();
  });

  it('refuses acknowledgements of records the member does not hold, changing nothing', () => {
    const batches = logBatches(10, 10);
    const partition = SharePartition.create(0, limits);
    acquireOnce(partition, 'a', batches, 10, 0, 4);
    const before = partition.snapshot();
    const outcome = partition.acknowledge('b', [{ firstOffset: 0, lastOffset: 0, acknowledgeTypes: [AcknowledgeType.ACCEPT] }]);
    expect(outcome.errorCode).toBe(ErrorCode.INVALID_RECORD_STATE);
    expect(partition.acknowledge('a', [{ firstOffset: 2, lastOffset: 5, acknowledgeTypes: [AcknowledgeType.ACCEPT] }]).errorCode).toBe(ErrorCode.INVALID_RECORD_STATE);
    expect(partition.acknowledge('a', [{ firstOffset: 0, lastOffset: 1, acknowledgeTypes: [1, 1, 1] }]).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(partition.acknowledge('a', [{ firstOffset: 0, lastOffset: 0, acknowledgeTypes: [4] }]).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(partition.snapshot()).toEqual(before);
    expect(partition.inFlight(0)?.state).toBe(RecordState.ACQUIRED);
  });

  it('redelivers on lock expiry and dead-letters at the delivery limit', () => {
    const batches = logBatches(1, 1);
    const partition = SharePartition.create(0, limits);
    for (let delivery = 1; delivery <= 3; delivery++) {
      expect(acquireOnce(partition, 'a', batches, 1, delivery * 1000)).toEqual([{ firstOffset: 0, lastOffset: 0, deliveryCount: delivery }]);
      const expired = partition.expireLocks(delivery * 1000 + 100);
      expect(expired).toEqual(delivery < 3 ? [] : [{ offset: 0, deliveryCount: 3, reason: 'delivery-limit' }]);
    }
    expect(partition.inFlight(0)).toMatchObject({ state: RecordState.ACQUIRED, memberId: DEAD_LETTER_OWNER });
    expect(acquireOnce(partition, 'a', batches, 1, 10_000)).toEqual([]);
    partition.completeDeadLetters([0]);
    expect(partition.startOffset).toBe(1);
  });

  it('archives control batches without handing them out', () => {
    const partition = SharePartition.create(0, limits);
    const batches: BatchSpan[] = [
      { baseOffset: 0, lastOffset: 1, isControl: false },
      { baseOffset: 2, lastOffset: 2, isControl: true },
      { baseOffset: 3, lastOffset: 3, isControl: false },
    ];
    expect(acquireOnce(partition, 'a', batches, 4, 0)).toEqual([
      { firstOffset: 0, lastOffset: 1, deliveryCount: 1 },
      { firstOffset: 3, lastOffset: 3, deliveryCount: 1 },
    ]);
    expect(partition.inFlight(2)?.state).toBe(RecordState.ARCHIVED);
  });

  it('restores acquired records as available with their delivery count', () => {
    const batches = logBatches(6, 3);
    const partition = SharePartition.create(0, limits);
    acquireOnce(partition, 'a', batches, 6, 0);
    partition.acknowledge('a', [{ firstOffset: 0, lastOffset: 1, acknowledgeTypes: [AcknowledgeType.ACCEPT, AcknowledgeType.RELEASE] }]);
    const restored = SharePartition.fromSnapshot(partition.snapshot(), limits);
    restored.assertInvariants();
    expect(restored.startOffset).toBe(1);
    expect(acquireOnce(restored, 'b', batches, 6, 0)).toEqual([
      { firstOffset: 1, lastOffset: 5, deliveryCount: 2 },
    ]);
  });

  const op = fc.oneof(
    fc.record({ kind: fc.constant('acquire' as const), member: fc.constantFrom('a', 'b', 'c'), max: fc.integer({ min: 1, max: 6 }) }),
    fc.record({ kind: fc.constant('ack' as const), member: fc.constantFrom('a', 'b', 'c'), pick: fc.integer({ min: 0, max: 30 }), len: fc.integer({ min: 1, max: 4 }), types: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }) }),
    fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 150 }) }),
    fc.record({ kind: fc.constant('leave' as const), member: fc.constantFrom('a', 'b', 'c') }),
    fc.record({ kind: fc.constant('deadLetters' as const), fail: fc.boolean() }),
    fc.record({ kind: fc.constant('restart' as const) }),
    fc.record({ kind: fc.constant('moveStart' as const), by: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ kind: fc.constant('setLimits' as const), deliveryCountLimit: fc.integer({ min: 1, max: 4 }) }),
  );
  const ladders = fc.constantFrom<readonly number[]>([], [10], [5, 40, 120]);

  /** What `nextAcquirableOffset` must answer, from the records as `inFlight` shows them. */
  function expectedAcquirable(partition: SharePartition, current: SharePartitionLimits, hw: number): number | undefined {
    for (let o = partition.startOffset; o < partition.endOffset; o++) {
      const r = partition.inFlight(o)!;
      if (r.state === RecordState.AVAILABLE && r.deliveryCount < current.deliveryCountLimit && r.availableAtMs === 0) return o;
    }
    return partition.endOffset < hw && partition.endOffset - partition.startOffset < current.partitionMaxRecordLocks ? partition.endOffset : undefined;
  }

  it('never redelivers an acknowledged record, never exceeds the delivery limit, and accounts for every offset below the end', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 4 }), ladders, fc.array(op, { maxLength: 80 }), (count, size, controlEvery, retryBackoffMs, ops) => {
        let current: SharePartitionLimits = { ...limits, retryBackoffMs };
        const batches = logBatches(count, size, controlEvery);
        const controlOffsets = new Set(batches.filter((b) => b.isControl).flatMap((b) => Array.from({ length: b.lastOffset - b.baseOffset + 1 }, (_, i) => b.baseOffset + i)));
        let partition = SharePartition.create(0, current);
        let nowMs = 0;
        let logStart = 0;
        const acknowledged = new Set<number>();
        const done = new Set<number>();
        const pendingDeadLetters = new Set<number>();
        const track = (tasks: readonly { offset: number }[]) => tasks.forEach((t) => pendingDeadLetters.add(t.offset));
        for (const step of ops) {
          if (step.kind === 'acquire') {
            for (const range of acquireOnce(partition, step.member, batches, count, nowMs, step.max)) {
              for (let o = range.firstOffset; o <= range.lastOffset; o++) {
                expect(acknowledged.has(o)).toBe(false);
                expect(done.has(o)).toBe(false);
                expect(controlOffsets.has(o)).toBe(false);
                expect(range.deliveryCount).toBeLessThanOrEqual(current.deliveryCountLimit);
              }
            }
          } else if (step.kind === 'ack') {
            const first = partition.startOffset + step.pick;
            const last = first + step.len - 1;
            const types = step.types.length === step.len ? step.types : step.types.slice(0, 1);
            const outcome = partition.acknowledge(step.member, [{ firstOffset: first, lastOffset: last, acknowledgeTypes: types }]);
            if ('deadLetters' in outcome) {
              for (let o = first; o <= last; o++) {
                const type = types.length === 1 ? types[0] : types[o - first];
                if (type === AcknowledgeType.ACCEPT) acknowledged.add(o);
                if (type === AcknowledgeType.ACCEPT || type === AcknowledgeType.GAP) done.add(o);
              }
              track(outcome.deadLetters);
            }
          } else if (step.kind === 'tick') {
            nowMs += step.ms;
            track(partition.expireLocks(nowMs));
            partition.endDueBackoffs(nowMs);
          } else if (step.kind === 'leave') {
            track(partition.releaseMember(step.member, nowMs));
          } else if (step.kind === 'deadLetters') {
            const offsets = [...pendingDeadLetters];
            pendingDeadLetters.clear();
            if (step.fail) partition.failDeadLetters(offsets);
            else {
              partition.completeDeadLetters(offsets);
              offsets.forEach((o) => done.add(o));
            }
          } else if (step.kind === 'restart') {
            partition = SharePartition.fromSnapshot(partition.snapshot(), current);
            pendingDeadLetters.clear();
          } else if (step.kind === 'setLimits') {
            current = { ...current, deliveryCountLimit: step.deliveryCountLimit };
            partition.setLimits(current);
          } else {
            logStart = Math.min(count, logStart + step.by);
            if (partition.moveStartOffset(logStart)) for (let o = 0; o < logStart; o++) done.add(o);
          }
          partition.assertInvariants();
          expect(partition.nextAcquirableOffset(count)).toBe(expectedAcquirable(partition, current, count));
          for (let o = 0; o < partition.endOffset; o++) {
            if (o < partition.startOffset) expect(done.has(o) || controlOffsets.has(o)).toBe(true);
            else expect(partition.inFlight(o)).toBeDefined();
          }
          for (const o of acknowledged) {
            if (o >= partition.startOffset) expect(partition.inFlight(o)?.state).toBe(RecordState.ACKNOWLEDGED);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});
