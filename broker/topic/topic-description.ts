export interface PartitionDescription {
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  logEndOffset: number;
  sizeBytes: number;
  offline: boolean;
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
