import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
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
      const view = new DataView(bytes.buffer);
      view.setInt32(0, Math.floor(timestamp / 0x1_0000_0000));
      view.setUint32(4, timestamp >>> 0);
      bytes.set(valueBytes, TIMESTAMP_BYTES);
      return bytes;
    },
    deserialize: (bytes) => {
      if (bytes.length < TIMESTAMP_BYTES) throw new KafkaError('CORRUPT_MESSAGE', `a timestamped value needs at least ${TIMESTAMP_BYTES} bytes, got ${bytes.length}`);
      const view = new DataView(bytes.buffer, bytes.byteOffset, TIMESTAMP_BYTES);
      const timestamp = view.getInt32(0) * 0x1_0000_0000 + view.getUint32(4);
      return { value: inner.deserialize(bytes.subarray(TIMESTAMP_BYTES)), timestamp };
    },
  };
}
