import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { MessageTimestampType, type MessageTimestampTypeValue } from '../log/message-timestamps.ts';

/**
 * Per-topic configuration under Kafka's own config names. Values arrive as strings (that is how
 * CreateTopics and DescribeConfigs carry them) and are validated here once, so the log only ever
 * sees numbers it can trust.
 */
export const CleanupPolicy = { delete: 'delete', compact: 'compact', compactDelete: 'compact,delete' } as const;
export type CleanupPolicyValue = (typeof CleanupPolicy)[keyof typeof CleanupPolicy];

/**
 * `compression.type`, with Kafka's values: `producer` keeps whatever codec the producer chose,
 * `uncompressed` means none, the others name a codec. Kafka recompresses produced batches to
 * match; Rill never decodes records on the Kafka produce path, so there batches are stored as the
 * client sent them whatever this says. The HTTP API is a producer that honours it (see
 * `broker/http/produce.ts`), and so may the log cleaner when it rewrites batches.
 */
export const TopicCompressionType = {
  producer: 'producer',
  uncompressed: 'uncompressed',
  gzip: 'gzip',
  snappy: 'snappy',
  lz4: 'lz4',
  zstd: 'zstd',
} as const;
export type TopicCompressionTypeValue = (typeof TopicCompressionType)[keyof typeof TopicCompressionType];

export interface TopicConfig {
  cleanupPolicy: CleanupPolicyValue;
  compressionType: TopicCompressionTypeValue;
  retentionMs: number;
  retentionBytes: number;
  segmentBytes: number;
  segmentMs: number;
  maxMessageBytes: number;
  segmentIndexBytes: number;
  indexIntervalBytes: number;
  /** `delete.retention.ms`: how long the cleaner keeps tombstones and transaction markers it may drop. */
  deleteRetentionMs: number;
  /** `min.compaction.lag.ms`: a record stays uncompacted at least this long. */
  minCompactionLagMs: number;
  /** `max.compaction.lag.ms`: a record is compacted (and its segment rolled) within this long; Long.MAX_VALUE is never. */
  maxCompactionLagMs: number;
  /** `min.cleanable.dirty.ratio`: the share of uncleaned bytes at which the cleaner takes the log. */
  minCleanableDirtyRatio: number;
  /** `message.timestamp.type`: CreateTime keeps the producer's timestamps, LogAppendTime stamps batches with the broker's clock. */
  messageTimestampType: MessageTimestampTypeValue;
  /** `message.timestamp.difference.max.ms` (deprecated by Kafka 3.6): both bounds below, where they are unbounded. */
  messageTimestampDifferenceMaxMs: number;
  /** `message.timestamp.before.max.ms`: how far in the past a CreateTime timestamp may lie. */
  messageTimestampBeforeMaxMs: number;
  /** `message.timestamp.after.max.ms`: how far in the future a CreateTime timestamp may lie. */
  messageTimestampAfterMaxMs: number;
  /** `min.insync.replicas`: above 1, acks=all produce is refused (a partition has one replica). */
  minInsyncReplicas: number;
  /**
   * `flush.messages` and `flush.ms`: how many records or how long may pass before an fsync. Held and
   * described; any value is met, since the log syncs every append in its next group commit (and
   * before answering acks=all), more often than either asks.
   */
  flushMessages: number;
  flushMs: number;
  /**
   * `rill.delayed.delivery`: records with a `rill.deliver.at` or `rill.delay.ms` header are held
   * back until due (broker/delay/). Off, such headers are plain headers: the record is appended at
   * once, and produce never looks inside the batches.
   */
  delayedDelivery: boolean;
}

interface NumericDefinition {
  key: Exclude<keyof TopicConfig, 'cleanupPolicy' | 'compressionType' | 'messageTimestampType' | 'delayedDelivery'>;
  defaultValue: number;
  min: number;
  max: number;
  /** A fraction (Kafka's DOUBLE type) rather than an integer. */
  decimal?: boolean;
  /**
   * Kafka's default is Long.MAX_VALUE, meaning "never": that value (and anything beyond the
   * safe-integer range) is held as Number.MAX_SAFE_INTEGER and described as Long.MAX_VALUE.
   */
  longMaxMeansNever?: boolean;
}

const INT32_MAX = 2_147_483_647;
const LONG_MAX_TEXT = '9223372036854775807';

