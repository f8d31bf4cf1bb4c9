import { decode, encode } from '@msgpack/msgpack';

/**
 * Records of the internal topic `__consumer_offsets`. Keys and values are msgpack arrays; a key's
 * first element is its type, a value's first element its version. Kafka's key types:
 *
 *   key type 1, an offset commit:
 *     key   = [1, groupId: string, topic: string, partition: int]
 *     value = [valueVersion: 1, offset: int, metadata: string, commitTimestampMs: int, expireTimestampMs: int]
 *             expireTimestampMs is -1 unless the commit carried its own retention (OffsetCommit v2-v4).
 *     value = null (a tombstone): the offset was deleted (OffsetDelete, DeleteGroups, retention expiry).
 *
 *   key type 2, a group's metadata: membership, generation and assignments; the key and value are
 *     laid out in group-metadata-record.ts.
 *
 * The last record per key wins, so compaction may keep only that one. Other key types are
 * reserved and skipped when reading, so records a later version adds do not stop this one.
 */
export const OFFSET_COMMIT_KEY_TYPE = 1;
export const GROUP_METADATA_KEY_TYPE = 2;
const OFFSET_COMMIT_VALUE_VERSION = 1;

export interface OffsetKey {
  groupId: string;
  topic: string;
  partition: number;
}

export interface OffsetValue {
  offset: number;
  metadata: string;
  commitTimestampMs: number;
  /** -1 when the group's retention applies. */
  expireTimestampMs: number;
}

/** A `__consumer_offsets` key this version reads. */
export type ConsumerOffsetsKey = { type: typeof OFFSET_COMMIT_KEY_TYPE; offset: OffsetKey } | { type: typeof GROUP_METADATA_KEY_TYPE; groupId: string };

export function encodeOffsetKey(key: OffsetKey): Uint8Array {
  return encode([OFFSET_COMMIT_KEY_TYPE, key.groupId, key.topic, key.partition]);
}

export function encodeOffsetValue(value: OffsetValue): Uint8Array {
  return encode([OFFSET_COMMIT_VALUE_VERSION, value.offset, value.metadata, value.commitTimestampMs, value.expireTimestampMs]);
}

export function encodeGroupMetadataKey(groupId: string): Uint8Array {
  return encode([GROUP_METADATA_KEY_TYPE, groupId]);
}

export function isInteger(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x);
}

/** The key, or undefined for a key type this version does not read. Throws on a malformed key. */
export function decodeConsumerOffsetsKey(bytes: Uint8Array): ConsumerOffsetsKey | undefined {
  const key = decode(bytes);
  if (!Array.isArray(key) || !isInteger(key[0])) throw new Error('invariant: __consumer_offsets key is not a typed msgpack array');
  if (key[0] === OFFSET_COMMIT_KEY_TYPE) {
    const [, groupId, topic, partition] = key as unknown[];
    if (typeof groupId !== 'string' || typeof topic !== 'string' || !isInteger(partition)) {
      throw new Error('invariant: malformed offset commit key in __consumer_offsets');
    }
    return { type: OFFSET_COMMIT_KEY_TYPE, offset: { groupId, topic, partition } };
  }
  if (key[0] === GROUP_METADATA_KEY_TYPE) {
    const [, groupId] = key as unknown[];
    if (typeof groupId !== 'string') throw new Error('invariant: malformed group metadata key in __consumer_offsets');
    return { type: GROUP_METADATA_KEY_TYPE, groupId };
  }
  return undefined;
}

export function decodeOffsetValue(bytes: Uint8Array): OffsetValue {
  const value = decode(bytes);
  if (!Array.isArray(value) || value[0] !== OFFSET_COMMIT_VALUE_VERSION) {
    throw new Error('invariant: unknown offset commit value version in __consumer_offsets');
  }
  const [, offset, metadata, commitTimestampMs, expireTimestampMs] = value as unknown[];
  if (!isInteger(offset) || typeof metadata !== 'string' || !isInteger(commitTimestampMs) || !isInteger(expireTimestampMs)) {
    throw new Error('invariant: malformed offset commit value in __consumer_offsets');
  }
  return { offset, metadata, commitTimestampMs, expireTimestampMs };
}
