import type { InternalTopics } from '../internal-topics.ts';

/** A partition's bounds, as offset resets and lag read them. */
export interface PartitionOffsets {
  partition: number;
  logStartOffset: number;
  highWatermark: number;
}

/** What the group coordinator reads of the broker's topics: commits name partitions, resets and lag read offsets. */
export interface TopicOffsetsView {
  /** The topic's partition count, undefined when it does not exist. */
  partitionCount(topic: string): number | undefined;
  /** Every partition's bounds; throws UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist. */
  partitionOffsets(topic: string): PartitionOffsets[];
  /** The first offset whose record timestamp is at or after `timestampMs`, -1 when there is none. */
  offsetForTimestamp(topic: string, partition: number, timestampMs: number): number;
}

/** What `broker.ts` hands the group coordinator: its internal topic and a view of the others. */
export interface GroupHost {
  internalTopics: InternalTopics;
  topics: TopicOffsetsView;
}
