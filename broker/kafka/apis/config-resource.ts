import type { DescribeConfigsResponseDescribeConfigsSynonym } from '../../../sdk/protocol/mod.ts';

/** One config of a resource (topic, broker or group) as DescribeConfigs answers it, before version trimming. */
export interface DescribedConfigEntry {
  name: string;
  value: string;
  readOnly: boolean;
  source: number;
  synonyms: DescribeConfigsResponseDescribeConfigsSynonym[];
  configType: number;
  documentation: string;
}

/** Kafka's `ConfigResource.Type` codes as DescribeConfigs and AlterConfigs carry them. */
export const ConfigResourceType = { topic: 2, broker: 4, group: 32 } as const;

/** Kafka's `DescribeConfigsResponse.ConfigSource` codes (DescribeConfigs v1+, CreateTopics v5+). */
export const ConfigSource = {
  unknown: 0,
  dynamicTopicConfig: 1,
  dynamicBrokerConfig: 2,
  dynamicDefaultBrokerConfig: 3,
  staticBrokerConfig: 4,
  defaultConfig: 5,
} as const;

/** Kafka's `ConfigDef.Type` codes (DescribeConfigs v3+ `configType`). */
export const ConfigType = { boolean: 1, string: 2, int: 3, long: 5, double: 6, list: 7 } as const;
export type ConfigTypeValue = (typeof ConfigType)[keyof typeof ConfigType];

/** IncrementalAlterConfigs' `configOperation` codes. */
export const ConfigOperation = { set: 0, delete: 1, append: 2, subtract: 3 } as const;

export interface TopicConfigInfo {
  type: ConfigTypeValue;
  /** The broker-wide config that supplies the default (Kafka's synonym, e.g. `log.retention.ms`). */
  brokerSynonym: string;
  documentation: string;
}

/** What DescribeConfigs says about each topic config the broker supports, by Kafka name. */
export const TOPIC_CONFIG_INFO: Readonly<Record<string, TopicConfigInfo>> = {
  'cleanup.policy': {
    type: ConfigType.list,
    brokerSynonym: 'log.cleanup.policy',
    documentation: 'What happens to old log segments: "delete" drops them past retention, "compact" keeps the latest record per key.',
  },
  'compression.type': {
    type: ConfigType.string,
    brokerSynonym: 'compression.type',
    documentation:
      'The codec of batches the HTTP API writes (producer: the request\'s choice, uncompressed, gzip, snappy, lz4, zstd). Batches from Kafka clients are stored as sent.',
  },
  'retention.ms': {
    type: ConfigType.long,
    brokerSynonym: 'log.retention.ms',
    documentation: 'How long a segment is kept before deletion; -1 keeps segments forever.',
  },
  'retention.bytes': {
    type: ConfigType.long,
    brokerSynonym: 'log.retention.bytes',
    documentation: 'The size a partition may grow to before its oldest segments are deleted; -1 means no limit.',
  },
  'segment.bytes': {
    type: ConfigType.int,
    brokerSynonym: 'log.segment.bytes',
    documentation: 'The size at which a log segment is closed and a new one started.',
  },
  'segment.ms': {
    type: ConfigType.long,
    brokerSynonym: 'log.roll.ms',
    documentation: 'The age at which a log segment is closed and a new one started, even if not full and no record arrives, so retention and compaction reach its records.',
  },
  'max.message.bytes': {
    type: ConfigType.int,
    brokerSynonym: 'message.max.bytes',
    documentation: 'The largest record batch the topic accepts, in bytes.',
  },
  'segment.index.bytes': {
    type: ConfigType.int,
    brokerSynonym: 'log.index.size.max.bytes',
    documentation: 'The maximum size of a segment\'s offset index.',
  },
  'index.interval.bytes': {
    type: ConfigType.int,
    brokerSynonym: 'log.index.interval.bytes',
    documentation: 'How many log bytes lie between two offset index entries.',
  },
  'delete.retention.ms': {
    type: ConfigType.long,
    brokerSynonym: 'log.cleaner.delete.retention.ms',
    documentation: 'How long the cleaner keeps tombstones and transaction markers of a compacted topic after it first sees them, so readers can still see the delete.',
  },
  'min.compaction.lag.ms': {
    type: ConfigType.long,
    brokerSynonym: 'log.cleaner.min.compaction.lag.ms',
    documentation: 'The minimum time a record stays uncompacted.',
  },
  'max.compaction.lag.ms': {
    type: ConfigType.long,
    brokerSynonym: 'log.cleaner.max.compaction.lag.ms',
    documentation: 'The maximum time a record may stay uncompacted; the active segment of a compacted topic also rolls by then.',
  },
  'min.cleanable.dirty.ratio': {
    type: ConfigType.double,
    brokerSynonym: 'log.cleaner.min.cleanable.ratio',
    documentation: 'The share of the log not yet compacted at which the cleaner compacts it.',
  },
  'message.timestamp.type': {
    type: ConfigType.string,
    brokerSynonym: 'log.message.timestamp.type',
    documentation: 'CreateTime keeps the timestamps producers set; LogAppendTime stamps every produced batch with the broker\'s clock.',
  },
  'message.timestamp.difference.max.ms': {
    type: ConfigType.long,
    brokerSynonym: 'log.message.timestamp.difference.max.ms',
    documentation: 'Deprecated: the bound for both message.timestamp.before.max.ms and message.timestamp.after.max.ms where those are unbounded.',
  },
  'message.timestamp.before.max.ms': {
    type: ConfigType.long,
    brokerSynonym: 'log.message.timestamp.before.max.ms',
    documentation: 'With CreateTime, how far before the broker\'s clock a record timestamp may lie; older records are refused with INVALID_TIMESTAMP.',
  },
  'message.timestamp.after.max.ms': {
    type: ConfigType.long,
    brokerSynonym: 'log.message.timestamp.after.max.ms',
    documentation: 'With CreateTime, how far after the broker\'s clock a record timestamp may lie; later records are refused with INVALID_TIMESTAMP.',
  },
  'min.insync.replicas': {
    type: ConfigType.int,
    brokerSynonym: 'min.insync.replicas',
    documentation: 'Replicas that must hold a record before acks=all answers; a partition here has one replica, so above 1 acks=all produce fails with NOT_ENOUGH_REPLICAS.',
  },
  'flush.messages': {
    type: ConfigType.long,
    brokerSynonym: 'log.flush.interval.messages',
    documentation: 'Records between two fsyncs at most. Always met: every append is synced in the next group commit.',
  },
  'flush.ms': {
    type: ConfigType.long,
    brokerSynonym: 'log.flush.interval.ms',
    documentation: 'Time between two fsyncs at most. Always met: every append is synced in the next group commit.',
  },
  'rill.delayed.delivery': {
    type: ConfigType.boolean,
    brokerSynonym: 'rill.delayed.delivery',
    documentation:
      'Rill: records with a rill.deliver.at (epoch ms) or rill.delay.ms header reach consumers only once due. Off (the default), those headers are plain headers and records are delivered at once; turning it off leaves records already waiting to be delivered when due.',
  },
};

/** Configs whose value is a comma-separated list, the only ones APPEND and SUBTRACT apply to. */
export function isListConfig(name: string): boolean {
  return TOPIC_CONFIG_INFO[name]?.type === ConfigType.list;
}
