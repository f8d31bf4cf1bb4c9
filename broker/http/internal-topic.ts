import { decode, Encoder } from '@msgpack/msgpack';
import type { Broker } from '../broker.ts';
import type { InternalTopics } from '../internal-topics.ts';
import { Acks, type AcksValue } from '../log/acks.ts';
import { BATCH_HEADER_BYTES } from '../../sdk/record/batch-header.ts';
import { RecordBatchBuilder } from '../../sdk/record/record-batch-builder.ts';

/** Varints of a record's length, deltas, key and value lengths and header count, at most. */
const RECORD_OVERHEAD_BYTES = 32;
const encoder = new TextEncoder();
// One encoder for all appends: `encode()` builds an Encoder (and its buffer) per call.
const msgpack = new Encoder();
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * A single-partition internal topic holding the HTTP layer's durable state (schemas, idempotency
 * results). Record keys are UTF-8 strings, values msgpack, a null value a tombstone; the state is
 * rebuilt by replaying the topic from its start when the HTTP API opens, as the group coordinator
 * does with `__consumer_offsets`. The topics are compacted, so a replay reads about one record per
 * live key.
 */
export class InternalTopic {
  private constructor(
    private readonly topics: InternalTopics,
    readonly name: string,
    private readonly config: Record<string, string>,
  ) {}

  /**
   * The topic is created on the first append, so a broker whose HTTP API never stores state has
   * none; an existing one takes `config`, which may have changed since it was created.
   */
  static async open(broker: Broker, name: string, config: Record<string, string>): Promise<InternalTopic> {
    if (broker.hasTopic(name)) await broker.alterTopicConfig(name, config);
    return new InternalTopic(broker.internalTopics, name, config);
  }

  /** Calls `apply` for every record in the topic, oldest first, and `remove` for every tombstone. */
  async replay(apply: (key: string, value: unknown, timestampMs: number) => void, remove: (key: string) => void = () => undefined): Promise<void> {
    if (this.topics.partitionCount(this.name) === undefined) return;
    await this.topics.replay(this.name, 0, (record) => {
      if (record.key === null) return;
      if (record.value === null) remove(decoder.decode(record.key));
      else apply(decoder.decode(record.key), decode(record.value), record.timestamp);
    });
  }

  /**
   * Appends entries as one batch and resolves once they are fsynced, or with `acks` leader once
   * they are written (for state that is also recoverable without them). A null value is a tombstone.
   */
  async append(entries: readonly { key: string; value: unknown }[], acks: AcksValue = Acks.all): Promise<void> {
    if (this.topics.partitionCount(this.name) === undefined) await this.topics.create(this.name, { partitions: 1, config: this.config });
    const records = entries.map((entry) => ({ key: encoder.encode(entry.key), value: entry.value === null ? null : msgpack.encode(entry.value) }));
    // Sized up front: the builder's default first buffer (16 KiB) is far more than one entry needs.
    const initialCapacityBytes = records.reduce((sum, r) => sum + r.key.byteLength + (r.value?.byteLength ?? 0) + RECORD_OVERHEAD_BYTES, BATCH_HEADER_BYTES);
    const builder = new RecordBatchBuilder({ initialCapacityBytes });
    for (const record of records) builder.append(record);
    await this.topics.append(this.name, 0, builder.seal(), acks);
  }
}
