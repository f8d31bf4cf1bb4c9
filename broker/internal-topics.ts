import type { Record } from '../sdk/record/record.ts';
import type { RecordBatchView } from '../sdk/record/record-batch-reader.ts';
import type { AcksValue } from './log/acks.ts';

/** How an internal topic is created on its first use. */
export interface InternalTopicSpec {
  partitions: number;
  config: Readonly<{ [name: string]: string }>;
}

/**
 * What the owners of internal topics (the group coordinator's `__consumer_offsets`, the
 * transaction coordinator's `__transaction_state`, the HTTP layer's stores) need from the broker:
 * create a topic, append to it durably, replay it. `broker.ts` implements it over its partition
 * logs and hands it to each owner, so none of them depends on the `Broker` class.
 */
export interface InternalTopics {
  /** The topic's partition count, undefined while it does not exist. */
  partitionCount(name: string): number | undefined;
  /**
   * Creates the topic unless it exists and resolves with its partition count; an existing topic
   * keeps its own count and config. Concurrent calls share one creation, and a failed one is
   * tried again by the next call.
   */
  create(name: string, spec: InternalTopicSpec): Promise<number>;
  /**
   * Appends sealed RecordBatch v2 bytes to a partition of an existing topic. Resolves once they
   * are fsynced (acks=all, the default), or once written with `Acks.leader` for state that is also
   * recoverable without them.
   */
  append(name: string, partition: number, batches: Uint8Array, acks?: AcksValue): Promise<void>;
  /**
   * Calls `visit` with every record of the partition from its log start to the high watermark it
   * had when the replay began, in log order, with the batch holding it.
   */
  replay(name: string, partition: number, visit: (record: Record, batch: RecordBatchView) => void): Promise<void>;
}

/**
 * Compacted, with Kafka's 100 MiB segments for its internal topics (offsets.topic.segment.bytes):
 * the cleaner only reaches sealed segments, so a 1 GiB default would leave a busy group's history
 * uncleaned, and replayed at every start, for far longer.
 */
export const INTERNAL_TOPIC_CONFIG: Readonly<{ [name: string]: string }> = { 'cleanup.policy': 'compact', 'segment.bytes': '104857600' };
