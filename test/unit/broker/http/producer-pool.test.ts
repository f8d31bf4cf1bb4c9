import { describe, expect, it } from 'vitest';
import { INT32_MAX } from '../../../../broker/producer-state/sequence-number.ts';
import { ProducerPool } from '../../../../broker/http/producer-pool.ts';

function pool(maxIdle = 4): { pool: ProducerPool; allocated: number[] } {
  const allocated: number[] = [];
  let next = 100;
  return {
    allocated,
    pool: new ProducerPool(async () => {
      allocated.push(next);
      return { errorCode: 0, producerId: next++, producerEpoch: 0 };
    }, maxIdle),
  };
}

describe('ProducerPool', () => {
  it('reuses a producer after success with its sequences advanced per partition, and as it was after an unused lease', async () => {
    const { pool: p, allocated } = pool();
    const first = await p.lease('t', [{ partition: 0, recordCount: 3 }, { partition: 2, recordCount: 1 }]);
    expect(first.sequences).toEqual([[0, 0], [2, 0]]);
    first.succeeded();
    const second = await p.lease('t', [{ partition: 2, recordCount: 5 }, { partition: 0, recordCount: 1 }]);
    expect(second.producerId).toBe(first.producerId);
    expect(second.sequences).toEqual([[2, 1], [0, 3]]);
    second.unused();
    const third = await p.lease('u', [{ partition: 0, recordCount: 1 }, { partition: 2, recordCount: 1 }]);
    expect(third.sequences).toEqual([[0, 0], [2, 0]]);
    third.succeeded();
    expect((await p.lease('t', [{ partition: 2, recordCount: 1 }])).sequences).toEqual([[2, 1]]);
    expect(allocated).toEqual([100]);
  });

  it('gives concurrent leases different producers and never reuses a retired one', async () => {
    const { pool: p } = pool();
    const a = await p.lease('t', [{ partition: 0, recordCount: 1 }]);
    const b = await p.lease('t', [{ partition: 0, recordCount: 1 }]);
    expect(a.producerId).not.toBe(b.producerId);
    a.retire();
    b.succeeded();
    const c = await p.lease('t', [{ partition: 0, recordCount: 1 }]);
    const d = await p.lease('t', [{ partition: 0, recordCount: 1 }]);
    expect([c.producerId, d.producerId]).not.toContain(a.producerId);
    expect(c.producerId).toBe(b.producerId);
    expect(() => c.unused()).not.toThrow();
    expect(() => c.succeeded()).toThrow(/settled twice/);
  });

  it('keeps at most maxIdle producers and replaces one whose sequences would pass INT32_MAX', async () => {
    const { pool: p, allocated } = pool(1);
    const a = await p.lease('t', [{ partition: 0, recordCount: INT32_MAX - 1 }]);
    const b = await p.lease('t', [{ partition: 0, recordCount: 1 }]);
    a.succeeded();
    b.succeeded();
    const c = await p.lease('t', [{ partition: 0, recordCount: 2 }]);
    expect(c.producerId).not.toBe(a.producerId);
    expect(c.sequences).toEqual([[0, 0]]);
    expect(allocated).toHaveLength(3);
  });

  it('refuses with 503 when no producer id can be allocated', async () => {
    const p = new ProducerPool(async () => ({ errorCode: 15, producerId: -1, producerEpoch: -1 }), 4);
    await expect(p.lease('t', [{ partition: 0, recordCount: 1 }])).rejects.toMatchObject({ problem: { status: 503 }, headers: { 'retry-after': '1' } });
  });
});
