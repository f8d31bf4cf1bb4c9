import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { readInt64BE, writeInt64BE } from '../../sdk/serde/int64.ts';
import type { Serde } from '../../sdk/serde/serde.ts';

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
export function timestampedSerde<V>(inner: Serde<V>): Serde<ValueAndTimestamp<V>> {
  return {
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
}
