import { defaultTopicConfig, type TopicConfig } from './topic/topic-config.ts';

/** Broker-wide settings. Topic configs default to `topicDefaults` and are overridden per topic. */
export interface BrokerConfig {
  dataDir: string;
  nodeId: number;
  host: string;
  kafkaPort: number;
  /** The host Metadata gives clients; null means the bound host (127.0.0.1 for a wildcard bind). */
  advertisedHost: string | null;
  httpPort: number;
  /** Topics named by a produce or metadata request are created on first use (Kafka's `auto.create.topics.enable`). */
  autoCreateTopics: boolean;
  defaultPartitions: number;
  maxPartitionsPerTopic: number;
  /**
   * Partitions of all non-internal topics together (KIP-578's `max.broker.partitions`). Each
   * partition holds open files and memory whether used or not, so an unbounded count lets one
   * client exhaust the broker; creations past it fail with POLICY_VIOLATION.
   */
  maxPartitions: number;
  topicDefaults: TopicConfig;
  /** How often retention runs (Kafka's `log.retention.check.interval.ms`). */
  retentionCheckIntervalMs: number;
  /** How often the recovery-point checkpoint is written (`log.flush.offset.checkpoint.interval.ms`). */
  checkpointIntervalMs: number;
  /** Fetches parked in long polls at once; beyond it a fetch answers immediately instead of waiting. */
  maxParkedFetches: number;
  /** Whether compacted topics are cleaned (`log.cleaner.enable`). */
  cleanerEnable: boolean;
  /** Memory for the cleaner's key-hash-to-offset map, 24 bytes per key (`log.cleaner.dedupe.buffer.size`). */
  cleanerDedupeBufferSizeBytes: number;
  /** How full the offset map may get before a pass stops mapping (`log.cleaner.io.buffer.load.factor`). */
  cleanerIoBufferLoadFactor: number;
  /** The cleaner's read and write buffer for segment files (`log.cleaner.io.buffer.size`). */
  cleanerIoBufferSizeBytes: number;
  /** Bytes read plus written per second the cleaner may use; Infinity for no limit (`log.cleaner.io.max.bytes.per.second`). */
  cleanerIoMaxBytesPerSecond: number;
  /** How long the cleaner sleeps when no log needs cleaning (`log.cleaner.backoff.ms`). */
  cleanerBackoffMs: number;
}

export const defaultBrokerConfig: Readonly<BrokerConfig> = Object.freeze({
  dataDir: './rill-data',
  nodeId: 0,
  host: '127.0.0.1',
  kafkaPort: 9092,
  advertisedHost: null,
  httpPort: 8080,
  autoCreateTopics: true,
  defaultPartitions: 1,
  maxPartitionsPerTopic: 10_000,
  // Kafka's documented per-broker recommendation.
  maxPartitions: 4_000,
  topicDefaults: defaultTopicConfig,
  retentionCheckIntervalMs: 300_000,
  checkpointIntervalMs: 60_000,
  maxParkedFetches: 10_000,
  cleanerEnable: true,
  cleanerDedupeBufferSizeBytes: 128 * 1024 * 1024,
  cleanerIoBufferLoadFactor: 0.9,
  cleanerIoBufferSizeBytes: 512 * 1024,
  cleanerIoMaxBytesPerSecond: Number.POSITIVE_INFINITY,
  cleanerBackoffMs: 15_000,
});