const numeric: Readonly<Record<string, NumericDefinition>> = {
  'retention.ms': { key: 'retentionMs', defaultValue: 604_800_000, min: -1, max: Number.MAX_SAFE_INTEGER },
  'retention.bytes': { key: 'retentionBytes', defaultValue: -1, min: -1, max: Number.MAX_SAFE_INTEGER },
  'segment.bytes': { key: 'segmentBytes', defaultValue: 1_073_741_824, min: 1024, max: INT32_MAX },
  'segment.ms': { key: 'segmentMs', defaultValue: 604_800_000, min: 1, max: Number.MAX_SAFE_INTEGER },
  'max.message.bytes': { key: 'maxMessageBytes', defaultValue: 1_048_588, min: 0, max: INT32_MAX },
  'segment.index.bytes': { key: 'segmentIndexBytes', defaultValue: 10_485_760, min: 4096, max: INT32_MAX },
  'index.interval.bytes': { key: 'indexIntervalBytes', defaultValue: 4096, min: 0, max: INT32_MAX },
  'delete.retention.ms': { key: 'deleteRetentionMs', defaultValue: 86_400_000, min: 0, max: Number.MAX_SAFE_INTEGER },
  'min.compaction.lag.ms': { key: 'minCompactionLagMs', defaultValue: 0, min: 0, max: Number.MAX_SAFE_INTEGER },
  'max.compaction.lag.ms': {
    key: 'maxCompactionLagMs',
    defaultValue: Number.MAX_SAFE_INTEGER,
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    longMaxMeansNever: true,
  },
  'min.cleanable.dirty.ratio': { key: 'minCleanableDirtyRatio', defaultValue: 0.5, min: 0, max: 1, decimal: true },
  'message.timestamp.difference.max.ms': longMaxDefault('messageTimestampDifferenceMaxMs', 0),
  'message.timestamp.before.max.ms': longMaxDefault('messageTimestampBeforeMaxMs', 0),
  'message.timestamp.after.max.ms': longMaxDefault('messageTimestampAfterMaxMs', 0),
  'min.insync.replicas': { key: 'minInsyncReplicas', defaultValue: 1, min: 1, max: INT32_MAX },
  'flush.messages': longMaxDefault('flushMessages', 1),
  'flush.ms': longMaxDefault('flushMs', 0),
};

/** A long config whose default, Long.MAX_VALUE, means unbounded. */
function longMaxDefault(key: NumericDefinition['key'], min: number): NumericDefinition {
  return { key, defaultValue: Number.MAX_SAFE_INTEGER, min, max: Number.MAX_SAFE_INTEGER, longMaxMeansNever: true };
}

const CLEANUP_POLICY = 'cleanup.policy';
const COMPRESSION_TYPE = 'compression.type';
const MESSAGE_TIMESTAMP_TYPE = 'message.timestamp.type';
const DELAYED_DELIVERY = 'rill.delayed.delivery';

export const TOPIC_CONFIG_NAMES: readonly string[] = [CLEANUP_POLICY, COMPRESSION_TYPE, MESSAGE_TIMESTAMP_TYPE, ...Object.keys(numeric), DELAYED_DELIVERY];

export const defaultTopicConfig: Readonly<TopicConfig> = Object.freeze({
  cleanupPolicy: CleanupPolicy.delete,
  compressionType: TopicCompressionType.producer,
  messageTimestampType: MessageTimestampType.createTime,
  delayedDelivery: false,
  ...Object.fromEntries(Object.values(numeric).map((d) => [d.key, d.defaultValue])),
} as TopicConfig);

/** Whether the policy keeps the latest record per key (`compact` or `compact,delete`). */
export function isCompacted(policy: CleanupPolicyValue): boolean {
  return policy !== CleanupPolicy.delete;
}

/** Whether the policy deletes segments past retention.ms / retention.bytes (`delete` or `compact,delete`). */
export function isDeletedByRetention(policy: CleanupPolicyValue): boolean {
  return policy !== CleanupPolicy.compact;
}

function parseCleanupPolicy(value: string): CleanupPolicyValue {
  const parts = [...new Set(value.split(',').map((p) => p.trim()))].sort();
  const normalized = parts.join(',');
  for (const policy of Object.values(CleanupPolicy)) if (policy === normalized) return policy;
  throw new KafkaError('INVALID_CONFIG', `cleanup.policy must be "delete", "compact" or "compact,delete", got "${value}"`);
}

function parseCompressionType(value: string): TopicCompressionTypeValue {
  const trimmed = value.trim().toLowerCase();
  for (const type of Object.values(TopicCompressionType)) if (type === trimmed) return type;
  throw new KafkaError('INVALID_CONFIG', `compression.type must be one of ${Object.values(TopicCompressionType).join(', ')}, got "${value}"`);
}

function parseMessageTimestampType(value: string): MessageTimestampTypeValue {
  const trimmed = value.trim();
  for (const type of Object.values(MessageTimestampType)) if (type === trimmed) return type;
  throw new KafkaError('INVALID_CONFIG', `message.timestamp.type must be "CreateTime" or "LogAppendTime", got "${value}"`);
}

/** Kafka's BOOLEAN config type: `true` or `false`, case-insensitive. */
function parseBoolean(name: string, value: string): boolean {
  const trimmed = value.trim().toLowerCase();
  if (trimmed === 'true' || trimmed === 'false') return trimmed === 'true';
  throw new KafkaError('INVALID_CONFIG', `${name} must be "true" or "false", got "${value}"`);
}

