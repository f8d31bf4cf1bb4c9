import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { readInt64BE, writeInt64BE } from '../../sdk/serde/int64.ts';
import type { Serde } from '../../sdk/serde/serde.ts';
import { valueListSerde } from './value-list-serde.ts';

/** The side of a stream-stream join a record came from. */
export type JoinSide = 'left' | 'right';

/**
 * A key of a left/outer join's shared store of records still waiting for a match (Kafka Streams'
 * TimestampedKeyAndJoinSide). `key` undefined is a range bound: it sorts before every key of its
 * side and timestamp.
 */
export interface JoinSideKey<K> {
  readonly side: JoinSide;
  readonly timestampMs: number;
  readonly key?: K;
}

/** The unmatched values of one key at one timestamp of one side (Kafka Streams' LeftOrRightValue, with duplicates kept). */
export type JoinSideValues<VL, VR> = { readonly side: 'left'; readonly values: readonly VL[] } | { readonly side: 'right'; readonly values: readonly VR[] };

const SIDE_BYTE = { left: 0, right: 1 } as const;

function sideOf(byte: number | undefined, what: string): JoinSide {
  if (byte === SIDE_BYTE.left) return 'left';
  if (byte === SIDE_BYTE.right) return 'right';
  throw new KafkaError('CORRUPT_MESSAGE', `${what} has side byte ${String(byte)}`);
}

/**
 * The key layout of the shared outer-join store, its changelog and its snapshots:
 *
 *   0  side       1 byte: 0 left, 1 right
 *   1  timestamp  int64, big-endian: the record's timestamp (never negative)
 *   9  key        the key serde's bytes
 *
 * Side first, then timestamp (Kafka Streams puts the timestamp first): each side's records are in
 * timestamp order, so the ones whose window closed are a prefix of their side's range and the
 * scan for them stops at the first that is still open.
 */
export function joinSideKeySerde<K>(keySerde: Serde<K>): Serde<JoinSideKey<K>> {
  return {
    serialize: ({ side, timestampMs, key }) => {
      const keyBytes = key === undefined ? new Uint8Array(0) : keySerde.serialize(key);
      const bytes = new Uint8Array(9 + keyBytes.length);
      bytes[0] = SIDE_BYTE[side];
      writeInt64BE(bytes, 1, timestampMs);
      bytes.set(keyBytes, 9);
      return bytes;
    },
    deserialize: (bytes) => {
      if (bytes.length < 9) throw new KafkaError('CORRUPT_MESSAGE', `an outer-join store key needs at least 9 bytes, got ${bytes.length}`);
      return { side: sideOf(bytes[0], 'an outer-join store key'), timestampMs: readInt64BE(bytes, 1), key: keySerde.deserialize(bytes.subarray(9)) };
    },
  };
}

/**
 * The value layout of the shared outer-join store: a side byte (0 left, 1 right, as in the key),
 * then the values in `valueListSerde`'s format with that side's value serde.
 */
export function joinSideValuesSerde<VL, VR>(left: Serde<VL>, right: Serde<VR>): Serde<JoinSideValues<VL, VR>> {
  const lists = { left: valueListSerde(left), right: valueListSerde(right) };
  return {
    serialize: (entry) => {
      const list = entry.side === 'left' ? lists.left.serialize(entry.values) : lists.right.serialize(entry.values);
      const bytes = new Uint8Array(1 + list.length);
      bytes[0] = SIDE_BYTE[entry.side];
      bytes.set(list, 1);
      return bytes;
    },
    deserialize: (bytes) => {
      const side = sideOf(bytes[0], 'an outer-join store value');
      const rest = bytes.subarray(1);
      return side === 'left' ? { side, values: lists.left.deserialize(rest) } : { side, values: lists.right.deserialize(rest) };
    },
  };
}
