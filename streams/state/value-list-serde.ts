import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import type { Serde } from '../../sdk/serde/serde.ts';

/**
 * Several values in one store value: what a stream-stream join keeps per key and timestamp, so that
 * records of one key at one timestamp are all kept (Kafka Streams' join stores retain duplicates
 * with a sequence number in the key instead; a list keeps the window store's one value per key and
 * start). Format, in the store, its changelog and its snapshots:
 *
 *   0  count   int32, big-endian: the number of values (at least one)
 *   4  values  per value: its length (int32, big-endian), then the inner serde's bytes
 */
export function valueListSerde<V>(inner: Serde<V>): Serde<readonly V[]> {
  return {
    serialize: (values) => {
      const encoded = values.map((v) => inner.serialize(v));
      const bytes = new Uint8Array(4 + encoded.reduce((sum, e) => sum + 4 + e.length, 0));
      const view = new DataView(bytes.buffer);
      view.setInt32(0, encoded.length);
      let at = 4;
      for (const e of encoded) {
        view.setInt32(at, e.length);
        bytes.set(e, at + 4);
        at += 4 + e.length;
      }
      return bytes;
    },
    deserialize: (bytes) => {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const corrupt = (why: string): KafkaError => new KafkaError('CORRUPT_MESSAGE', `a join store's value list of ${bytes.length} bytes is malformed: ${why}`);
      if (bytes.length < 4) throw corrupt('no count');
      const count = view.getInt32(0);
      if (count < 1) throw corrupt(`count ${count}`);
      const values: V[] = [];
      let at = 4;
      for (let i = 0; i < count; i++) {
        if (at + 4 > bytes.length) throw corrupt(`value ${i} has no length`);
        const length = view.getInt32(at);
        if (length < 0 || at + 4 + length > bytes.length) throw corrupt(`value ${i} has length ${length}`);
        values.push(inner.deserialize(bytes.subarray(at + 4, at + 4 + length)));
        at += 4 + length;
      }
      if (at !== bytes.length) throw corrupt(`${bytes.length - at} bytes after the last value`);
      return values;
    },
  };
}
