import { decode, encode } from '@msgpack/msgpack';
import type { PersistedRange, PersistedState, SharePartitionSnapshot } from './share-partition.ts';

/**
 * Records of the internal topic `__share_group_state` (Kafka's name), compacted: one key per share
 * partition, the last value wins. Keys and values are msgpack arrays:
 *
 *   key   = [1, groupId: string, topicId: string (UUID), partition: int]
 *   value = [valueVersion: 2, startOffset: int, ranges: [firstOffset, lastOffset, state, deliveryCount, availableAtMs, ...]]
 *           flattened quintuples, contiguous from startOffset; state 0 AVAILABLE, 2 ACKNOWLEDGED,
 *           4 ARCHIVED (Kafka's RecordState ids). An ACQUIRED record is written as AVAILABLE with its
 *           delivery count, so after a restart it is delivered again and counted. availableAtMs is
 *           when an AVAILABLE record's retry backoff ends (wall-clock ms; 0 for none), so a restart
 *           keeps the backoff.
 *           Version 1 (written before retry backoff) has quadruples without availableAtMs; it is
 *           still read.
 *   value = null (a tombstone): the share partition's state is deleted.
 *
 * The topic id, not the name, names the topic: a topic deleted and created again under the same
 * name starts with no share state.
 */
export const SHARE_STATE_KEY_TYPE = 1;
const SHARE_STATE_VALUE_VERSION = 2;
/** Fields per range in each value version. */
const RANGE_WIDTH: Readonly<Record<number, number>> = { 1: 4, 2: 5 };

export interface ShareStateKey {
  groupId: string;
  topicId: string;
  partition: number;
}

const STATE_IDS: Readonly<Record<PersistedState, number>> = { AVAILABLE: 0, ACKNOWLEDGED: 2, ARCHIVED: 4 };
const STATES_BY_ID = new Map<number, PersistedState>(Object.entries(STATE_IDS).map(([state, id]) => [id, state as PersistedState]));

function isInteger(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x);
}

export function encodeShareStateKey(key: ShareStateKey): Uint8Array {
  return encode([SHARE_STATE_KEY_TYPE, key.groupId, key.topicId, key.partition]);
}

export function encodeShareStateValue(snapshot: SharePartitionSnapshot): Uint8Array {
  const flat: number[] = [];
  for (const r of snapshot.ranges) flat.push(r.firstOffset, r.lastOffset, STATE_IDS[r.state], r.deliveryCount, r.availableAtMs);
  return encode([SHARE_STATE_VALUE_VERSION, snapshot.startOffset, flat]);
}

/** The key, or undefined for a key type this version does not read. Throws on a malformed key. */
export function decodeShareStateKey(bytes: Uint8Array): ShareStateKey | undefined {
  const key = decode(bytes);
  if (!Array.isArray(key) || !isInteger(key[0])) throw new Error('invariant: __share_group_state key is not a typed msgpack array');
  if (key[0] !== SHARE_STATE_KEY_TYPE) return undefined;
  const [, groupId, topicId, partition] = key as unknown[];
  if (typeof groupId !== 'string' || typeof topicId !== 'string' || !isInteger(partition)) throw new Error('invariant: malformed __share_group_state key');
  return { groupId, topicId, partition };
}

export function decodeShareStateValue(bytes: Uint8Array): SharePartitionSnapshot {
  const value = decode(bytes);
  const width = Array.isArray(value) ? RANGE_WIDTH[value[0] as number] : undefined;
  if (!Array.isArray(value) || width === undefined || !isInteger(value[1]) || !Array.isArray(value[2])) {
    throw new Error('invariant: malformed __share_group_state value');
  }
  const flat = value[2] as unknown[];
  if (flat.length % width !== 0 || !flat.every(isInteger)) throw new Error('invariant: malformed __share_group_state ranges');
  const ranges: PersistedRange[] = [];
  for (let i = 0; i < flat.length; i += width) {
    const state = STATES_BY_ID.get(flat[i + 2] as number);
    if (state === undefined) throw new Error(`invariant: unknown share record state id ${String(flat[i + 2])}`);
    const availableAtMs = width === 5 ? (flat[i + 4] as number) : 0;
    ranges.push({ firstOffset: flat[i] as number, lastOffset: flat[i + 1] as number, state, deliveryCount: flat[i + 3] as number, availableAtMs });
  }
  return { startOffset: value[1] as number, ranges };
}
