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
  topicDefaults: TopicConfig;
  /** How often retention runs (Kafka's `log.retention.check.interval.ms`). */
  retentionCheckIntervalMs: number;
  /** How often the recovery-point checkpoint is written (`log.flush.offset.checkpoint.interval.ms`). */
  checkpointIntervalMs: number;
  /** Fetches parked in long polls at once; beyond it a fetch answers immediately instead of waiting. */
  maxParkedFetches: number;
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
  topicDefaults: defaultTopicConfig,
  retentionCheckIntervalMs: 300_000,
  checkpointIntervalMs: 60_000,
  maxParkedFetches: 10_000,
});
