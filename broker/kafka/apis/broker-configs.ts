import { type BrokerConfig, defaultBrokerConfig } from '../../config.ts';
import { ConfigType, type ConfigTypeValue } from './config-resource.ts';

export interface BrokerConfigEntry {
  name: string;
  value: string;
  /** The value is the built-in default rather than one set at startup. */
  isDefault: boolean;
  type: ConfigTypeValue;
  documentation: string;
}

interface BrokerConfigDefinition {
  name: string;
  type: ConfigTypeValue;
  documentation: string;
  read: (config: Readonly<BrokerConfig>) => string;
}

/** A single node always holds the only replica of everything it stores. */
const REPLICATION_FACTOR = '1';

const definitions: readonly BrokerConfigDefinition[] = [
  { name: 'node.id', type: ConfigType.int, documentation: 'This broker\'s id in Metadata responses.', read: (c) => String(c.nodeId) },
  { name: 'broker.id', type: ConfigType.int, documentation: 'The same as node.id.', read: (c) => String(c.nodeId) },
  {
    name: 'auto.create.topics.enable',
    type: ConfigType.boolean,
    documentation: 'Whether Produce and Metadata requests create the topics they name.',
    read: (c) => String(c.autoCreateTopics),
  },
  {
    name: 'num.partitions',
    type: ConfigType.int,
    documentation: 'The partition count of topics created without one.',
    read: (c) => String(c.defaultPartitions),
  },
  {
    name: 'default.replication.factor',
    type: ConfigType.int,
    documentation: 'Always 1: a single node holds the only replica.',
    read: () => REPLICATION_FACTOR,
  },
  { name: 'log.dirs', type: ConfigType.string, documentation: 'The data directory holding every partition.', read: (c) => c.dataDir },
  {
    name: 'log.retention.check.interval.ms',
    type: ConfigType.long,
    documentation: 'How often segments past retention are deleted.',
    read: (c) => String(c.retentionCheckIntervalMs),
  },
  {
    name: 'log.cleaner.enable',
    type: ConfigType.boolean,
    documentation: 'Whether topics with cleanup.policy compact are compacted.',
    read: (c) => String(c.cleanerEnable),
  },
  {
    name: 'log.cleaner.threads',
    type: ConfigType.int,
    documentation: 'Always 1: one cleaner works through the compacted partitions, one at a time.',
    read: () => '1',
  },
  {
    name: 'log.cleaner.dedupe.buffer.size',
    type: ConfigType.long,
    documentation: 'Memory for the cleaner\'s key-to-offset map (24 bytes per key); a log with more dirty keys is cleaned in several passes.',
    read: (c) => String(c.cleanerDedupeBufferSizeBytes),
  },
  {
    name: 'log.cleaner.io.buffer.load.factor',
    type: ConfigType.double,
    documentation: 'How full the cleaner\'s offset map may get.',
    read: (c) => String(c.cleanerIoBufferLoadFactor),
  },
  {
    name: 'log.cleaner.io.buffer.size',
    type: ConfigType.int,
    documentation: 'The cleaner\'s read and write buffer size.',
    read: (c) => String(c.cleanerIoBufferSizeBytes),
  },
  {
    name: 'log.cleaner.io.max.bytes.per.second',
    type: ConfigType.double,
    documentation: 'The cleaner\'s I/O limit, bytes read plus written per second.',
    // Kafka's default, Double.MAX_VALUE, is how "no limit" reads there.
    read: (c) => (Number.isFinite(c.cleanerIoMaxBytesPerSecond) ? String(c.cleanerIoMaxBytesPerSecond) : '1.7976931348623157E308'),
  },
  {
    name: 'log.cleaner.backoff.ms',
    type: ConfigType.long,
    documentation: 'How long the cleaner sleeps when no log needs cleaning.',
    read: (c) => String(c.cleanerBackoffMs),
  },
];

/** The broker-wide configs DescribeConfigs reports (read-only: they are set when the broker starts). */
export function brokerConfigEntries(config: Readonly<BrokerConfig>): BrokerConfigEntry[] {
  return definitions.map((d) => {
    const value = d.read(config);
    return { name: d.name, value, isDefault: value === d.read(defaultBrokerConfig), type: d.type, documentation: d.documentation };
  });
}
