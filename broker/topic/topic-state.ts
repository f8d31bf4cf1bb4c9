import type { PartitionLog } from '../log/partition-log.ts';
import type { TopicConfig } from './topic-config.ts';

/** A topic as the broker holds it while open: its persisted identity plus its open partition logs. */
export interface TopicState {
  readonly name: string;
  readonly topicId: string;
  readonly createdMs: number;
  /** Explicitly set configs, by Kafka name; everything else follows the broker's defaults. */
  configOverrides: Record<string, string>;
  config: TopicConfig;
  partitions: PartitionLog[];
}

export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}
