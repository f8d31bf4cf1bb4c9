import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { readInt64BE, writeInt64BE } from '../../sdk/serde/int64.ts';
import type { Serde } from '../../sdk/serde/serde.ts';
import { timeWindow, type Windowed } from './windowed.ts';

const START_BYTES = 8;

/** A time-windowed key serde, which knows its inner serde (a sink partitions windowed keys by the inner key's bytes). */
export interface TimeWindowedSerde<K> extends Serde<Windowed<K>> {
  readonly inner: Serde<K>;
  readonly sizeMs: number;
}

export function isTimeWindowedSerde(serde: Serde<unknown>): serde is TimeWindowedSerde<unknown> {
  return typeof (serde as Partial<TimeWindowedSerde<unknown>>).sizeMs === 'number' && typeof (serde as Partial<TimeWindowedSerde<unknown>>).inner === 'object';
}

/**
 * The serde of a time-windowed key on a topic, the layout of Kafka Streams' TimeWindowedSerializer
 * (WindowKeySchema.toBinary) so that its TimeWindowedDeserializer reads what we write and back:
 *
 *   0  key    the inner serde's bytes
 *   n  start  int64, big-endian: the window start, ms since the epoch
 *
 * The window end is not written: a reader gets it from the window size it is given (`sizeMs`
 * here, `windowSize` in Kafka Streams), start + size, saturating at the largest safe integer.
 */
export function timeWindowedSerde<K>(inner: Serde<K>, sizeMs: number): TimeWindowedSerde<K> {
  if (!Number.isSafeInteger(sizeMs) || sizeMs <= 0) throw new RangeError(`a window size must be a positive integer of milliseconds, got ${sizeMs}`);
  return {
    inner,
    sizeMs,
    serialize: ({ key, window }) => {
      const keyBytes = inner.serialize(key);
      const bytes = new Uint8Array(keyBytes.length + START_BYTES);
      bytes.set(keyBytes, 0);
      writeInt64BE(bytes, keyBytes.length, window.startMs);
      return bytes;
    },
    deserialize: (bytes) => {
      if (bytes.length < START_BYTES) throw new KafkaError('CORRUPT_MESSAGE', `a time-windowed key needs at least ${START_BYTES} bytes, got ${bytes.length}`);
      const at = bytes.length - START_BYTES;
      const startMs = readInt64BE(bytes, at);
      if (!Number.isSafeInteger(startMs) || startMs < 0) throw new KafkaError('CORRUPT_MESSAGE', `a time-windowed key's start ${startMs} is not a non-negative safe integer`);
      return { key: inner.deserialize(bytes.subarray(0, at)), window: timeWindow(startMs, sizeMs) };
    },
  };
}
