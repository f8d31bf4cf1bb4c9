/** Picks a record's partition. `undefined` leaves a keyless record to the producer's sticky choice. */
export interface Partitioner {
  partition(args: { topic: string; key: Uint8Array | null; partitionCount: number }): number | undefined;
}

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (Utils.murmur2 in the Java client), as a signed 32-bit integer. */
export function murmur2(data: Uint8Array, seed = SEED): number {
  const length = data.length;
  let h = (seed ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The Java client's default for keyed records: toPositive(murmur2(key)) % partitions, so a key
 * lands on the same partition whichever Kafka client wrote it. Keyless records go sticky.
 */
export const murmur2Partitioner: Partitioner = {
  partition: ({ key, partitionCount }) => (key === null ? undefined : (murmur2(key) & 0x7fffffff) % partitionCount),
};

const JUMP_MULTIPLIER = 2862933555777941757n;
const MASK_64 = (1n << 64n) - 1n;

/**
 * Lamping and Veach's jump consistent hash: growing `buckets` from n to n+1 moves only the keys
 * that land in the new bucket, about 1/(n+1) of them, and never between old buckets.
 */
export function jumpConsistentHash(key: bigint, buckets: number): number {
  let k = key & MASK_64;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    k = (k * JUMP_MULTIPLIER + 1n) & MASK_64;
    j = Math.floor(((b + 1) * 2 ** 31) / Number((k >> 33n) + 1n));
  }
  return b;
}

/** A 64-bit key hash from two murmur2 passes with different seeds. */
function hash64(key: Uint8Array): bigint {
  return (BigInt(murmur2(key) >>> 0) << 32n) | BigInt(murmur2(key, 0x5f3759df) >>> 0);
}

/**
 * Keyed records by jump consistent hash: adding partitions moves keys only onto the new partitions,
 * so per-key state held by a consumer of an old partition stays where it was.
 */
export const jumpHashPartitioner: Partitioner = {
  partition: ({ key, partitionCount }) => (key === null ? undefined : jumpConsistentHash(hash64(key), partitionCount)),
};
