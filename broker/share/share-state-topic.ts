import { RecordBatchBuilder } from '../../sdk/record/record-batch-builder.ts';
import { INTERNAL_TOPIC_CONFIG, type InternalTopics } from '../internal-topics.ts';
import { offsetsPartitionFor } from '../group/offsets-topic.ts';
import type { SharePartitionSnapshot } from './share-partition.ts';
import { decodeShareStateKey, decodeShareStateValue, encodeShareStateKey, encodeShareStateValue, type ShareStateKey } from './share-state-record.ts';
import { decodeShareGroupConfigKey, decodeShareGroupConfigValue, encodeShareGroupConfigKey, encodeShareGroupConfigValue, type ShareGroupOverrides } from './share-group-dynamic-config.ts';

export const SHARE_GROUP_STATE_TOPIC = '__share_group_state';

export interface ShareStateWrite {
  key: ShareStateKey;
  /** null for a tombstone when replayed. */
  snapshot: SharePartitionSnapshot | null;
}

/**
 * The durable share-partition state (record layout in share-state-record.ts). Every change is one
 * snapshot of the changed partition, appended with acks=all before the change is answered; a
 * group's snapshots all go to one partition of the topic, in the order they were taken, so the
 * last one replayed is the newest. The topic is created when the first share group appears
 * (`ensureCreated`, awaited before any state exists to write), so a write issues its append
 * synchronously and writes reach the log in the order they were made.
 */
export class ShareStateTopic {
  private partitions = 0;

  constructor(
    private readonly topics: InternalTopics,
    private readonly configuredPartitions: number,
    private readonly nowMs: () => number,
  ) {}

  /** Replays the topic, if it exists, calling `apply` per snapshot and `applyConfig` per group config record, in log order. */
  async replay(apply: (write: ShareStateWrite) => void, applyConfig?: (groupId: string, overrides: ShareGroupOverrides) => void): Promise<void> {
    this.partitions = this.topics.partitionCount(SHARE_GROUP_STATE_TOPIC) ?? 0;
    for (let partition = 0; partition < this.partitions; partition++) {
      await this.topics.replay(SHARE_GROUP_STATE_TOPIC, partition, (record, batch) => {
        if (batch.isControl || record.key === null) return;
        const key = decodeShareStateKey(record.key);
        if (key !== undefined) apply({ key, snapshot: record.value === null ? null : decodeShareStateValue(record.value) });
        const configGroup = key === undefined ? decodeShareGroupConfigKey(record.key) : undefined;
        if (configGroup !== undefined) applyConfig?.(configGroup, decodeShareGroupConfigValue(record.value));
      });
    }
  }

  async ensureCreated(): Promise<void> {
    if (this.partitions > 0) return;
    this.partitions = await this.topics.create(SHARE_GROUP_STATE_TOPIC, { partitions: this.configuredPartitions, config: INTERNAL_TOPIC_CONFIG });
  }

  /** Appends one group's snapshots as one batch; resolves once fsynced. */
  write(groupId: string, writes: readonly ShareStateWrite[]): Promise<void> {
    if (this.partitions === 0) throw new Error('invariant: the share state topic is written before it is opened');
    const builder = new RecordBatchBuilder({ clock: this.nowMs });
    for (const w of writes) builder.append({ key: encodeShareStateKey(w.key), value: w.snapshot === null ? null : encodeShareStateValue(w.snapshot) });
    return this.topics.append(SHARE_GROUP_STATE_TOPIC, offsetsPartitionFor(groupId, this.partitions), builder.seal());
  }

  /** Appends a group's config overrides, all of them (a tombstone when none are left); resolves once fsynced. */
  async writeGroupConfig(groupId: string, overrides: ShareGroupOverrides): Promise<void> {
    await this.ensureCreated();
    const builder = new RecordBatchBuilder({ clock: this.nowMs });
    builder.append({ key: encodeShareGroupConfigKey(groupId), value: encodeShareGroupConfigValue(overrides) });
    await this.topics.append(SHARE_GROUP_STATE_TOPIC, offsetsPartitionFor(groupId, this.partitions), builder.seal());
  }

  /** Appends a tombstone: the share partition has no state any more (its topic was deleted). */
  forget(groupId: string, key: ShareStateKey): Promise<void> {
    if (this.partitions === 0) return Promise.resolve();
    const builder = new RecordBatchBuilder({ clock: this.nowMs });
    builder.append({ key: encodeShareStateKey(key), value: null });
    return this.topics.append(SHARE_GROUP_STATE_TOPIC, offsetsPartitionFor(groupId, this.partitions), builder.seal());
  }
}
