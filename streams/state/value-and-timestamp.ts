import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { readInt64BE, writeInt64BE } from '../../sdk/serde/int64.ts';
import type { Serde } from '../../sdk/serde/serde.ts';
import { BINARY_CODEC, binaryCodec, type WithBinaryCodec } from './binary-codec.ts';
import type { BinaryString } from './binary-string.ts';

/** A table's value for one key with the timestamp of the record that last changed it (Kafka Streams' ValueAndTimestamp). */
export interface ValueAndTimestamp<V> {
  readonly value: V;
  readonly timestamp: number;
}

const TIMESTAMP_BYTES = 8;

/**
 * The store and changelog format of a table's values, Kafka Streams' timestamped format:
 *
 *   0  timestamp  int64, big-endian (ms since the epoch)
 *   8  value      the inner serde's bytes
 *
 * A deleted key is a changelog tombstone, never a value of this format.
 */
export function timestampedSerde<V>(inner: Serde<V>): Serde<ValueAndTimestamp<V>> & WithBinaryCodec<ValueAndTimestamp<V>> {
  const innerCodec = binaryCodec(inner);
  const serde: Serde<ValueAndTimestamp<V>> & WithBinaryCodec<ValueAndTimestamp<V>> = {
    // Stores hold values as binary strings: the timestamp's 8 chars and the inner value's binary
    // string, with no byte arrays in between (a store decodes on every read of committed state
    // and encodes every flushed value).
    [BINARY_CODEC]: {
      encode: ({ value, timestamp }) => binaryOfInt64(timestamp) + innerCodec.encode(value),
      decode: (binary) => {
        if (binary.length < TIMESTAMP_BYTES) throw new KafkaError('CORRUPT_MESSAGE', `a timestamped value needs at least ${TIMESTAMP_BYTES} bytes, got ${binary.length}`);
        return { value: innerCodec.decode(binary.slice(TIMESTAMP_BYTES)), timestamp: int64OfBinary(binary) };
      },
    },
    serialize: ({ value, timestamp }) => {
      const valueBytes = inner.serialize(value);
      const bytes = new Uint8Array(TIMESTAMP_BYTES + valueBytes.length);
      writeInt64BE(bytes, 0, timestamp);
      bytes.set(valueBytes, TIMESTAMP_BYTES);
      return bytes;
    },
    deserialize: (bytes) => {
      if (bytes.length < TIMESTAMP_BYTES) throw new KafkaError('CORRUPT_MESSAGE', `a timestamped value needs at least ${TIMESTAMP_BYTES} bytes, got ${bytes.length}`);
      return { value: inner.deserialize(bytes.subarray(TIMESTAMP_BYTES)), timestamp: readInt64BE(bytes, 0) };
    },
  };
  TIMESTAMPED.set(serde, inner as Serde<unknown>);
  return serde;
}

/** The timestamped serdes made here, with their inner serdes: interactive queries unwrap their values and render the inner type. */
const TIMESTAMPED = new WeakMap<object, Serde<unknown>>();

/** The inner serde of a serde `timestampedSerde` made, undefined for any other serde. */
export function innerOfTimestampedSerde(serde: Serde<unknown>): Serde<unknown> | undefined {
  return TIMESTAMPED.get(serde);
}

const TWO_32 = 0x1_0000_0000;

/** `value` (a safe integer) as 8 chars, big-endian: the binary string of writeInt64BE's bytes. */
function binaryOfInt64(value: number): BinaryString {
  const high = Math.floor(value / TWO_32);
  const low = value - high * TWO_32;
  return String.fromCharCode((high >>> 24) & 0xff, (high >>> 16) & 0xff, (high >>> 8) & 0xff, high & 0xff, (low >>> 24) & 0xff, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff);
}

/** The big-endian integer in the first 8 chars of a binary string (as readInt64BE reads bytes). */
function int64OfBinary(binary: BinaryString): number {
  const high = (binary.charCodeAt(0) << 24) | (binary.charCodeAt(1) << 16) | (binary.charCodeAt(2) << 8) | binary.charCodeAt(3);
  const low = ((binary.charCodeAt(4) << 24) | (binary.charCodeAt(5) << 16) | (binary.charCodeAt(6) << 8) | binary.charCodeAt(7)) >>> 0;
  return high * TWO_32 + low;
}
