import { MessageTimestampType, type MessageTimestampTypeValue } from './message-timestamps.ts';

/** Per-partition log settings; Kafka's topic configs of the same meaning, in Kafka's units. */
export interface LogConfig {
  /** `segment.bytes`: roll when the next append would make the active segment larger. */
  segmentBytes: number;
  /** `segment.ms`: roll when the active segment's first append is older than this, even with no append coming. */
  segmentMs: number;
  /** `retention.bytes`: delete old segments while the partition is larger; -1 unlimited. */
  retentionBytes: number;
  /** `retention.ms`: delete segments whose newest batch timestamp is older; -1 unlimited. */
  retentionMs: number;
  /** `max.message.bytes`: the largest batch (including its 12-byte log overhead) accepted. */
  maxMessageBytes: number;
  /** `index.interval.bytes`: log bytes between two sparse offset index entries. */
  indexIntervalBytes: number;
  /** `segment.index.bytes`: the largest offset index file; a full index rolls the segment. */
  segmentIndexBytes: number;
  /** `cleanup.policy` holds `compact`: the cleaner keeps the latest record per key. */
  compact: boolean;
  /** `cleanup.policy` holds `delete`: retentionMs and retentionBytes delete old segments. */
  delete: boolean;
  /** `delete.retention.ms`: tombstones and transaction markers outlive the cleaner's first look at them by this much. */
  deleteRetentionMs: number;
  /** `min.compaction.lag.ms`: segments holding a record younger than this are not cleaned. */
  minCompactionLagMs: number;
  /** `max.compaction.lag.ms`: a dirty record this old makes the log cleanable whatever its dirty ratio. */
  maxCompactionLagMs: number;
  /** `min.cleanable.dirty.ratio`: the dirty share of the log above which it is cleaned. */
  minCleanableDirtyRatio: number;
  /** `message.timestamp.type`: LogAppendTime stamps every produced batch with the broker's clock. */
  messageTimestampType: MessageTimestampTypeValue;
  /** `message.timestamp.before.max.ms` (or the deprecated `difference.max.ms`): how old a CreateTime timestamp may be; MAX_SAFE_INTEGER unbounded. */
  messageTimestampBeforeMaxMs: number;
  /** `message.timestamp.after.max.ms` (or the deprecated `difference.max.ms`): how far in the future a CreateTime timestamp may be; MAX_SAFE_INTEGER unbounded. */
  messageTimestampAfterMaxMs: number;
  /**
   * `min.insync.replicas`: a partition has one replica, always in sync, so a topic asking for more
   * refuses acks=all produce with NOT_ENOUGH_REPLICAS, as a Kafka cluster with one live replica does.
   */
  minInsyncReplicas: number;
  /** `rill.delayed.delivery`: produce hands batches to delayed delivery (broker/delay/) before the log. */
  delayedDelivery: boolean;
}

export const defaultLogConfig: LogConfig = {
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  maxMessageBytes: 1048588,
  indexIntervalBytes: 4096,
  segmentIndexBytes: 10 * 1024 * 1024,
  compact: false,
  delete: true,
  deleteRetentionMs: 24 * 60 * 60 * 1000,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
  minCleanableDirtyRatio: 0.5,
  messageTimestampType: MessageTimestampType.createTime,
  messageTimestampBeforeMaxMs: Number.MAX_SAFE_INTEGER,
  messageTimestampAfterMaxMs: Number.MAX_SAFE_INTEGER,
  minInsyncReplicas: 1,
  delayedDelivery: false,
};

/**
 * The age at which the active segment rolls: `segment.ms`, or `max.compaction.lag.ms` when a
 * compacted log's lag is shorter (as Kafka does), since the cleaner never reads the active segment.
 */
export function maxSegmentAgeMs(config: LogConfig): number {
  return config.compact ? Math.min(config.segmentMs, config.maxCompactionLagMs) : config.segmentMs;
}
