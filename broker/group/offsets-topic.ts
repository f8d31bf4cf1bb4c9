import { readRecordBatches } from '../../sdk/record/record-batch-reader.ts';
import { RecordBatchBuilder } from '../../sdk/record/record-batch-builder.ts';
import { Acks } from '../log/acks.ts';
import type { Broker } from '../broker.ts';
import { decodeOffsetKey, decodeOffsetValue, encodeOffsetKey, encodeOffsetValue, type OffsetKey, type OffsetValue } from './offset-record.ts';

export const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets';

/** Bytes read per fetch while rebuilding; a larger batch is still returned whole. */
const LOAD_FETCH_BYTES = 1024 * 1024;

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
      let fetchOffset = p.logStartOffset;
      while (fetchOffset < p.highWatermark) {
        const [result] = await this.broker.fetch({
          partitions: [{ topic: CONSUMER_OFFSETS_TOPIC, partition: p.partition, fetchOffset, partitionMaxBytes: LOAD_FETCH_BYTES }],
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: LOAD_FETCH_BYTES,
        });
        if (result === undefined) throw new Error('invariant: a fetch of one partition returned no result');
        if (result.error !== undefined) throw result.error;
        const before = fetchOffset;
        for (const batch of readRecordBatches(result.records)) {
          if (batch.lastOffset < fetchOffset) continue;
          if (!batch.isControl && !batch.isTransactional) {
            for (const record of batch.records()) {
              if (record.offset < fetchOffset || record.key === null) continue;
              const key = decodeOffsetKey(record.key);
              if (key !== undefined) apply({ key, value: record.value === null ? null : decodeOffsetValue(record.value) });
            }
          }
          fetchOffset = batch.lastOffset + 1;
        }
        if (fetchOffset === before) {
          throw new Error(`invariant: ${CONSUMER_OFFSETS_TOPIC}-${p.partition} returned nothing at ${fetchOffset} below its high watermark ${p.highWatermark}`);
        }
      }
    }
  }
}
