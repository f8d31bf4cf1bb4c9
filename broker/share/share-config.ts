/** Where a share partition starts when its group first reads it (`share.auto.offset.reset`). */
export const ShareAutoOffsetReset = {
  latest: 'latest',
  earliest: 'earliest',
} as const;
export type ShareAutoOffsetResetValue = (typeof ShareAutoOffsetReset)[keyof typeof ShareAutoOffsetReset];

/** The settings of one share group (KIP-932), Kafka's names in the comments. */
export interface ShareGroupConfig {
  /** How long an acquired record stays locked to its consumer (`share.record.lock.duration.ms`). */
  recordLockDurationMs: number;
  /** Deliveries after which a record is dead-lettered instead of redelivered (`share.delivery.count.limit`). */
  deliveryCountLimit: number;
  /** Where a share partition starts on first use (`share.auto.offset.reset`). */
  autoOffsetReset: ShareAutoOffsetResetValue;
  /**
   * Which records are acquired (`share.isolation.level`): `read_committed` (ours by default, as for
   * Rill's consumers; Kafka defaults to read_uncommitted) acquires only below the last stable
   * offset and archives aborted transactional data without handing it out.
   */
  isolationLevel: 'read_committed' | 'read_uncommitted';
  /**
   * Records between the start and end offset of one share partition
   * (`group.share.partition.max.record.locks`; Kafka's default went from 200 in KIP-932 to 2000).
   */
  partitionMaxRecordLocks: number;
  /**
   * Records one ShareFetch acquires per partition at most; ShareFetch v0 carries no MaxRecords, so
   * the broker bounds it (500, the share consumer's `max.poll.records`).
   */
  maxRecordsPerFetch: number;
  /** How often members heartbeat (`group.share.heartbeat.interval.ms`). */
  heartbeatIntervalMs: number;
  /** A member silent for this long leaves the group and its acquired records are released (`group.share.session.timeout.ms`). */
  sessionTimeoutMs: number;
  /**
   * Where rejected records and records past the delivery limit go; null for `<group>-dlq`. Created
   * on first use with one partition.
   */
  deadLetterTopic: string | null;
  /**
   * The retry ladder (`rill.share.retry.backoff.ms`, e.g. [1000, 10000, 60000]): a record returned
   * after its n-th delivery (released, its lock expired, its member left) is acquirable again only
   * `retryBackoffMs[n-1]` ms later, the last step repeating; past `share.delivery.count.limit` it is
   * dead-lettered as without a ladder. Empty (the default): at once. The due time is part of the
   * durable share-partition state.
   */
  retryBackoffMs: readonly number[];
}

/** Steps a retry ladder may have. */
export const MAX_RETRY_BACKOFF_STEPS = 32;

export const defaultShareGroupConfig: Readonly<ShareGroupConfig> = Object.freeze({
  recordLockDurationMs: 30_000,
  deliveryCountLimit: 5,
  autoOffsetReset: ShareAutoOffsetReset.latest,
  isolationLevel: 'read_committed',
  partitionMaxRecordLocks: 2000,
  maxRecordsPerFetch: 500,
  heartbeatIntervalMs: 5_000,
  sessionTimeoutMs: 45_000,
  deadLetterTopic: null,
  retryBackoffMs: Object.freeze([]) as readonly number[],
});

/** Broker-wide share-group settings: defaults for every group, overrides per group id. */
export interface ShareGroupsOptions {
  defaults?: Partial<ShareGroupConfig>;
  groups?: Readonly<Record<string, Partial<ShareGroupConfig>>>;
  /** Share groups with members at once; past it a new group's first member is refused (`group.share.max.groups`). */
  maxShareGroups?: number;
  /** Members with a share session at once, over all groups; past it new sessions are refused. */
  maxShareSessions?: number;
  /** ShareFetch requests waiting for records at once; past it a fetch answers at once. */
  maxParkedShareFetches?: number;
  /** Partitions of `__share_group_state`, used only when the topic is created. */
  stateTopicPartitions?: number;
}

export function deadLetterTopicOf(groupId: string, config: Readonly<ShareGroupConfig>): string {
  return config.deadLetterTopic ?? `${groupId}-dlq`;
}

/** Resolves and checks one group's settings; a bad value is a usage error the caller reports. */
export function resolveShareGroupConfig(options: ShareGroupsOptions | undefined, groupId: string): ShareGroupConfig {
  const config: ShareGroupConfig = { ...defaultShareGroupConfig, ...options?.defaults, ...options?.groups?.[groupId] };
  const positive = (name: string, value: number): void => {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`share group "${groupId}": ${name} must be a positive integer, got ${value}`);
  };
  positive('share.record.lock.duration.ms', config.recordLockDurationMs);
  positive('share.delivery.count.limit', config.deliveryCountLimit);
  positive('group.share.partition.max.record.locks', config.partitionMaxRecordLocks);
  positive('maxRecordsPerFetch', config.maxRecordsPerFetch);
  positive('group.share.heartbeat.interval.ms', config.heartbeatIntervalMs);
  positive('group.share.session.timeout.ms', config.sessionTimeoutMs);
  if (config.autoOffsetReset !== 'latest' && config.autoOffsetReset !== 'earliest') {
    throw new RangeError(`share group "${groupId}": share.auto.offset.reset must be latest or earliest, got ${String(config.autoOffsetReset)}`);
  }
  if (config.isolationLevel !== 'read_committed' && config.isolationLevel !== 'read_uncommitted') {
    throw new RangeError(`share group "${groupId}": share.isolation.level must be read_committed or read_uncommitted, got ${String(config.isolationLevel)}`);
  }
  if (!Array.isArray(config.retryBackoffMs) || config.retryBackoffMs.length > MAX_RETRY_BACKOFF_STEPS || !config.retryBackoffMs.every((ms) => Number.isSafeInteger(ms) && ms >= 0)) {
    throw new RangeError(`share group "${groupId}": rill.share.retry.backoff.ms must be at most ${MAX_RETRY_BACKOFF_STEPS} non-negative integers (ms), got ${JSON.stringify(config.retryBackoffMs)}`);
  }
  return config;
}