function parseNumeric(name: string, definition: NumericDefinition, value: string): number {
  const trimmed = value.trim();
  const pattern = definition.decimal === true ? /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/ : /^-?\d+$/;
  let parsed = pattern.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (definition.longMaxMeansNever === true && parsed > Number.MAX_SAFE_INTEGER && BigInt(trimmed) <= BigInt(LONG_MAX_TEXT)) {
    parsed = Number.MAX_SAFE_INTEGER;
  }
  const valid = definition.decimal === true ? Number.isFinite(parsed) : Number.isSafeInteger(parsed);
  if (!valid || parsed < definition.min || parsed > definition.max) {
    const what = definition.decimal === true ? 'a number' : 'an integer';
    throw new KafkaError('INVALID_CONFIG', `${name} must be ${what} between ${definition.min} and ${describeMax(definition)}, got "${value}"`);
  }
  return parsed;
}

function describeMax(definition: NumericDefinition): string {
  return definition.longMaxMeansNever === true ? LONG_MAX_TEXT : String(definition.max);
}

function formatNumeric(definition: NumericDefinition, value: number): string {
  return definition.longMaxMeansNever === true && value >= Number.MAX_SAFE_INTEGER ? LONG_MAX_TEXT : String(value);
}

/** Applies `overrides` (Kafka config names to string values) on top of `base`. */
export function resolveTopicConfig(
  overrides: Readonly<Record<string, string>>,
  base: Readonly<TopicConfig> = defaultTopicConfig,
): TopicConfig {
  const config: TopicConfig = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    if (name === CLEANUP_POLICY) {
      config.cleanupPolicy = parseCleanupPolicy(value);
      continue;
    }
    if (name === COMPRESSION_TYPE) {
      config.compressionType = parseCompressionType(value);
      continue;
    }
    if (name === MESSAGE_TIMESTAMP_TYPE) {
      config.messageTimestampType = parseMessageTimestampType(value);
      continue;
    }
    if (name === DELAYED_DELIVERY) {
      config.delayedDelivery = parseBoolean(name, value);
      continue;
    }
    const definition = numeric[name];
    if (definition === undefined) {
      throw new KafkaError('INVALID_CONFIG', `unknown topic config "${name}"; known: ${TOPIC_CONFIG_NAMES.join(', ')}`);
    }
    config[definition.key] = parseNumeric(name, definition, value);
  }
  if (config.minCompactionLagMs > config.maxCompactionLagMs) {
    throw new KafkaError(
      'INVALID_CONFIG',
      `min.compaction.lag.ms ${config.minCompactionLagMs} must not exceed max.compaction.lag.ms ${formatNumeric(numeric['max.compaction.lag.ms']!, config.maxCompactionLagMs)}`,
    );
  }
  return config;
}

/** Every topic config as Kafka names and string values, flagging which ones were set explicitly. */
export function describeTopicConfig(
  overrides: Readonly<Record<string, string>>,
  base: Readonly<TopicConfig> = defaultTopicConfig,
): { name: string; value: string; isDefault: boolean }[] {
  const config = resolveTopicConfig(overrides, base);
  return TOPIC_CONFIG_NAMES.map((name) => {
    const definition = numeric[name];
    const value =
      name === CLEANUP_POLICY
        ? config.cleanupPolicy
        : name === COMPRESSION_TYPE
          ? config.compressionType
          : name === MESSAGE_TIMESTAMP_TYPE
            ? config.messageTimestampType
            : name === DELAYED_DELIVERY
              ? String(config.delayedDelivery)
              : formatNumeric(definition!, config[definition!.key]);
    return { name, value, isDefault: !(name in overrides) };
  });
}

/** What a topic config accepts, as a reader would write it: the values of a choice, or the numeric range. */
export function topicConfigValidValues(name: string): string {
  if (name === CLEANUP_POLICY) return Object.values(CleanupPolicy).join(', ');
  if (name === COMPRESSION_TYPE) return Object.values(TopicCompressionType).join(', ');
  if (name === MESSAGE_TIMESTAMP_TYPE) return Object.values(MessageTimestampType).join(', ');
  if (name === DELAYED_DELIVERY) return 'true, false';
  const definition = numeric[name];
  if (definition === undefined) throw new Error(`invariant: no topic config named ${name}`);
  const max = definition.longMaxMeansNever === true ? 'Long.MAX_VALUE' : definition.max === Number.MAX_SAFE_INTEGER ? '2^53 − 1' : describeMax(definition);
  return `${definition.min} … ${max}`;
}

/**
 * The CreateTime bounds a topic enforces: `message.timestamp.before.max.ms` and `after.max.ms`, each
 * falling back to the deprecated `difference.max.ms` while left unbounded (Kafka 3.6's rule).
 */
export function effectiveTimestampBounds(config: Readonly<TopicConfig>): { beforeMaxMs: number; afterMaxMs: number } {
  const fallback = (bound: number): number => (bound < Number.MAX_SAFE_INTEGER ? bound : config.messageTimestampDifferenceMaxMs);
  return { beforeMaxMs: fallback(config.messageTimestampBeforeMaxMs), afterMaxMs: fallback(config.messageTimestampAfterMaxMs) };
}
