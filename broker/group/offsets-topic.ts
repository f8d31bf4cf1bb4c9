import { RecordBatchBuilder } from '../../sdk/record/record-batch-builder.ts';
import { Acks } from '../log/acks.ts';
import type { Broker } from '../broker.ts';
import { decodeOffsetKey, decodeOffsetValue, encodeOffsetKey, encodeOffsetValue, type OffsetKey, type OffsetValue } from './offset-record.ts';
import { replayPartition } from '../replay-partition.ts';

export const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets';

/** One offset write: a value, or null for a tombstone. */
export interface OffsetWrite {
  key: OffsetKey;
  value: OffsetValue | null;
}

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
 * The compacted internal topic holding committed offsets. It is created on the first write with
 * `cleanup.policy=compact`; its partition count, once created, is the topic's own and survives
 * restarts whatever the configured count. (The log does not compact yet, so the topic grows with
 * every commit until it does; rebuilding reads it all.)
 */
export class OffsetsTopic {
  private creating: Promise<number> | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly configuredPartitions: number,
    private readonly nowMs: () => number,
  ) {}

  private partitionCount(): Promise<number> {
    if (this.broker.hasTopic(CONSUMER_OFFSETS_TOPIC)) {
      return Promise.resolve(this.broker.describeTopic(CONSUMER_OFFSETS_TOPIC).partitions.length);
    }
    this.creating ??= this.broker
      .createTopic(CONSUMER_OFFSETS_TOPIC, { partitions: this.configuredPartitions, config: { 'cleanup.policy': 'compact' } })
      .then((t) => t.partitions.length)
      .finally(() => (this.creating = undefined));
    return this.creating;
  }

  /** Appends one group's writes as one batch, acknowledged once fsynced. */
  async write(groupId: string, writes: readonly OffsetWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const partitions = await this.partitionCount();
    const builder = new RecordBatchBuilder({ clock: this.nowMs });
    for (const w of writes) {
      builder.append({ key: encodeOffsetKey(w.key), value: w.value === null ? null : encodeOffsetValue(w.value) });
    }
    await this.broker.append(CONSUMER_OFFSETS_TOPIC, offsetsPartitionFor(groupId, partitions), builder.seal(), Acks.all);
  }

  /**
   * Replays every partition from its log start to its high watermark, calling `apply` per record in
   * log order. Control and transactional batches are skipped: offsets committed inside
   * transactions are not written here yet.
   */
  async replay(apply: (write: OffsetWrite) => void): Promise<void> {
    if (!this.broker.hasTopic(CONSUMER_OFFSETS_TOPIC)) return;
    for (const p of this.broker.describeTopic(CONSUMER_OFFSETS_TOPIC).partitions) {
      await replayPartition(this.broker, CONSUMER_OFFSETS_TOPIC, p.partition, (record, batch) => {
        if (batch.isControl || batch.isTransactional || record.key === null) return;
        const key = decodeOffsetKey(record.key);
        if (key !== undefined) apply({ key, value: record.value === null ? null : decodeOffsetValue(record.value) });
      });
    }
  }
}
