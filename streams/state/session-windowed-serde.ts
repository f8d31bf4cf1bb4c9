import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { readInt64BE, writeInt64BE } from '../../sdk/serde/int64.ts';
import type { Serde } from '../../sdk/serde/serde.ts';
import type { Windowed } from './windowed.ts';

const TIMESTAMP_BYTES = 8;
const SUFFIX_BYTES = 2 * TIMESTAMP_BYTES;

/** A session-windowed key serde, which knows its inner serde (a sink partitions session keys by the inner key's bytes). */
export interface SessionWindowedSerde<K> extends Serde<Windowed<K>> {
  readonly inner: Serde<K>;
  readonly sessionWindowed: true;
}

export function isSessionWindowedSerde(serde: Serde<unknown>): serde is SessionWindowedSerde<unknown> {
  return (serde as Partial<SessionWindowedSerde<unknown>>).sessionWindowed === true && typeof (serde as Partial<SessionWindowedSerde<unknown>>).inner === 'object';
}

/**
 * The serde of a session-windowed key on a topic, the layout of Kafka Streams'
 * SessionWindowedSerializer (SessionKeySchema.toBinary), so that its SessionWindowedDeserializer
 * reads what we write and back:
 *
 *   0       key    the inner serde's bytes
 *   n       end    int64, big-endian: the session's end (its last record's timestamp), ms
 *   n + 8   start  int64, big-endian: the session's start (its first record's timestamp), ms
 *
 * Unlike a time-windowed key, both bounds are written: sessions have no fixed size. Both are
 * inclusive (Kafka Streams' SessionWindow).
 */
export function sessionWindowedSerde<K>(inner: Serde<K>): SessionWindowedSerde<K> {
  return {
    inner,
    sessionWindowed: true,
    serialize: ({ key, window }) => {
      const keyBytes = inner.serialize(key);
      const bytes = new Uint8Array(keyBytes.length + SUFFIX_BYTES);
      bytes.set(keyBytes, 0);
      writeInt64BE(bytes, keyBytes.length, window.endMs);
      writeInt64BE(bytes, keyBytes.length + TIMESTAMP_BYTES, window.startMs);
      return bytes;
    },
    deserialize: (bytes) => {
      if (bytes.length < SUFFIX_BYTES) throw new KafkaError('CORRUPT_MESSAGE', `a session-windowed key needs at least ${SUFFIX_BYTES} bytes, got ${bytes.length}`);
      const at = bytes.length - SUFFIX_BYTES;
      const endMs = readInt64BE(bytes, at);
      const startMs = readInt64BE(bytes, at + TIMESTAMP_BYTES);
      if (!Number.isSafeInteger(startMs) || startMs < 0 || !Number.isSafeInteger(endMs) || endMs < startMs) {
        throw new KafkaError('CORRUPT_MESSAGE', `a session-windowed key's window [${startMs}, ${endMs}] is not two non-negative safe integers, the end no earlier than the start`);
      }
      return { key: inner.deserialize(bytes.subarray(0, at)), window: { startMs, endMs } };
    },
  };
}
