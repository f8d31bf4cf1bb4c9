import type { Scheduler } from './scheduler.ts';

export interface GroupCoordinatorOptions {
  /** Kafka's `group.min.session.timeout.ms`; tests lower it for short sessions. */
  minSessionTimeoutMs: number;
  /** Kafka's `group.max.session.timeout.ms`. */
  maxSessionTimeoutMs: number;
  /**
   * Kafka's `group.initial.rebalance.delay.ms`: when an empty group starts rebalancing, the join
   * barrier stays open this long (extended by each newcomer, up to the rebalance timeout) so a
   * starting fleet of consumers forms one generation instead of one per arrival.
   */
  initialRebalanceDelayMs: number;
  /** Groups held at once (with members or only committed offsets); beyond it new groups are refused. */
  maxGroups: number;
  /** Kafka's `group.max.size`: members plus members awaiting their MEMBER_ID_REQUIRED rejoin. */
  maxMembersPerGroup: number;
  /** Partitions of `__consumer_offsets` when this broker creates it; an existing topic keeps its count. */
  offsetsTopicPartitions: number;
  /** Kafka's `offsets.retention.minutes`, in ms: how long an empty group keeps its committed offsets. */
  offsetsRetentionMs: number;
  /** Kafka's `offsets.retention.check.interval.ms`. */
  offsetsRetentionCheckIntervalMs: number;
  /** Kafka's `offset.metadata.max.bytes`: longer commit metadata gets OFFSET_METADATA_TOO_LARGE. */
  offsetMetadataMaxBytes: number;
}

export const defaultGroupCoordinatorOptions: Readonly<GroupCoordinatorOptions> = Object.freeze({
  minSessionTimeoutMs: 6_000,
  maxSessionTimeoutMs: 1_800_000,
  initialRebalanceDelayMs: 3_000,
  maxGroups: 10_000,
  maxMembersPerGroup: 1_000,
  offsetsTopicPartitions: 4,
  offsetsRetentionMs: 7 * 24 * 60 * 60 * 1000,
  offsetsRetentionCheckIntervalMs: 600_000,
  offsetMetadataMaxBytes: 4_096,
});

/** What `GroupCoordinator.open` accepts: any option overridden, plus the time source. */
export type GroupCoordinatorOpenOptions = Partial<GroupCoordinatorOptions> & { scheduler?: Scheduler };
