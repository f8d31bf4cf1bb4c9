import type { RecordHeader } from '../../sdk/record/record.ts';

/** A serialized record a task writes: an output, a repartition record, a changelog or dead-letter record. */
export interface OutputRecord {
  readonly topic: string;
  /** Undefined: the producer's default partitioner (murmur2 of the key bytes, as Kafka's). */
  readonly partition: number | undefined;
  readonly key: Uint8Array | null;
  /** Bytes, or text standing for its UTF-8 bytes (a text serde's output, written to the batch as is). */
  readonly value: Uint8Array | string | null;
  readonly timestamp: number;
  readonly headers: readonly RecordHeader[];
}

const encoder = new TextEncoder();

/** An output value's bytes: text is encoded as UTF-8 (what the producer writes for it). */
export function valueBytes(value: Uint8Array | string | null): Uint8Array | null {
  return typeof value === 'string' ? encoder.encode(value) : value;
}

/**
 * Where tasks write. The runtime's collector hands records to the (transactional) producer and
 * reports a failed send at the next commit; the test driver's keeps them in memory.
 */
export interface RecordCollector {
  send(record: OutputRecord): void;
  /** A topic's partition count when known (for sink partitioners), else undefined. */
  partitionCount(topic: string): number | undefined;
}
