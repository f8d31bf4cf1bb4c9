import { RecordBatchBuilder } from '../../sdk/record/record-batch-builder.ts';
import { INTERNAL_TOPIC_CONFIG, type InternalTopics } from '../internal-topics.ts';
import { decodeGroupMetadataValue, encodeGroupMetadataValue, type GroupMetadataValue } from './group-metadata-record.ts';
import {
  decodeConsumerOffsetsKey,
  decodeOffsetValue,
  encodeGroupMetadataKey,
  encodeOffsetKey,
  encodeOffsetValue,
  GROUP_METADATA_KEY_TYPE,
  type OffsetKey,
  type OffsetValue,
} from './offset-record.ts';

export const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets';


/** One record of `__consumer_offsets`: an offset or a group's metadata, each null for a tombstone. */
export type OffsetsTopicWrite = { key: OffsetKey; value: OffsetValue | null } | { groupId: string; group: GroupMetadataValue | null };

/**
 * Kafka's `abs(groupId.hashCode) % partitions`, with Java's String.hashCode, so a group always
 * maps to the same partition of `__consumer_offsets`.
 */
export function offsetsPartitionFor(groupId: string, partitions: number): number {
  let hash = 0;
  for (let i = 0; i < groupId.length; i++) hash = (Math.imul(31, hash) + groupId.charCodeAt(i)) | 0;
  return (hash & 0x7fffffff) % partitions;
}

/**
 * The compacted internal topic holding committed offsets and group metadata. It is created on the
 * first write with `cleanup.policy=compact`; its partition count, once created, is the topic's own
 * and survives restarts whatever the configured count. A group's records all go to its one
 * partition, in the order they were written. (The log does not compact yet, so the topic grows
 * with every commit until it does; rebuilding reads it all.)
 */
export class OffsetsTopic {
  /** Writes issued and not yet settled; bounded by the requests and timers that issue them. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly topics: InternalTopics,
    private readonly configuredPartitions: number,
    private readonly nowMs: () => number,
  ) {}

  /** Appends one group's records as one batch, acknowledged once fsynced. */
  write(groupId: string, writes: readonly OffsetsTopicWrite[]): Promise<void> {
    if (writes.length === 0) return Promise.resolve();
    const written = this.append(groupId, writes);
    this.inFlight.add(written);
    const done = () => this.inFlight.delete(written);
    written.then(done, done);
    return written;
  }

  private async append(groupId: string, writes: readonly OffsetsTopicWrite[]): Promise<void> {
    // Once the topic exists the append is issued before `write` returns, so writes reach the log
    // in the order they were made, and a write made before the broker starts closing is in it.
    const partitions =
      this.topics.partitionCount(CONSUMER_OFFSETS_TOPIC) ??
      (await this.topics.create(CONSUMER_OFFSETS_TOPIC, { partitions: this.configuredPartitions, config: INTERNAL_TOPIC_CONFIG }));
    const builder = new RecordBatchBuilder({ clock: this.nowMs });
    for (const w of writes) {
      if ('key' in w) builder.append({ key: encodeOffsetKey(w.key), value: w.value === null ? null : encodeOffsetValue(w.value) });
      else builder.append({ key: encodeGroupMetadataKey(w.groupId), value: w.group === null ? null : encodeGroupMetadataValue(w.group) });
    }
    await this.topics.append(CONSUMER_OFFSETS_TOPIC, offsetsPartitionFor(groupId, partitions), builder.seal());
  }

  /**
   * Replays every partition from its log start to its high watermark, calling `apply` per record in
   * log order. Control and transactional batches are skipped: offsets committed inside
   * transactions are written here by the group coordinator once their transaction commits.
   */
  async replay(apply: (write: OffsetsTopicWrite) => void): Promise<void> {
    const partitions = this.topics.partitionCount(CONSUMER_OFFSETS_TOPIC) ?? 0;
    for (let partition = 0; partition < partitions; partition++) {
      await this.topics.replay(CONSUMER_OFFSETS_TOPIC, partition, (record, batch) => {
        if (batch.isControl || batch.isTransactional || record.key === null) return;
        const key = decodeConsumerOffsetsKey(record.key);
        if (key === undefined) return;
        if (key.type === GROUP_METADATA_KEY_TYPE) apply({ groupId: key.groupId, group: record.value === null ? null : decodeGroupMetadataValue(record.value) });
        else apply({ key: key.offset, value: record.value === null ? null : decodeOffsetValue(record.value) });
      });
    }
  }

  /** Resolves once every write issued so far has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }
}
