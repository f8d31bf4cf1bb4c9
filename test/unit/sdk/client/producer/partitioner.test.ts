import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jumpConsistentHash, jumpHashPartitioner, murmur2Partitioner } from '../../../../../sdk/client/producer/partitioner.ts';

const require = createRequire(import.meta.url);
const { Partitioners } = require('kafkajs') as {
  Partitioners: { DefaultPartitioner: () => (args: { topic: string; partitionMetadata: { partitionId: number }[]; message: { key: Buffer } }) => number };
};
const kafkajsPartition = Partitioners.DefaultPartitioner();

describe('murmur2Partitioner', () => {
  it('puts every key on the same partition as kafkajs DefaultPartitioner (Java-compatible)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 500 }), (key, partitionCount) => {
        const partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({ partitionId }));
        const expected = kafkajsPartition({ topic: 't', partitionMetadata, message: { key: Buffer.from(key) } });
        expect(murmur2Partitioner.partition({ topic: 't', key, partitionCount })).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves keyless records to the sticky choice', () => {
    expect(murmur2Partitioner.partition({ topic: 't', key: null, partitionCount: 3 })).toBeUndefined();
  });
});

describe('jump consistent hash', () => {
  it('moves keys only onto the new partition when partitions are added', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.integer({ min: 1, max: 300 }), (key, n) => {
        const before = jumpHashPartitioner.partition({ topic: 't', key, partitionCount: n })!;
        const after = jumpHashPartitioner.partition({ topic: 't', key, partitionCount: n + 1 })!;
        expect(before).toBeGreaterThanOrEqual(0);
        expect(before).toBeLessThan(n);
        expect(after === before || after === n).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('puts every key in bucket 0 of 1', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (key) => {
      expect(jumpConsistentHash(key, 1)).toBe(0);
    }));
  });

  it('spreads keys evenly enough over 10 partitions', () => {
    const counts = new Array<number>(10).fill(0);
    const utf8 = new TextEncoder();
    for (let i = 0; i < 10_000; i++) counts[jumpHashPartitioner.partition({ topic: 't', key: utf8.encode(`key-${i}`), partitionCount: 10 })!]!++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });
});
