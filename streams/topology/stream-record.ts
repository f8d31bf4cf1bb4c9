import type { RecordHeader } from '../../sdk/record/record.ts';

/** Where an input record came from: its topic, partition and offset. */
export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /**
   * The task's stream time when the input record arrived, its own timestamp included: what stream
   * time is for this record in input order, even when it waited behind an asynchronous record of
   * its key while later records moved the task's stream time on.
   */
  readonly streamTimeMs?: number;
}

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

/**
 * A record flowing through a topology. Immutable: operators derive new records with `withKey`,
 * `withValue`, `withTimestamp` and `withHeaders`, which keep `metadata`, the input record this one
 * descends from. The runtime follows a record's work through it (an async stage anywhere below a
 * source still belongs to its input record), so derive output records from the input instead of
 * building them from scratch; a record built with `new StreamRecord(...)` (in a punctuator, say)
 * has no input record.
 */
export class StreamRecord<K, V> {
  constructor(
    readonly key: K,
    readonly value: V,
    readonly timestamp: number,
    readonly headers: readonly RecordHeader[] = NO_HEADERS,
    readonly metadata: RecordMetadata | undefined = undefined,
  ) {}

  withKey<KR>(key: KR): StreamRecord<KR, V> {
    return new StreamRecord(key, this.value, this.timestamp, this.headers, this.metadata);
  }

  withValue<VR>(value: VR): StreamRecord<K, VR> {
    return new StreamRecord(this.key, value, this.timestamp, this.headers, this.metadata);
  }

  with<KR, VR>(key: KR, value: VR): StreamRecord<KR, VR> {
    return new StreamRecord(key, value, this.timestamp, this.headers, this.metadata);
  }

  withTimestamp(timestamp: number): StreamRecord<K, V> {
    return new StreamRecord(this.key, this.value, timestamp, this.headers, this.metadata);
  }

  withHeaders(headers: readonly RecordHeader[]): StreamRecord<K, V> {
    return new StreamRecord(this.key, this.value, this.timestamp, headers, this.metadata);
  }
}
