import type { CleanerPartitionStatus } from '../log/cleaner/cleaner-status.ts';

export interface PartitionDescription {
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  logEndOffset: number;
  sizeBytes: number;
  offline: boolean;
  /** The log cleaner's figures, for partitions of compacted topics. */
  cleaner?: CleanerPartitionStatus;
}

export interface TopicDescription {
  name: string;
  topicId: string;
  internal: boolean;
  partitions: PartitionDescription[];
  configs: { name: string; value: string; isDefault: boolean }[];
}

export interface CreateTopicOptions {
  partitions?: number;
  /** Kafka config names to string values, e.g. `{ 'retention.ms': '3600000' }`. */
  config?: Record<string, string>;
}
