import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SharePartition, type SharePartitionLimits } from '../../../../broker/share/share-partition.ts';
import { AcknowledgeType } from '../../../../sdk/protocol/acknowledge-type.ts';
import { decodeShareStateValue, encodeShareStateValue } from '../../../../broker/share/share-state-record.ts';

const limits: SharePartitionLimits = { deliveryCountLimit: 5, partitionMaxRecordLocks: 10, recordLockDurationMs: 100, retryBackoffMs: [10, 50] };
const span = [{ baseOffset: 0, lastOffset: 1, isControl: false }];
const release = [{ firstOffset: 0, lastOffset: 0, acknowledgeTypes: [AcknowledgeType.RELEASE] }];

describe('SharePartition retry backoff', () => {
  it('waits ladder[deliveryCount-1] after each return, the last step repeating, and keeps the window bound', () => {
    const p = SharePartition.create(0, limits);
    expect(p.acquire('a', span, 0, 10).map((r) => r.firstOffset)).toEqual([0]);
    expect(p.acquire('a', span, 0, 10)).toEqual([]);
    let now = 1_000;
    for (const [delivery, wait] of [[1, 10], [2, 50], [3, 50], [4, 50]] as const) {
      expect(p.acknowledge('a', release, now)).toEqual({ errorCode: 0, deadLetters: [] });
      expect(p.nextBackoffEndMs()).toBe(now + wait);
      expect(p.endDueBackoffs(now + wait - 1)).toBe(false);
      expect(p.nextAcquirableOffset(2)).toBe(undefined);
      expect(p.acquire('a', span, now + wait - 1, 10)).toEqual([]);
      expect(p.endDueBackoffs(now + wait)).toBe(true);
      expect(p.nextAcquirableOffset(2)).toBe(0);
      expect(p.acquire('a', span, now + wait, 10)).toEqual([{ firstOffset: 0, lastOffset: 0, deliveryCount: delivery + 1 }]);
      now += wait;
      p.assertInvariants();
    }
    // At the limit a release dead-letters at once.
    expect(p.acknowledge('a', release, now)).toMatchObject({ deadLetters: [{ offset: 0, reason: 'delivery-limit' }] });
    expect(p.nextBackoffEndMs()).toBe(Infinity);
  });

  it('a lock expiry starts the backoff too; a snapshot keeps the due time and drops it for acquired records', () => {
    const p = SharePartition.create(0, limits);
    p.acquire('a', span, 0, 10);
    expect(p.expireLocks(100)).toEqual([]);
    expect(p.nextBackoffEndMs()).toBe(110);
    const restored = SharePartition.fromSnapshot(decodeShareStateValue(encodeShareStateValue(p.snapshot())), limits);
    expect(restored.snapshot()).toEqual(p.snapshot());
    expect(restored.nextBackoffEndMs()).toBe(110);
    expect(restored.acquire('b', span, 109, 10)).toEqual([]);
    restored.endDueBackoffs(110);
    expect(restored.acquire('b', span, 110, 10)).toEqual([{ firstOffset: 0, lastOffset: 1, deliveryCount: 2 }]);
    // Acquired records persist as available at once: the restart, not a failure, ended their lock.
    expect(restored.snapshot().ranges[0]).toMatchObject({ state: 'AVAILABLE', availableAtMs: 0 });
  });

  it('reads state written before retry backoff (value version 1) as available at once', () => {
    const v1 = encode([1, 4, [4, 6, 0, 2, 7, 7, 2, 1]]);
    expect(decodeShareStateValue(v1)).toEqual({
      startOffset: 4,
      ranges: [
        { firstOffset: 4, lastOffset: 6, state: 'AVAILABLE', deliveryCount: 2, availableAtMs: 0 },
        { firstOffset: 7, lastOffset: 7, state: 'ACKNOWLEDGED', deliveryCount: 1, availableAtMs: 0 },
      ],
    });
    expect(() => decodeShareStateValue(encode([3, 0, []]))).toThrow(/malformed/);
  });

  it('round-trips any snapshot through the value codec', () => {
    const range = fc.record({ len: fc.integer({ min: 1, max: 5 }), state: fc.constantFrom('AVAILABLE' as const, 'ACKNOWLEDGED' as const, 'ARCHIVED' as const), deliveryCount: fc.integer({ min: 0, max: 9 }), availableAtMs: fc.nat() });
    fc.assert(
      fc.property(fc.nat({ max: 1e9 }), fc.array(range, { maxLength: 8 }), (startOffset, parts) => {
        let at = startOffset;
        const ranges = parts.map((r) => {
          const out = { firstOffset: at, lastOffset: at + r.len - 1, state: r.state, deliveryCount: r.deliveryCount, availableAtMs: r.availableAtMs };
          at += r.len;
          return out;
        });
        expect(decodeShareStateValue(encodeShareStateValue({ startOffset, ranges }))).toEqual({ startOffset, ranges });
      }),
    );
  });
});
