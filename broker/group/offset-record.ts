import { decode, encode } from '@msgpack/msgpack';

/**
 * Records of the internal topic `__consumer_offsets`, keys and values in msgpack.
 *
 *   key   = [keyType: 1, groupId: string, topic: string, partition: int]      (an offset commit)
 *   value = [valueVersion: 1, offset: int, metadata: string, commitTimestampMs: int, expireTimestampMs: int]
 *           expireTimestampMs is -1 unless the commit carried its own retention (OffsetCommit v2-v4).
 *   value = null (a tombstone): the offset was deleted (OffsetDelete, DeleteGroups, retention expiry).
 *
 * The last record per key wins, so compaction may keep only that one. Key types other than 1 are
 * reserved (Kafka stores group metadata under its own key type) and skipped when reading.
 */
export const OFFSET_COMMIT_KEY_TYPE = 1;
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

export function encodeOffsetKey(key: OffsetKey): Uint8Array {
  return encode([OFFSET_COMMIT_KEY_TYPE, key.groupId, key.topic, key.partition]);
}

export function encodeOffsetValue(value: OffsetValue): Uint8Array {
  return encode([OFFSET_COMMIT_VALUE_VERSION, value.offset, value.metadata, value.commitTimestampMs, value.expireTimestampMs]);
}

function isInteger(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x);
}

/** The offset key, or undefined for a key type this version does not read. Throws on a malformed key. */
export function decodeOffsetKey(bytes: Uint8Array): OffsetKey | undefined {
  const key = decode(bytes);
  if (!Array.isArray(key) || !isInteger(key[0])) throw new Error('invariant: __consumer_offsets key is not a typed msgpack array');
  if (key[0] !== OFFSET_COMMIT_KEY_TYPE) return undefined;
  const [, groupId, topic, partition] = key as unknown[];
  if (typeof groupId !== 'string' || typeof topic !== 'string' || !isInteger(partition)) {
    throw new Error('invariant: malformed offset commit key in __consumer_offsets');
  }
  return { groupId, topic, partition };
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
